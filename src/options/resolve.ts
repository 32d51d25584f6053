/**
 * Raw options in, resolved options out. Every default lives here, and every
 * invalid option is rejected here, when `$extends` runs, with a message that
 * names the option and the fix.
 */
import type { ResolvedMetrics } from "../observe/metrics.js";
import type { ResolvedLogger } from "../observe/read-observer.js";
import { resolveLogger, resolveMetrics } from "./observe-options.js";
import { CacheError, invalidOption } from "../errors.js";
import { parseDuration } from "./duration.js";
import { parseByteSize } from "./size.js";
import type { ResolvedBreaker } from "../redis/breaker.js";
import { REDIS_METHODS, type RedisClientLike } from "../redis/client.js";
import type { EventSource } from "../events/event-source.js";
import type { CacheExtensionOptions, Clock, ContextValue, ExpiryOptions } from "./types.js";

/** Expiry in milliseconds, after layering global -> model -> query. */
export interface ResolvedExpiry {
  ttlMs: number;
  negativeTtlMs: number;
  /** Stale-while-revalidate window after the (jittered) ttl. */
  swrMs: number;
  /** Fraction of the ttl by which each entry's ttl may be shortened at random, in [0, 1]. */
  jitter: number;
  /** XFetch beta; 0 is off. */
  earlyRefresh: number;
  /** Query-only: serve invalidated entries within their hard expiry while refreshing. */
  staleIfInvalidated: boolean;
}

/** The cross-process single-flight lock, resolved. */
export interface ResolvedLock {
  leaseMs: number;
  waitMs: number;
}

/** Automatic admission, resolved (see read/admission.ts). */
export interface ResolvedAdmission {
  minHitRatio: number;
  window: number;
  retryAfterMs: number;
}

/** The caching advisor, resolved (see advisor/advisor.ts). */
export interface ResolvedAdvisor {
  sample: number;
  maxShapes: number;
  maxKeys: number;
}

/** A model's resolved settings. */
export interface ResolvedModel extends ResolvedExpiry {
  enabled: boolean;
  cacheByDefault: boolean;
  writeThrough: boolean;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  redis: RedisClientLike | undefined;
  l1: { maxSize: number; maxEntries: number | undefined } | undefined;
  defaults: ResolvedModel;
  models: ReadonlyMap<string, ResolvedModel>;
  context: (() => Record<string, ContextValue | undefined>) | undefined;
  prefix: string;
  redisTimeoutMs: number;
  onError: (error: CacheError) => void;
  clock: Clock;
  busLeaseMs: number;
  /** Lifetime of a tag version in Redis: longer than any configured entry TTL. */
  tagTtlMs: number;
  /**
   * Lifetime of a row's tag version (`r:`), of which there is one per row ever read: twice the longest configured
   * entry lifetime, at least an hour (docs/operations.md, "Sizing").
   */
  rowTagTtlMs: number;
  /** The cross-process lock; undefined when off (or without Redis). */
  lock: ResolvedLock | undefined;
  /** Automatic admission; undefined for `"all"` (every opted-in read is cached). */
  admission: ResolvedAdmission | undefined;
  /** The caching advisor; undefined when off. */
  advisor: ResolvedAdvisor | undefined;
  /** The event source for writes outside the client, if any. */
  events: EventSource | undefined;
  /** The circuit breaker; undefined when off (or without Redis). */
  breaker: ResolvedBreaker | undefined;
  /** Labelled metrics; undefined when off. */
  metrics: ResolvedMetrics | undefined;
  /** The logger; undefined without one. */
  logger: ResolvedLogger | undefined;
}

const DEFAULT_TTL_S = 60;
const DEFAULT_L1_MAX_SIZE = 64 * 1024 * 1024;
const DEFAULT_REDIS_TIMEOUT_MS = 250;
const DEFAULT_BUS_LEASE_MS = 1500;
const MIN_TAG_TTL_MS = 86_400_000;
const MIN_ROW_TAG_TTL_MS = 3_600_000;
const DEFAULT_JITTER = 0.1;
const DEFAULT_LOCK = { lease: 5_000, wait: 1_000 };
const DEFAULT_ADMISSION: ResolvedAdmission = { minHitRatio: 0.1, window: 50, retryAfterMs: 60_000 };
const DEFAULT_ADVISOR: ResolvedAdvisor = { sample: 1, maxShapes: 200, maxKeys: 10_000 };
const DEFAULT_BREAKER: ResolvedBreaker = { failures: 5, openForMs: 1_000 };
const KNOWN_TOP_LEVEL = new Set([
  "redis",
  "l1",
  "defaults",
  "models",
  "context",
  "prefix",
  "redisTimeout",
  "onError",
  "clock",
  "busLease",
  "lock",
  "admission",
  "advisor",
  "events",
  "breaker",
  "metrics",
  "logger",
  "logRawKeys",
]);
/** Every key of {@link ExpiryOptions}: a `Record` over the type's keys, so an expiry option cannot be left out. */
const EXPIRY_KEYS: Readonly<Record<keyof ExpiryOptions, true>> = {
  ttl: true,
  negativeTtl: true,
  swr: true,
  staleWhileRevalidate: true,
  jitter: true,
  earlyRefresh: true,
};
/**
 * The expiry option keys, accepted wherever expiry is set: `defaults`, `models.X`, a query's `cache: { ... }` and
 * `getOrSet`'s options. `layerExpiry` applies them all.
 */
export const EXPIRY_OPTION_KEYS: readonly string[] = Object.keys(EXPIRY_KEYS);
const KNOWN_MODEL = [...EXPIRY_OPTION_KEYS, "cacheByDefault", "writeThrough"];

/**
 * Validates `raw` and applies the defaults. `modelNames` are the models of the
 * client being extended, used to reject misspelt names in `models`.
 */
export function resolveOptions(raw: CacheExtensionOptions | undefined, modelNames: readonly string[]): ResolvedOptions {
  const options = raw ?? {};
  if (typeof options !== "object")
    throw invalidOption("cacheExtension(options)", `is ${typeof options}`, "Pass an options object, or nothing.");
  rejectUnknownKeys(options, KNOWN_TOP_LEVEL, "cacheExtension(options)");

  if (typeof options.defaults === "object" && options.defaults !== null) {
    rejectPerQueryOnly(options.defaults, "defaults");
    rejectUnknownKeys(options.defaults, new Set(EXPIRY_OPTION_KEYS), "defaults");
  }
  const base: ResolvedModel = {
    ...layerExpiry(
      {
        ttlMs: DEFAULT_TTL_S * 1000,
        negativeTtlMs: 0,
        swrMs: 0,
        jitter: DEFAULT_JITTER,
        earlyRefresh: 0,
        staleIfInvalidated: false,
      },
      options.defaults,
      "defaults",
    ),
    enabled: true,
    cacheByDefault: false,
    writeThrough: false,
  };

  const models = resolveModels(options.models, base, modelNames);
  const longestTtlMs = Math.max(...[base, ...models.values()].map((m) => Math.max(m.ttlMs, m.negativeTtlMs) + m.swrMs));
  const redis = resolveRedis(options.redis);
  return {
    redis,
    l1: resolveL1(options.l1, redis),
    defaults: base,
    models,
    context: resolveContext(options.context),
    prefix: resolvePrefix(options.prefix),
    redisTimeoutMs:
      options.redisTimeout === undefined
        ? DEFAULT_REDIS_TIMEOUT_MS
        : parseDuration(options.redisTimeout, "redisTimeout"),
    onError: resolveOnError(options.onError),
    clock: resolveClock(options.clock),
    busLeaseMs: options.busLease === undefined ? DEFAULT_BUS_LEASE_MS : parseDuration(options.busLease, "busLease"),
    tagTtlMs: Math.max(MIN_TAG_TTL_MS, 2 * longestTtlMs),
    rowTagTtlMs: Math.max(MIN_ROW_TAG_TTL_MS, 2 * longestTtlMs),
    // Validated even without Redis (a mistake should not wait for Redis to be configured), used only with it.
    lock: ((lock) => (redis === undefined ? undefined : lock))(resolveLock(options.lock)),
    admission: resolveAdmission(options.admission),
    advisor: resolveAdvisor(options.advisor),
    events: resolveEvents(options.events),
    breaker: ((breaker) => (redis === undefined ? undefined : breaker))(resolveBreaker(options.breaker)),
    metrics: resolveMetrics(options.metrics),
    logger: resolveLogger(options.logger, options.logRawKeys),
  };
}

/**
 * Applies one layer of expiry settings over `base`. Used for `defaults`, for
 * each model, and for each query's `cache: { ... }`.
 */
export function layerExpiry(base: ResolvedExpiry, layer: ExpiryOptions | undefined, path: string): ResolvedExpiry {
  if (layer === undefined) return base;
  if (typeof layer !== "object" || layer === null)
    throw invalidOption(path, `is ${layer === null ? "null" : typeof layer}`, "Pass an object such as { ttl: 60 }.");
  if (layer.swr !== undefined && layer.staleWhileRevalidate !== undefined) {
    throw invalidOption(`${path}.staleWhileRevalidate`, "is given together with `swr`, its alias", "Give one of them.");
  }
  const swr = layer.swr !== undefined ? layer.swr : layer.staleWhileRevalidate;
  return {
    ttlMs: layer.ttl === undefined ? base.ttlMs : parseDuration(layer.ttl, `${path}.ttl`),
    negativeTtlMs:
      layer.negativeTtl === undefined
        ? base.negativeTtlMs
        : parseDuration(layer.negativeTtl, `${path}.negativeTtl`, true),
    swrMs:
      swr === undefined
        ? base.swrMs
        : parseDuration(swr, `${path}.${layer.swr === undefined ? "staleWhileRevalidate" : "swr"}`, true),
    jitter:
      layer.jitter === undefined
        ? base.jitter
        : fraction(layer.jitter, `${path}.jitter`, 1, "Use a fraction between 0 (off) and 1, such as 0.1."),
    earlyRefresh:
      layer.earlyRefresh === undefined
        ? base.earlyRefresh
        : fraction(
            layer.earlyRefresh,
            `${path}.earlyRefresh`,
            100,
            "Use 0 (off) or a factor up to 100, such as 1 (larger refreshes earlier).",
          ),
    staleIfInvalidated: base.staleIfInvalidated,
  };
}

/** `staleIfInvalidated` gives up read-your-writes: it is accepted per query only, never as a default. */
function rejectPerQueryOnly(layer: object, path: string): void {
  if ("staleIfInvalidated" in layer) {
    throw invalidOption(
      `${path}.staleIfInvalidated`,
      "is set here, but it is a per-query option only",
      "Serving invalidated entries gives up read-your-writes: opt in on the queries that accept it, with cache: { staleIfInvalidated: true }.",
    );
  }
}

/** A finite number in [0, max], or an error naming `option`. */
function fraction(value: unknown, option: string, max: number, fix: string): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > max)
    throw invalidOption(option, `is ${typeof value === "string" ? JSON.stringify(value) : String(value)}`, fix);
  return value;
}

function resolveLock(lock: CacheExtensionOptions["lock"]): ResolvedLock | undefined {
  if (lock === false) return undefined;
  if (lock === undefined) return { leaseMs: DEFAULT_LOCK.lease, waitMs: DEFAULT_LOCK.wait };
  if (typeof lock !== "object" || lock === null || Array.isArray(lock))
    throw invalidOption(
      "lock",
      `is ${String(lock)}`,
      'Pass { lease: "5s", wait: "1s" }, or false to turn the cross-process lock off.',
    );
  rejectUnknownKeys(lock, new Set(["lease", "wait"]), "lock");
  const leaseMs = lock.lease === undefined ? DEFAULT_LOCK.lease : parseDuration(lock.lease, "lock.lease");
  const waitMs = lock.wait === undefined ? DEFAULT_LOCK.wait : parseDuration(lock.wait, "lock.wait", true);
  return { leaseMs, waitMs };
}

function resolveAdmission(admission: CacheExtensionOptions["admission"]): ResolvedAdmission | undefined {
  if (admission === undefined || admission === "all") return undefined;
  if (admission === "auto") return DEFAULT_ADMISSION;
  if (typeof admission !== "object" || admission === null || Array.isArray(admission))
    throw invalidOption(
      "admission",
      `is ${typeof admission === "string" ? JSON.stringify(admission) : String(admission)}`,
      'Pass "all" (cache every opted-in read), "auto", or { minHitRatio: 0.1, window: 50, retryAfter: "1m" }.',
    );
  rejectUnknownKeys(admission, new Set(["minHitRatio", "window", "retryAfter"]), "admission");
  const window = admission.window ?? DEFAULT_ADMISSION.window;
  if (typeof window !== "number" || !Number.isInteger(window) || window < 1)
    throw invalidOption("admission.window", `is ${String(window)}`, "Pass a whole number of reads, such as 50.");
  return {
    minHitRatio:
      admission.minHitRatio === undefined
        ? DEFAULT_ADMISSION.minHitRatio
        : fraction(admission.minHitRatio, "admission.minHitRatio", 1, "Pass a hit ratio between 0 and 1, such as 0.1."),
    window,
    retryAfterMs:
      admission.retryAfter === undefined
        ? DEFAULT_ADMISSION.retryAfterMs
        : parseDuration(admission.retryAfter, "admission.retryAfter"),
  };
}

function resolveAdvisor(advisor: CacheExtensionOptions["advisor"]): ResolvedAdvisor | undefined {
  if (advisor === undefined || advisor === false) return undefined;
  if (advisor === true) return DEFAULT_ADVISOR;
  if (typeof advisor !== "object" || advisor === null || Array.isArray(advisor))
    throw invalidOption(
      "advisor",
      `is ${typeof advisor === "string" ? JSON.stringify(advisor) : Array.isArray(advisor) ? "an array" : String(advisor)}`,
      "Pass true, false, or { sample: 0.1, maxShapes: 200, maxKeys: 10000 }.",
    );
  rejectUnknownKeys(advisor, new Set(["sample", "maxShapes", "maxKeys"]), "advisor");
  const sample =
    advisor.sample === undefined
      ? DEFAULT_ADVISOR.sample
      : fraction(advisor.sample, "advisor.sample", 1, "Pass the fraction of keys to observe, above 0 and at most 1.");
  if (sample === 0)
    throw invalidOption("advisor.sample", "is 0", "Pass a fraction above 0 (such as 0.1), or `advisor: false`.");
  return {
    sample,
    maxShapes: wholeAtLeastOne(advisor.maxShapes, "advisor.maxShapes", DEFAULT_ADVISOR.maxShapes),
    maxKeys: wholeAtLeastOne(advisor.maxKeys, "advisor.maxKeys", DEFAULT_ADVISOR.maxKeys),
  };
}

/** A whole number of at least 1, or `fallback` when not given. */
function wholeAtLeastOne(value: unknown, option: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1)
    throw invalidOption(option, `is ${String(value)}`, `Pass a whole number of at least 1, such as ${fallback}.`);
  return value;
}

function resolveBreaker(breaker: CacheExtensionOptions["breaker"]): ResolvedBreaker | undefined {
  if (breaker === false) return undefined;
  if (breaker === undefined) return DEFAULT_BREAKER;
  if (typeof breaker !== "object" || breaker === null || Array.isArray(breaker))
    throw invalidOption(
      "breaker",
      `is ${Array.isArray(breaker) ? "an array" : String(breaker)}`,
      'Pass { failures: 5, openFor: "1s" }, or false to turn the circuit breaker off.',
    );
  rejectUnknownKeys(breaker, new Set(["failures", "openFor"]), "breaker");
  const failures = breaker.failures ?? DEFAULT_BREAKER.failures;
  if (typeof failures !== "number" || !Number.isInteger(failures) || failures < 1)
    throw invalidOption(
      "breaker.failures",
      `is ${typeof failures === "string" ? JSON.stringify(failures) : String(failures)}`,
      "Use a whole number of at least 1: how many Redis operations in a row must fail before reads skip Redis.",
    );
  const openForMs =
    breaker.openFor === undefined ? DEFAULT_BREAKER.openForMs : parseDuration(breaker.openFor, "breaker.openFor");
  return { failures, openForMs };
}

function resolveModels(
  raw: CacheExtensionOptions["models"],
  base: ResolvedModel,
  modelNames: readonly string[],
): Map<string, ResolvedModel> {
  const resolved = new Map<string, ResolvedModel>();
  if (raw === undefined) return resolved;
  if (typeof raw !== "object" || raw === null)
    throw invalidOption(
      "models",
      `is ${typeof raw}`,
      "Pass an object keyed by model name, such as { User: { ttl: 300 } }.",
    );
  const known = new Set(modelNames);
  for (const [name, settings] of Object.entries(raw)) {
    if (!known.has(name)) {
      const hint = modelNames.find((m) => m.toLowerCase() === name.toLowerCase());
      throw invalidOption(
        `models.${name}`,
        "names no model of this Prisma client",
        hint
          ? `Did you mean \`${hint}\`? Model names are written as in the schema.`
          : `Known models: ${modelNames.join(", ")}.`,
      );
    }
    if (settings === false) {
      resolved.set(name, { ...base, enabled: false });
      continue;
    }
    if (typeof settings !== "object" || settings === null)
      throw invalidOption(`models.${name}`, `is ${String(settings)}`, "Pass false, or an object such as { ttl: 300 }.");
    rejectPerQueryOnly(settings, `models.${name}`);
    rejectUnknownKeys(settings, new Set(KNOWN_MODEL), `models.${name}`);
    for (const flag of ["cacheByDefault", "writeThrough"] as const) {
      if (settings[flag] !== undefined && typeof settings[flag] !== "boolean")
        throw invalidOption(`models.${name}.${flag}`, `is ${typeof settings[flag]}`, "Use true or false.");
    }
    resolved.set(name, {
      ...layerExpiry(base, settings, `models.${name}`),
      enabled: true,
      cacheByDefault: settings.cacheByDefault ?? false,
      writeThrough: settings.writeThrough ?? false,
    });
  }
  return resolved;
}

/**
 * The caller's client, checked for every method the library calls on it
 * ({@link REDIS_METHODS}): a client that lacks one would otherwise fail later,
 * at the first command that needs it, with a bare TypeError.
 */
function resolveRedis(redis: unknown): RedisClientLike | undefined {
  if (redis === undefined) return undefined;
  const fix =
    "Pass `new Redis(url)` or `new Redis.Cluster(nodes)` from the `ioredis` package (a wrapper must forward every method of RedisClientLike), or leave `redis` out to use the in-process tier only.";
  if (typeof redis !== "object" || redis === null) throw invalidOption("redis", "is not an ioredis client", fix);
  const client = redis as Record<string, unknown>;
  const missing = Object.keys(REDIS_METHODS).filter((method) => typeof client[method] !== "function");
  if (typeof client.status !== "string") missing.unshift("status");
  if (missing.length > 0) {
    throw invalidOption("redis", `is not an ioredis client: it has no ${missing.join(", ")}`, fix);
  }
  return redis as RedisClientLike;
}

function resolveL1(l1: CacheExtensionOptions["l1"], redis: RedisClientLike | undefined): ResolvedOptions["l1"] {
  if (l1 === false) {
    // Without either tier every read would go to the database, and nothing would say so.
    if (redis === undefined)
      throw invalidOption(
        "l1",
        "is false and no `redis` is given, so nothing would ever be cached",
        'Pass `redis` to use the shared tier only, or leave `l1` out (or bound it, such as { maxSize: "64mb" }) to cache in-process.',
      );
    return undefined;
  }
  if (l1 === undefined) return { maxSize: DEFAULT_L1_MAX_SIZE, maxEntries: undefined };
  if (typeof l1 !== "object" || l1 === null)
    throw invalidOption(
      "l1",
      `is ${String(l1)}`,
      'Pass { maxSize: "64mb" }, { maxEntries: 10000 }, or false to disable the in-process tier.',
    );
  rejectUnknownKeys(l1, new Set(["maxSize", "maxEntries"]), "l1");
  if (l1.maxSize === undefined && l1.maxEntries === undefined) {
    throw invalidOption(
      "l1",
      "has no bound",
      'An unbounded in-process cache grows until the process dies. Set l1.maxSize (such as "64mb") and/or l1.maxEntries.',
    );
  }
  const maxEntries = l1.maxEntries;
  if (maxEntries !== undefined && (!Number.isInteger(maxEntries) || maxEntries < 1)) {
    throw invalidOption("l1.maxEntries", `is ${String(maxEntries)}`, "Use a whole number of at least 1.");
  }
  // lru-cache needs a byte bound to size entries; without one, entries are capped by count alone.
  const maxSize = l1.maxSize === undefined ? Number.MAX_SAFE_INTEGER : parseByteSize(l1.maxSize, "l1.maxSize");
  return { maxSize, maxEntries };
}

function resolveContext(context: unknown): ResolvedOptions["context"] {
  if (context === undefined) return undefined;
  if (typeof context !== "function")
    throw invalidOption(
      "context",
      `is ${typeof context}`,
      "Pass a function returning the dimensions that shape a result, such as () => ({ tenantId: currentTenant() }).",
    );
  // An async function returns a Promise, which no read can key by: refused here rather than at every read.
  // A transpiled one is a plain function; its Promise is caught at the first read (keys/context.ts).
  const kind = (context as { constructor?: { name?: unknown } }).constructor?.name;
  if (kind === "AsyncFunction" || kind === "AsyncGeneratorFunction") {
    throw invalidOption(
      "context",
      "is an async function",
      "It is called synchronously on every cached read, and a Promise cannot be part of a key: return the dimensions themselves, read synchronously, e.g. from AsyncLocalStorage: () => ({ tenantId: als.getStore()?.tenantId }).",
    );
  }
  return context as ResolvedOptions["context"];
}

function resolvePrefix(prefix: unknown): string {
  if (prefix === undefined) return "pqc:";
  if (typeof prefix !== "string" || prefix.length === 0 || /\s/.test(prefix)) {
    throw invalidOption(
      "prefix",
      `is ${JSON.stringify(prefix)}`,
      'Use a non-empty string without spaces, such as "myapp:".',
    );
  }
  return prefix;
}

function resolveOnError(onError: unknown): ResolvedOptions["onError"] {
  if (onError === undefined) return rateLimitedWarn();
  if (typeof onError !== "function")
    throw invalidOption("onError", `is ${typeof onError}`, "Pass a function (error) => void.");
  return onError as ResolvedOptions["onError"];
}

function resolveClock(clock: unknown): Clock {
  if (clock === undefined) return { now: Date.now };
  if (typeof clock !== "object" || clock === null || typeof (clock as Clock).now !== "function") {
    throw invalidOption(
      "clock",
      "has no now() method",
      "Pass an object with a now() method returning milliseconds, or leave it out.",
    );
  }
  return clock as Clock;
}

/** The default reporter: absorbed failures must be visible, but a Redis outage must not flood the log. */
function rateLimitedWarn(): (error: CacheError) => void {
  const lastWarned = new Map<string, number>();
  return (error) => {
    const now = Date.now();
    if ((lastWarned.get(error.code) ?? -Infinity) > now - 60_000) return;
    lastWarned.set(error.code, now);
    console.warn(error.message, error.cause ?? "");
  };
}

/** Throws for any key of `value` not in `known`: a misspelt option must not be silently ignored. */
export function rejectUnknownKeys(
  value: object,
  known: ReadonlySet<string>,
  path: string,
  code: "option" | "query" = "option",
): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) {
      const message = `\`${path}.${key}\` is not an option. Known: ${[...known].join(", ")}.`;
      if (code === "query") throw new CacheError("E_INVALID_QUERY_OPTION", message);
      throw new CacheError("E_INVALID_OPTION", message);
    }
  }
}

/** The keys allowed in a read's `cache: { ... }`. */
export const QUERY_OPTION_KEYS: ReadonlySet<string> = new Set([...EXPIRY_OPTION_KEYS, "tags", "staleIfInvalidated"]);

/** The settings of `model`: its own under `models`, else the defaults. The one place a read or write looks them up. */
export function modelSettings(options: Pick<ResolvedOptions, "models" | "defaults">, model: string): ResolvedModel {
  return options.models.get(model) ?? options.defaults;
}

function resolveEvents(events: unknown): EventSource | undefined {
  if (events === undefined) return undefined;
  if (typeof events !== "object" || events === null || typeof (events as EventSource).attach !== "function")
    throw invalidOption(
      "events",
      `is ${events === null ? "null" : typeof events}, not an event source`,
      'Pass postgresEvents({ connectionString }) from "prisma-query-cache/events".',
    );
  return events as EventSource;
}
