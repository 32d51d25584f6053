/**
 * Lua scripts on the caller's ioredis client: EVALSHA, loading the script on
 * NOSCRIPT (a restarted or failed-over server forgets scripts), every call
 * bounded by the Redis timeout.
 */
import { withTimeout } from "../tiers/timeout.js";

/** The ioredis surface the scripts need (a `Redis` or `Cluster`). */
export interface ScriptingRedis {
  readonly isCluster?: boolean;
  mget(...keys: string[]): Promise<(string | null)[]>;
  evalsha(sha: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  script(subcommand: "LOAD", script: string): Promise<unknown>;
}

/** SHA1 of each script once loaded. Scripts live server-wide, so every runner shares them; a server that lost one says NOSCRIPT. */
const shas = new Map<string, string>();

/** Runs Lua scripts. */
export class ScriptRunner {
  readonly redis: ScriptingRedis;
  readonly timeoutMs: number;

  constructor(redis: ScriptingRedis, timeoutMs: number) {
    this.redis = redis;
    this.timeoutMs = timeoutMs;
  }

  /** Runs `script` with `keys` and `args`; `what` names it in timeout and failure messages. */
  run(script: string, keys: readonly string[], args: readonly string[], what: string): Promise<unknown> {
    return withTimeout(this.#call(script, keys, args), this.timeoutMs, what);
  }

  async #call(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const sha = shas.get(script);
    if (sha !== undefined) {
      try {
        return await this.redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (error) {
        if (!String((error as Error)?.message).includes("NOSCRIPT")) throw error;
      }
    }
    const loaded = String(await this.redis.script("LOAD", script));
    shas.set(script, loaded);
    return this.redis.evalsha(loaded, keys.length, ...keys, ...args);
  }
}
