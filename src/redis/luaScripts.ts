import { readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';

/**
 * Every Lua script Warden runs, read from ./scripts once per process and defined once per connection
 * with `defineCommand` (ioredis then sends EVALSHA and falls back to EVAL after a SCRIPT FLUSH or a
 * restart). Each script's header lists its KEYS, ARGV and replies.
 */
const SCRIPT_FILES = {
  initJob: 1,
  applyTransition: 3,
  applyTransitions: 'variable',
  admitJob: 1,
  refundJob: 1,
  addTokens: 1,
  enqueueJob: 2,
  recordDuration: 1,
  claimJob: 6,
  renewClaim: 5,
  releaseClaim: 6,
  reclaimExpired: 3,
  requeueOrphan: 3,
  restoreCounter: 1,
} as const satisfies Record<string, number | 'variable'>;

export type ScriptName = keyof typeof SCRIPT_FILES;
type KeyCount<N extends ScriptName> = (typeof SCRIPT_FILES)[N];
type Tuple<N extends number, T, Acc extends T[] = []> = Acc['length'] extends N ? Acc : Tuple<N, T, [...Acc, T]>;

/** Runs one script: its KEYS (exactly as many as the script declares, or any number) and ARGV; the raw reply. */
export type ScriptRunner<N extends ScriptName> = (
  keys: KeyCount<N> extends number ? Tuple<KeyCount<N>, string> : readonly string[],
  args: readonly (string | number)[],
) => Promise<unknown>;

type AnyKeysRunner = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

export type WardenScripts = { readonly [N in ScriptName]: ScriptRunner<N> };

const sources = new Map<ScriptName, string>();
function source(name: ScriptName): string {
  let lua = sources.get(name);
  if (lua === undefined) {
    lua = readFileSync(new URL(`./scripts/${name}.lua`, import.meta.url), 'utf8');
    sources.set(name, lua);
  }
  return lua;
}

const defined = new WeakMap<Redis, WardenScripts>();

/** The scripts on this connection, defined on first use; later calls return the same runners. */
export function loadScripts(redis: Redis): WardenScripts {
  const known = defined.get(redis);
  if (known) return known;
  const runners: Partial<Record<ScriptName, AnyKeysRunner>> = {};
  for (const name of Object.keys(SCRIPT_FILES) as ScriptName[]) {
    // Namespaced so a script can never shadow an ioredis built-in command method.
    const command = `warden_${name}`;
    const keyCount: number | 'variable' = SCRIPT_FILES[name];
    // Without numberOfKeys, ioredis takes the key count as the first argument.
    redis.defineCommand(command, keyCount === 'variable' ? { lua: source(name) } : { numberOfKeys: keyCount, lua: source(name) });
    const method: unknown = Reflect.get(redis, command);
    if (typeof method !== 'function') throw new Error(`ioredis did not define the ${command} command`);
    runners[name] = async (keys, args) => {
      const head = keyCount === 'variable' ? [String(keys.length)] : [];
      const reply: unknown = await Reflect.apply(method, redis, [...head, ...keys, ...args.map(String)]);
      return reply;
    };
  }
  // Every name was filled in by the loop above.
  const scripts: WardenScripts = runners as Record<ScriptName, AnyKeysRunner>;
  defined.set(redis, scripts);
  return scripts;
}
