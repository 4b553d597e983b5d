import { chatRouter } from './chat.router.js';
import { inspectorRouter } from './inspector.router.js';
import { jobsRouter } from './jobs.router.js';
import { projectsRouter } from './projects.router.js';
import { registersRouter } from './registers.router.js';
import { risksRouter } from './risks.router.js';
import { router } from './trpc.js';
import { usageRouter } from './usage.router.js';

/**
 * The whole API: one router nesting the domain routers. Procedure paths are `<domain>.<name>`
 * (`projects.create`, `usage.get`, …); clients import only `type AppRouter`.
 *
 * Seams: the job runtime adds `jobs: jobsRouter` (router/jobs.router.ts), the risk module
 * `risks: risksRouter`, and so on — one line each here, nothing else in the HTTP layer changes.
 */
export const appRouter = router({
  projects: projectsRouter,
  jobs: jobsRouter,
  usage: usageRouter,
  risks: risksRouter,
  registers: registersRouter,
  inspector: inspectorRouter,
  chat: chatRouter,
});

export type AppRouter = typeof appRouter;
