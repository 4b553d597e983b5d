# Warden on Node 20, built and run as production code. `docker compose up --build` runs it against the
# Redis and PostgreSQL of docker-compose.yml.
FROM node:20-slim

WORKDIR /app

# Every dependency first (the build needs TypeScript), so that a code change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

# Compile to dist/ (with the Lua scripts, SQL migrations and inspector page copied beside the code),
# then drop the dev dependencies: the image runs plain `node`, without tsx. (typescript itself stays in
# node_modules, unused: @trpc/server declares it as a peer dependency, and npm installs peers.)
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000

EXPOSE 3000
USER node
# node itself, not npm: SIGTERM reaches Warden directly and starts its graceful shutdown.
# Tokens: docker compose exec warden node dist/src/cli/token.js --user alice --tier partner
CMD ["node", "dist/src/main.js"]
