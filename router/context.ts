import type { IncomingHttpHeaders } from 'node:http';
import type { TokenVerifier } from '../src/auth/tokenVerifier.js';
import type { Clock } from '../src/clock.js';
import type { WardenConfig } from '../src/config.js';
import type { ProjectsRepository } from '../src/db/projectsRepository.js';
import type { UsersRepository } from '../src/db/usersRepository.js';
import type { TierLimits } from '../src/domain/tiers.js';
import type { Logger } from '../src/log.js';
import type { WardenMetrics } from '../src/metrics.js';
import type { JobService } from '../src/jobs/jobService.js';
import type { HotStores } from '../src/redis/hotStores.js';
import type { InspectorService } from '../src/inspector/inspectorService.js';
import type { RiskRuntime } from '../src/risk/riskRuntime.js';
import type { RegisterService } from '../src/registers/registerService.js';
import type { UserDirectory } from '../src/auth/userDirectory.js';
import type { ChatService } from '../src/chat/chatService.js';

/**
 * Everything a procedure may reach, built once by createApp and shared by every request. The job
 * runtime adds its service here (`jobs`) when it lands; routers read services, never construct them.
 */
export interface AppServices {
  config: WardenConfig;
  clock: Clock;
  log: Logger;
  metrics: WardenMetrics;
  tokens: TokenVerifier;
  users: UserDirectory;
  usersRepository: UsersRepository;
  projects: ProjectsRepository;
  stores: HotStores;
  /** The job runtime's service (createJobRuntime(...).service); absent until the runtime is plugged in. */
  jobs?: JobService;
  /** The actor inspector's read side (src/inspector/appInspector.ts); absent in contexts built without one. */
  inspector?: InspectorService;
  /** Risk signals, facts and scans (src/risk/riskRuntime.ts); absent when it is not attached. */
  risks?: RiskRuntime;
  /** Chat sessions (src/chat/chatService.ts); absent when it is not attached. */
  chat?: ChatService;
  /** Risk registers (src/registers/registerService.ts); absent when it is not attached. */
  registers?: RegisterService;
}

/** The context of every call: shared services and the raw, not yet verified, bearer token. */
export interface Context {
  services: AppServices;
  /** From `Authorization: Bearer …`, or SSE's `connectionParams.token`; null when absent. */
  token: string | null;
}

/** The caller as authedProcedure establishes it: verified token, existing user, their tier's limits. */
export interface AuthUser {
  id: string;
  role: 'admin' | 'user';
  tier: string;
  limits: TierLimits;
  tokenBudgetOverride: number | null;
}

export interface AuthedContext extends Context {
  user: AuthUser;
}

/** What the HTTP adapters hand to createContext; only the headers and SSE connection params are read. */
export interface ContextSource {
  req: { headers: IncomingHttpHeaders };
  info?: { connectionParams: Record<string, string | undefined> | null };
}

/**
 * The context factory. Deliberately synchronous and I/O-free: verification happens in authedProcedure,
 * so a public procedure pays nothing and the per-request cost is two property reads.
 */
export function createContextFactory(services: AppServices): (source: ContextSource) => Context {
  return (source) => ({ services, token: bearerToken(source) });
}

/** The token of a request: the Authorization header wins over SSE connection params. */
export function bearerToken(source: ContextSource): string | null {
  const header = source.req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? null;
  }
  const param = source.info?.connectionParams?.token;
  return typeof param === 'string' && param.length > 0 ? param : null;
}
