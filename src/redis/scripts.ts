/**
 * Lua scripts on the caller's ioredis client: EVALSHA, and EVAL when the node
 * answers NOSCRIPT, every call bounded by the Redis timeout.
 *
 * A node's script cache is its own: a restart or a failover forgets it, and
 * on a Cluster each master has one. So a script is never loaded ahead with
 * `SCRIPT LOAD` (which a Cluster client sends to a random master, not to the
 * one that serves the script's keys); EVAL, routed by key like EVALSHA, runs
 * it on the right node and caches it there for the EVALSHAs that follow.
 */
import { createHash } from "node:crypto";
import type { OperationOutcome } from "./breaker.js";
import type { ScriptingRedis } from "./client.js";
import type { ReadBudget } from "./read-budget.js";
import { withTimeout } from "./timeout.js";

/** SHA1 of each script: the name Redis caches it under, computed here once. */
const shas = new Map<string, string>();

function shaOf(script: string): string {
  let sha = shas.get(script);
  if (sha === undefined) {
    sha = createHash("sha1").update(script).digest("hex");
    shas.set(script, sha);
  }
  return sha;
}

/** Runs Lua scripts. */
export class ScriptRunner {
  readonly redis: ScriptingRedis;
  readonly timeoutMs: number;
  /** Hears whether Redis answered each operation (the instance's circuit breaker), when there is one. */
  readonly outcome: OperationOutcome | undefined;

  constructor(redis: ScriptingRedis, timeoutMs: number, outcome?: OperationOutcome) {
    this.redis = redis;
    this.timeoutMs = timeoutMs;
    this.outcome = outcome;
  }

  /**
   * Runs `script` with `keys` and `args`; `what` names it in timeout and failure messages. `budget`: the read it is
   * part of (see read-budget.ts).
   */
  run(
    script: string,
    keys: readonly string[],
    args: readonly string[],
    what: string,
    budget?: ReadBudget,
  ): Promise<unknown> {
    return withTimeout(this.#call(script, keys, args), this.timeoutMs, what, this.outcome, budget);
  }

  async #call(script: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(shaOf(script), keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).includes("NOSCRIPT")) throw error;
    }
    // This node does not have it yet (first use, a restart, a failover, another Cluster master).
    return this.redis.eval(script, keys.length, ...keys, ...args);
  }
}
