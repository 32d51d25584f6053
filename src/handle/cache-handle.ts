/**
 * `prisma.$cache`: the runtime handle of the extension. Statistics, local
 * clearing, the tag API (explicit invalidation by tag, model or query),
 * declared raw writes, cached raw queries with explicit tags, computation
 * caching (`getOrSet`), request scopes, and shutdown.
 */
import type { AsyncLocalStorage } from "node:async_hooks";
import { CacheError } from "../errors.js";
import type { Invalidator } from "../invalidation/invalidator.js";
import type { VersionSource } from "../invalidation/version-source.js";
import type { CircuitBreaker } from "../redis/breaker.js";
import { parseDuration } from "../options/duration.js";
import type { Duration } from "../options/duration.js";
import type { ResolvedExpiry } from "../options/resolve.js";
import type { FullMetricsSnapshot } from "../observe/metrics.js";
import { INFO, newReadInfo, type ReadInfo } from "../observe/read-info.js";
import type { ReadObserver } from "../observe/read-observer.js";
import type { CacheStack } from "../read/cache-stack.js";
import { CachedQuery } from "../read/cached-query.js";
import { queryTag } from "../read/query-tags.js";
import type { ReadPath } from "../read/read-path.js";
import type { ShapeAdmission } from "../read/admission.js";
import type { AdvisorReport } from "../advisor/advisor-report.js";
import { Computations, type GetOrSetOptions } from "../read/computation.js";
import type { RequestScope, ScopeMiddleware } from "../read/request-scope.js";
import { READ_OPERATIONS, type ReadOperation } from "../prisma/operations.js";
import type { SchemaGraph, SchemaModel } from "../schema/schema-graph.js";
import type { CacheStats, Counters } from "../stats.js";
import type { EventSubscription } from "../events/event-source.js";
import { validateTags, wholeModelTags } from "../tags/tag-names.js";
import { DEFAULT_READY_TIMEOUT_MS, waitReady, type CacheReadiness } from "./readiness.js";

/** What to invalidate: custom tags and/or whole models. */
export interface InvalidationTarget {
  /** Custom tags, as given in `cache: { tags }` on reads. */
  tags?: readonly string[];
  /** Model names as in the schema (`User`): every cached read touching them. */
  models?: readonly string[];
}

/** The keys of an {@link InvalidationTarget}. */
const TARGET_KEYS: ReadonlySet<string> = new Set(["tags", "models"]);

/** `prisma.$cache`. */
export interface CacheHandle {
  /** Counters of the read path, invalidations, and the size of the in-process tier. */
  stats(): CacheStats;
  /**
   * A reading of every metric: the global counters, and, with `metrics: true`, counters per model, operation and
   * query-shape group, latency and size histograms, hot keys and shapes; always, evictions by reason and
   * invalidations by cause. Cheap enough to poll every few seconds (it copies counters; no I/O). See
   * docs/observability.md.
   */
  metrics(): FullMetricsSnapshot;
  /**
   * Runs one read and says how it was answered: `{ data, info }`, where `info` says which tier answered (`scope`,
   * `l1`, `l2`, `db` or `bypass`), whether the entry was stale, its age, the query's shape group and tags. Pass the
   * read itself, not awaited: `await prisma.$cache.withInfo(prisma.user.findUnique({ where, cache: true }))`.
   * Other reads pay nothing for it. A read the cache never saw (no opt-in, inside a transaction) is `bypass`.
   */
  withInfo<T>(read: PromiseLike<T>): Promise<{ data: T; info: ReadInfo }>;
  /** Drops every entry of this instance's in-process tier. The shared tier is untouched. */
  clearLocal(): void;
  /** Resolves when every background write to the shared tier started so far has finished. */
  settled(): Promise<void>;
  /**
   * Resolves once the in-process tier is in use, or after `timeout` at the
   * latest, whatever Redis does: an application that awaits it at start-up
   * starts even with Redis down. With Redis, the tier is in use once the
   * invalidation bus heard its first heartbeat (a few milliseconds after
   * start); until then reads use Redis and the database only. Never rejects
   * (except for an invalid `timeout`: `E_INVALID_OPTION`).
   *
   * @param options.timeout the longest wait (a duration) @default "2s"
   * @returns `{ redis: "connected" }`, `{ redis: "none" }` without Redis, or
   *   `{ redis: "unavailable", reason }` when the bound passed first (also
   *   reported as `E_REDIS`); the tier then starts by itself once Redis answers.
   *   With `events`, it also waits, within the same bound, until the listener's
   *   first LISTEN succeeded (Postgres answered).
   */
  ready(options?: { timeout?: Duration }): Promise<CacheReadiness>;
  /**
   * Invalidates every cached read depending on the given tags or models, on
   * every instance. Resolves when no instance can serve them any more.
   * @throws CacheError `E_INVALID_TAG` for an empty or malformed tag, or a target naming neither `tags` nor
   *   `models` (`{}`, a misspelt key); `E_INVALID_OPTION` for an unknown model. `{ tags: [] }` is accepted and does
   *   nothing
   */
  invalidate(target: InvalidationTarget): Promise<void>;
  /** Shorthand for `invalidate({ models })`. */
  invalidateModels(models: readonly string[]): Promise<void>;
  /**
   * Invalidates the entry of one query, as built in the current context:
   * `invalidateQuery("User", "findUnique", { where: { id: 1 } })`.
   * @throws CacheError `E_INVALID_OPTION` for an unknown model or an operation that is never cached
   */
  invalidateQuery(model: string, operation: ReadOperation, args?: Record<string, unknown>): Promise<void>;
  /**
   * The dependency tags of one query, as built in the current context: its query tag first (`q:<bucket>`, what
   * `invalidateQuery` bumps; about 1 query in 256 shares it), then the tags the data model gives it (`m:`, `r:`,
   * `rs:`, `j:`; see docs/invalidation.md), then its custom tags. For seeing what a read depends on and which writes
   * re-read it. Undefined when the read cannot be keyed in this context (a missing context dimension, reported).
   * @throws CacheError `E_INVALID_OPTION` for an unknown model or an operation that is never cached
   */
  tagsOf(model: string, operation: ReadOperation, args?: Record<string, unknown>): string[] | undefined;
  /**
   * Automatic admission's decision for every query shape it measured (`admission: "auto"`): whether the shape's reads
   * are cached now, its last window's hit ratio, and when a shape taken out of the cache is measured again. Empty
   * with `admission: "all"`.
   */
  admission(): ShapeAdmission[];
  /**
   * The caching advisor's table (`advisor: true`): per query shape of the reads that are NOT cached, the hit ratio
   * and database time caching them would give, the mean entry size and a suggested `ttl`, with an advice (`cache`,
   * `maybe`, `skip`, `wait`). Shapes carry no argument values. `{ enabled: false, rows: [] }` without `advisor`.
   * See docs/advisor.md.
   */
  advisor(): AdvisorReport;
  /**
   * Runs `fn`, in which raw writes (`$executeRaw`, `$executeRawUnsafe`)
   * invalidate only `target` instead of every model. A target naming neither
   * `tags` nor `models` rejects (`E_INVALID_TAG`); `{ tags: [] }` says on
   * purpose that they change nothing cached.
   */
  rawWrites<T>(target: InvalidationTarget, fn: () => Promise<T>): Promise<T>;
  /**
   * A cached raw query. Raw SQL cannot be analysed, so its dependencies are
   * the tags and models you name (at least one); writes to those models, or
   * invalidation of those tags, invalidate it.
   */
  queryRaw<T = unknown>(
    query: { sql: string; values: readonly unknown[] },
    options: InvalidationTarget & { ttl?: Duration },
  ): Promise<T>;
  /**
   * Computation caching: the value cached under `key`, or, when there is
   * none, what `fn` returns (then cached on the same tiers as reads, with the
   * same rules). `fn` runs only on a miss:
   *
   * ```ts
   * const report = await prisma.$cache.getOrSet(`report:${id}`, () => buildReport(id), { ttl: "5m", models: ["Order"]
   * });
   * ```
   *
   * - The key is `key` with, by default, the extension's `context`
   *   dimensions (`options.context`), the declared `tags` and `models`.
   * - `fn` throwing: the error reaches the caller unchanged; nothing is cached.
   * - `fn` returning `undefined`: returned, never cached, and `E_UNCACHEABLE`
   *   reported. Return `null` to cache "nothing" (for `negativeTtl`).
   * - `null` and empty arrays are negative results, cached only for
   *   `negativeTtl` (0, not cached, by default), as for reads.
   * - Every call gets its own copy of the value: plain objects, arrays,
   *   `Date`s and byte arrays are copied; other instances (`Decimal`, `Map`,
   *   `Set`) are shared between copies, so return plain data.
   *   Values reach Redis through superjson (plain data, `Date`, `BigInt`,
   *   `Decimal`, `Uint8Array` and other typed arrays, `Map`, `Set`, `RegExp`,
   *   `URL`); a value holding anything else (a function, a symbol, an
   *   instance of your class, an `Error`, a cycle) is returned but stored in
   *   neither tier, and `E_SERIALIZE` is reported naming what and where.
   *
   * Options (all optional): `ttl`, `negativeTtl`, `swr` / `staleWhileRevalidate`,
   * `jitter` and `earlyRefresh` layer over the extension's `defaults` as a
   * query's `cache: { ... }` does; `tags` and `models` are the dependencies (a
   * write to a named model, or invalidation of a named tag, kills the entry);
   * `context` is `true` (default: the extension's dimensions), `false`
   * (shared by every context) or an object of extra dimensions. See
   * {@link GetOrSetOptions}.
   *
   * @param key non-empty string naming the value (with the context and declared dependencies, its identity)
   * @param fn  computes the value on a miss; may return a promise
   * @returns a promise of the cached or computed value. It rejects with CacheError
   *   `E_INVALID_KEY` (empty or non-string key), `E_INVALID_OPTION` (`fn` not a
   *   function, an unknown or invalid option, an unknown model) or `E_INVALID_TAG`
   *   (a bad tag), and with whatever `fn` throws.
   */
  getOrSet<T>(key: string, fn: () => T | PromiseLike<T>, options?: GetOrSetOptions): Promise<T>;
  /**
   * Runs `fn` in a request scope and resolves with its result. Inside it,
   * identical reads outside a transaction (same model, operation, arguments
   * and context) cause one load: concurrent ones share it, later ones are
   * served from the scope, each caller getting its own copy. This includes
   * reads without `cache` (those are never answered by the shared tiers) but
   * not models configured `false`. An entry is reused only while no
   * invalidation of what it read has been heard (a write through any
   * instance), so it never serves data a resolved write changed. Errors are
   * never kept; a scope keeps at most 10,000 entries and ends with `fn`.
   * Called inside a scope, `fn` runs in that same scope.
   *
   * ```ts
   * await prisma.$cache.scope(async () => renderPage(await loadUser(id), await loadUser(id))); // one query
   * ```
   */
  scope<T>(fn: () => Promise<T> | T): Promise<T>;
  /**
   * A middleware running each request in a fresh scope (see {@link CacheHandle.scope}):
   * `app.use(prisma.$cache.middleware())` (Express, or Node's `http` as
   * `(req, res, next)`) or `fastify.addHook("onRequest", prisma.$cache.middleware())`.
   */
  middleware(): ScopeMiddleware;
  /**
   * Leaves the invalidation bus (so other instances' writes stop waiting for
   * this one) and stops serving from the in-process tier. Your Redis client
   * stays open: it is yours. Call it before quitting that client: called
   * after, it sends nothing on the ended client and reports `E_REDIS` (other
   * instances' writes may then wait for this one until its `busLease` ends).
   *
   * Nothing promised is dropped: a transaction still open invalidates at its
   * commit, a failed bump is still retried, and writes made after `close()`
   * (or still waiting) invalidate every instance, waiting out their leases
   * (up to `busLease`) since this one no longer hears acknowledgements.
   */
  close(): Promise<void>;
}

/** Everything the handle reaches. */
export interface HandleParts {
  graph: SchemaGraph;
  counters: Counters;
  stack: CacheStack;
  readPath: ReadPath;
  invalidator: Invalidator;
  /** The extension's resolved expiry defaults (for `getOrSet`). */
  defaults: ResolvedExpiry;
  requestScope: RequestScope;
  /** The tags `rawWrites` declares, read by this instance's write side (write/write-hooks.ts). */
  rawWriteTags: AsyncLocalStorage<readonly string[]>;
  /** The event source (the `events` option), if there is one. */
  events?: EventSubscription | undefined;
  /** Runs a raw query through the client below the cache. */
  rawQuery(query: { sql: string; values: readonly unknown[] }): Promise<unknown>;
  close(): Promise<void>;
  /** The circuit breaker in front of Redis, when on. */
  breaker?: CircuitBreaker | undefined;
  /** Where tag versions live; `ready()` waits for it. */
  versions: VersionSource;
  /** Holds the metrics. */
  observer: ReadObserver;
  /** The clock the metrics are read at. */
  now: () => number;
}

/** A model name the client does not have: an invalid argument of a `$cache` call, not a malformed tag. */
function unknownModel(graph: SchemaGraph, where: string, model: unknown): CacheError {
  return new CacheError(
    "E_INVALID_OPTION",
    `${where} names \`${String(model)}\`, which is no model of this Prisma client. Model names are written as in the schema. Known models: ${[...graph.models.keys()].join(", ")}.`,
  );
}

/** Builds `prisma.$cache`. */
export function createCacheHandle(parts: HandleParts): CacheHandle {
  const { graph, counters, stack, readPath, invalidator } = parts;
  const tagsOf = (target: InvalidationTarget, where: string): string[] => {
    if (typeof target !== "object" || target === null)
      throw new CacheError("E_INVALID_TAG", `${where} takes { tags?, models? }.`);
    const tags = target.tags === undefined ? [] : validateTags(target.tags, `${where}.tags`);
    for (const model of target.models ?? []) {
      if (!graph.models.has(model)) throw unknownModel(graph, `${where}.models`, model);
      tags.push(...wholeModelTags(graph.models.get(model) as SchemaModel));
    }
    return [...new Set(tags)]; // a join table's tag comes from both of its models
  };
  /**
   * The tags of what `invalidate` or `rawWrites` is told to target. A target
   * naming neither tags nor models (`{}`, or a misspelt key) would resolve
   * having done nothing, so it is refused; explicit empty lists are not.
   */
  const targetTags = (target: InvalidationTarget, where: string): string[] => {
    if (typeof target === "object" && target !== null) {
      const unknown = Object.keys(target).find((key) => !TARGET_KEYS.has(key));
      if (unknown !== undefined)
        throw new CacheError(
          "E_INVALID_TAG",
          `${where}: \`${unknown}\` is not a key of the target, which takes { tags?, models? }.`,
        );
      if (target.tags === undefined && target.models === undefined) {
        throw new CacheError(
          "E_INVALID_TAG",
          `${where}({}) names no tags and no models, so it would invalidate nothing. Pass { tags: ["..."] } and/or { models: ["User"] }; to drop this instance's in-process entries, call clearLocal().`,
        );
      }
    }
    return tagsOf(target, where);
  };
  /** Refuses a model or an operation no read of which is ever cached. */
  const checkRead = (where: string, model: string, operation: string): void => {
    if (!graph.models.has(model)) throw unknownModel(graph, where, model);
    if (!READ_OPERATIONS.includes(operation as ReadOperation))
      throw new CacheError(
        "E_INVALID_OPTION",
        `${where}: \`${operation}\` is not a cacheable operation (${READ_OPERATIONS.join(", ")}).`,
      );
  };
  const computations = new Computations({
    readPath,
    defaults: parts.defaults,
    declaredTags: tagsOf,
    report: stack.report,
  });
  const stats = (): CacheStats => ({
    ...counters,
    invalidations: invalidator.bumps,
    l1Entries: stack.l1?.size ?? 0,
    l1Bytes: stack.l1?.bytes ?? 0,
    eventsHeard: parts.events?.heard ?? 0,
    eventConnects: parts.events?.connects ?? 0,
    breaker: parts.breaker?.state ?? "off",
    breakerOpens: parts.breaker?.opened ?? 0,
    breakerSkips: parts.breaker?.skipped ?? 0,
  });
  const handle: CacheHandle = {
    stats,
    metrics: () => parts.observer.metrics.snapshot(stats(), parts.now()),
    withInfo: async <T>(read: PromiseLike<T>) => {
      const info = newReadInfo();
      // Set before the read runs (it is lazy): the tiers report into it as they answer.
      if (read instanceof CachedQuery) read[INFO] = info;
      const data = await read;
      return { data, info };
    },
    clearLocal: () => stack.l1?.clear(),
    settled: () => stack.settled(),
    ready: async (options) => {
      const timeoutMs =
        options?.timeout === undefined
          ? DEFAULT_READY_TIMEOUT_MS
          : parseDuration(options.timeout, "ready({ timeout })");
      const [readiness] = await Promise.all([
        waitReady(parts.versions, timeoutMs, stack.report),
        parts.events && withinBound(parts.events.ready(), timeoutMs),
      ]);
      return readiness;
    },
    invalidate: async (target) => void (await invalidator.invalidate(targetTags(target, "invalidate"), "api")),
    invalidateModels: async (models) =>
      void (await invalidator.invalidate(targetTags({ models }, "invalidateModels"), "api")),
    invalidateQuery: async (model, operation, args) => {
      checkRead("invalidateQuery", model, operation);
      const key = readPath.keyOf(model, operation, args);
      if (key !== undefined) await invalidator.invalidate([queryTag(key)], "api");
    },
    admission: () => readPath.admissionReport(),
    advisor: () => readPath.advisorReport(),
    tagsOf: (model, operation, args) => {
      checkRead("tagsOf", model, operation);
      return readPath.storedTagsOf(model, operation, args);
    },
    // Awaited inside the scope: `() => prisma.$executeRaw\`...\`` returns a lazy Prisma promise,
    // which would otherwise run after the declared tags went out of scope.
    rawWrites: async (target, fn) => parts.rawWriteTags.run(targetTags(target, "rawWrites"), async () => await fn()),
    queryRaw: async <T>(
      query: { sql: string; values: readonly unknown[] },
      options: InvalidationTarget & { ttl?: Duration },
    ) => {
      const tags = tagsOf(options, "queryRaw");
      if (tags.length === 0)
        throw new CacheError(
          "E_INVALID_TAG",
          "queryRaw needs at least one tag or model: raw SQL cannot be analysed, so its dependencies must be named.",
        );
      const ttlMs = options.ttl === undefined ? undefined : parseDuration(options.ttl, "queryRaw.ttl");
      return readPath.readRaw(query, tags, ttlMs, () => parts.rawQuery(query)) as Promise<T>;
    },
    getOrSet: (key, fn, options) => computations.getOrSet(key, fn, options),
    scope: (fn) => parts.requestScope.run(fn),
    middleware: () => parts.requestScope.middleware(),
    close: parts.close,
  };
  return handle;
}

/** Resolves when `promise` settles or after `ms`, whichever comes first (never rejects; the timer does not hold the process). */
function withinBound(promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    promise.then(done, done);
  });
}
