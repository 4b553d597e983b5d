# Warden on Node 20. `docker compose up` runs it against the Redis and PostgreSQL of docker-compose.yml.
FROM node:20-slim

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. Dev dependencies are kept: the
# server runs TypeScript through tsx (`npm start`), and `npm run token` works inside the container.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000

EXPOSE 3000
USER node
CMD ["npm", "start"]
