/**
 * Start-up check of the Redis eviction policy. Evictions never make a read
 * stale: a lost tag version is re-initialised from the server clock, larger
 * than any it had, so eviction of versions costs misses (docs/invalidation.md).
 * `noeviction` with a `maxmemory` is the dangerous policy: once full, Redis
 * refuses every write, version bumps included, while it still serves
 * entries, so other instances may serve what a write changed until ttl
 * (docs/consistency.md).
 *
 * The extension is usually created before its client has connected. The
 * check waits for the client to be ready (bounded), so that a client still
 * connecting is not taken for a server that refuses CONFIG; when it cannot
 * tell, it says why, with Redis's own answer.
 */
import { CacheError } from "../errors.js";
import type { ConfigRedis } from "../redis/client.js";

/** How long the check waits for the client to connect, and then for each CONFIG GET. */
export interface PolicyCheckBounds {
  readyMs: number;
  commandMs: number;
}

const DEFAULT_BOUNDS: PolicyCheckBounds = { readyMs: 10_000, commandMs: 5_000 };

/** Replies of a server (or an ACL) that refuses the command itself, as opposed to a connection failure. */
const REFUSED = /unknown command|NOPERM|no permissions|not allowed|disabled/i;

/** Reports `E_REDIS_POLICY` when the policy will stop the cache from filling; says so, and why, when it cannot tell. */
export async function checkEvictionPolicy(
  redis: unknown,
  report: (error: CacheError) => void,
  bounds: PolicyCheckBounds = DEFAULT_BOUNDS,
): Promise<void> {
  const client = redis as Partial<ConfigRedis>;
  if (typeof client.config !== "function") return;
  const configGet = client.config.bind(client);
  // A lazy client (`lazyConnect`, status "wait") connects at its first command, which may come much later: it is
  // waited for without a bound, rather than connected by this check or reported as down.
  const readiness = await untilReady(client as ConfigRedis, client.status === "wait" ? undefined : bounds.readyMs);
  // Quit by its owner before it connected: nothing to check, and nobody to tell.
  if (readiness === "ended") return;
  if (readiness === "timeout") {
    report(
      new CacheError(
        "E_REDIS_POLICY",
        `could not read the Redis eviction policy: Redis was not connected after ${bounds.readyMs} ms (status ${String(client.status)}); skipping the check. volatile-lru or allkeys-lru is recommended.`,
      ),
    );
    return;
  }
  try {
    const config = (parameter: string) =>
      bounded(
        configGet("GET", parameter),
        bounds.commandMs,
        `CONFIG GET ${parameter} got no answer within ${bounds.commandMs} ms`,
      );
    const policy = pairValue(await config("maxmemory-policy"));
    const maxmemory = Number(pairValue(await config("maxmemory")) ?? 0);
    if (policy === "noeviction" && maxmemory > 0) {
      report(
        new CacheError(
          "E_REDIS_POLICY",
          `Redis has maxmemory ${maxmemory} with maxmemory-policy noeviction: once full it refuses every write, tag-version bumps included, while it still serves entries: other instances may then serve data a write changed until ttl, and the shared tier stops filling. Use volatile-lru or allkeys-lru (entries and tag versions both carry TTLs; evicting either is safe).`,
        ),
      );
    }
  } catch (error) {
    const reply = error instanceof Error ? error.message : String(error);
    // Managed services often disable CONFIG; the check is advisory. Any other failure is said as it is.
    const why = REFUSED.test(reply)
      ? `this Redis does not allow CONFIG GET (${reply})`
      : `CONFIG GET failed (${reply})`;
    report(
      new CacheError(
        "E_REDIS_POLICY",
        `could not read the Redis eviction policy: ${why}; skipping the check. volatile-lru or allkeys-lru is recommended.`,
        error,
      ),
    );
  }
}

/**
 * Resolves once `client` is ready, or ended (quit by its owner), or after
 * `ms` (never, when undefined). Only `ready` and `end` listeners, removed
 * afterwards: an `error` listener would change how the owner's client
 * reports its own errors.
 */
async function untilReady(client: ConfigRedis, ms: number | undefined): Promise<"ready" | "ended" | "timeout"> {
  if (client.status === "ready") return "ready";
  if (client.status === "end") return "ended";
  if (typeof client.once !== "function") return "ready"; // Not an event emitter: let the command say what it can.
  let settle!: (outcome: "ready" | "ended" | "timeout") => void;
  const outcome = new Promise<"ready" | "ended" | "timeout">((resolve) => (settle = resolve));
  const onReady = () => settle("ready");
  const onEnd = () => settle("ended");
  client.once("ready", onReady);
  client.once("end", onEnd);
  // Unreferenced: a check still waiting must not keep the process alive.
  const timer = ms === undefined ? undefined : setTimeout(() => settle("timeout"), ms);
  timer?.unref();
  try {
    return await outcome;
  } finally {
    clearTimeout(timer);
    client.off("ready", onReady);
    client.off("end", onEnd);
  }
}

/**
 * `operation`, or a rejection with `message` after `ms`. Once per start-up: a timer of its own (unreferenced) is cheap
 * here.
 */
function bounded<T>(operation: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
    timer.unref();
  });
  return Promise.race([operation, timeout]).finally(() => clearTimeout(timer));
}

/** CONFIG GET replies [name, value] (or, in RESP3, a map). */
function pairValue(reply: unknown): string | undefined {
  if (Array.isArray(reply)) return reply[1] === undefined ? undefined : String(reply[1]);
  if (typeof reply === "object" && reply !== null) return String(Object.values(reply)[0]);
  return undefined;
}
