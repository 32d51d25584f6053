/**
 * The composition root: every collaborator of one extension instance is
 * built here, in the order they depend on each other, from its resolved
 * options and what extension.ts read from the Prisma client. Nothing else
 * constructs a tier, a store, the bus, the lock or the filler, so this file
 * is where to look to see what an instance is made of.
 *
 *   versions  where tag versions live: this process (LocalVersions) or Redis with a mirror and a bus (RedisVersions)
 *   tiers     the in-process tier (L1), the Redis tier, the lock and the filler, assembled into the CacheStack
 *   read      the request scope and the read path over the stack
 *   write     the invalidator, transaction tags and write-through: what the write side (write/write-hooks.ts) calls
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { CacheError } from "./errors.js";
import { InvalidationBus } from "./invalidation/bus.js";
import { checkEvictionPolicy } from "./invalidation/eviction-policy.js";
import { Invalidator } from "./invalidation/invalidator.js";
import { joinLocalGroup } from "./invalidation/local-group.js";
import { VersionMirror } from "./invalidation/version-mirror.js";
import { LocalVersions, RedisVersions, type VersionSource } from "./invalidation/version-source.js";
import { RedisVersionStore } from "./invalidation/version-store.js";
import type { ResolvedOptions } from "./options/resolve.js";
import { CacheStack } from "./read/cache-stack.js";
import { Filler } from "./read/filler.js";
import { ReadPath } from "./read/read-path.js";
import { RequestScope } from "./read/request-scope.js";
import { Metrics } from "./observe/metrics.js";
import { ReadObserver } from "./observe/read-observer.js";
import { Reporter } from "./report.js";
import type { SchemaGraph } from "./schema/schema-graph.js";
import { Counters } from "./stats.js";
import { L1Tier } from "./tiers/l1-tier.js";
import { CircuitBreaker } from "./redis/breaker.js";
import { ScriptRunner } from "./redis/scripts.js";
import { ServerIdentity } from "./redis/server-identity.js";
import { QUERY_TAG_BUCKETS } from "./read/query-tags.js";
import { RedisLock } from "./tiers/redis-lock.js";
import { RedisTier } from "./tiers/redis-tier.js";
import { BatchInvalidations } from "./write/batch-invalidations.js";
import { TransactionTags } from "./write/transaction-tags.js";
import type { WriteSide } from "./write/write-hooks.js";
import { WriteThrough } from "./write/write-through.js";
import { Advisor } from "./advisor/advisor.js";
import { MISS_OVERHEAD_MS } from "./advisor/advisor-report.js";

/** What the composition needs to know of the client (read through Prisma's internals by extension.ts). */
export interface ClientFacts {
  /** The schema's models and relations, parsed from the client's inline schema. */
  readonly graph: SchemaGraph;
  /** Redis key-name namespace: prefix, format version and data-model hash. */
  readonly namespace: string;
  /** Relation field names per model, for the fluent API. */
  readonly relationFields: ReadonlyMap<string, readonly string[]>;
}

/** One extension instance's state: what extension.ts hands to Prisma and to `$cache`. */
export interface CacheInstance {
  readonly counters: Counters;
  readonly report: (error: CacheError) => void;
  readonly versions: VersionSource;
  readonly invalidator: Invalidator;
  /** Tags of the interactive transactions in progress, bumped at their commit. */
  readonly transactions: TransactionTags;
  readonly stack: CacheStack;
  readonly requestScope: RequestScope;
  readonly readPath: ReadPath;
  /** What the write side's `query` component calls. */
  readonly writeSide: WriteSide;
  /** The circuit breaker in front of Redis, when on (with Redis). */
  readonly breaker: CircuitBreaker | undefined;
  /** Stops the advisor hearing invalidations (`close()`); undefined without `advisor`. */
  readonly stopAdvisor: (() => void) | undefined;
  /** Told each read's outcome; holds the metrics `$cache.metrics()` reads. */
  readonly observer: ReadObserver;
}

/** Builds every collaborator of one extension instance. */
export function composeCache(resolved: ResolvedOptions, client: ClientFacts): CacheInstance {
  const counters = new Counters();
  const metrics = new Metrics(resolved.metrics, resolved.clock.now());
  const observer = new ReadObserver(metrics, resolved.logger, resolved.clock);
  const { report } = new Reporter(resolved.onError, counters, observer);
  const l1 = resolved.l1 ? new L1Tier(resolved.l1, (reason) => metrics.evicted(reason)) : undefined;

  // Tag versions: in this process only, or in Redis with a mirror, a bus and (optionally) the single-flight lock.
  let versions: VersionSource;
  let redis: RedisTier | undefined;
  let lock: RedisLock | undefined;
  let breaker: CircuitBreaker | undefined;
  if (resolved.redis === undefined) {
    // Instances on one prefix in this process invalidate each other, as they would through Redis.
    versions = new LocalVersions(joinLocalGroup(resolved.prefix, l1));
  } else {
    const mirror = new VersionMirror(() => l1?.clear());
    const settings = resolved.breaker;
    // Opening forgets the mirror and the in-process tier: nothing held while Redis failed is served unconfirmed.
    breaker =
      settings &&
      new CircuitBreaker(settings, resolved.redisTimeoutMs, (failures) => {
        mirror.reset();
        report(
          new CacheError(
            "E_REDIS",
            `circuit breaker opened: ${failures} Redis operations in a row failed or took longer than redisTimeout (${resolved.redisTimeoutMs} ms). Reads go to the database without asking Redis, and nothing is served from the in-process tier, until a probe after ${settings.openForMs} ms succeeds; writes still send their invalidations.`,
          ),
        );
      });
    const scripts = new ScriptRunner(resolved.redis, resolved.redisTimeoutMs, breaker);
    const bus = new InvalidationBus(resolved.redis, scripts, resolved.prefix, resolved.busLeaseMs, mirror, report);
    bus.heard = (tags) => observer.invalidated("bus", tags);
    const store = new RedisVersionStore(
      scripts,
      resolved.prefix,
      mirror,
      { tagMs: resolved.tagTtlMs, rowMs: resolved.rowTagTtlMs },
      () =>
        // Versions read from Redis are recorded in the mirror only while it is trusted, and only if no reset happened
        // since the read was sent (see RedisVersionStore).
        versions.hearsEveryInvalidation() ? mirror.generation : undefined,
      report,
    );
    // A restored or promoted server's entries must be dead before the tier serves any (not covered on a Cluster).
    const identity =
      resolved.redis.isCluster === true
        ? undefined
        : new ServerIdentity(
            resolved.redis,
            scripts,
            `${resolved.prefix}bus:server`,
            Array.from({ length: QUERY_TAG_BUCKETS }, (_, bucket) => store.keyOf(`q:${bucket}`)),
            report,
            () => mirror.reset(),
          );
    versions = new RedisVersions(store, mirror, bus, breaker, identity);
    redis = new RedisTier(resolved.redis, resolved.redisTimeoutMs, breaker, identity);
    // With automatic admission, a key's first read keeps its entry out of Redis unless a reader waits for it.
    if (resolved.lock !== undefined) lock = new RedisLock(scripts, resolved.lock, resolved.admission !== undefined);
    bus.start();
    void checkEvictionPolicy(resolved.redis, report);
  }

  const filler = new Filler(resolved.clock, redis, lock, report, counters, observer);
  const stack = new CacheStack({
    clock: resolved.clock,
    counters,
    l1,
    redis,
    versions,
    lock,
    filler,
    report,
    observer,
    ...(redis === undefined ? {} : { redisTimeoutMs: resolved.redisTimeoutMs }),
  });
  // Scope entries follow the same rule as in-process ones: reused only while this instance hears every invalidation.
  const requestScope = new RequestScope(versions, counters, observer);
  const advisor =
    resolved.advisor &&
    new Advisor(
      resolved.advisor,
      () => resolved.clock.now(),
      report,
      resolved.redis === undefined ? MISS_OVERHEAD_MS.inProcess : MISS_OVERHEAD_MS.redis,
    );
  // The advisor hears every invalidation this instance hears; `close()` stops it (a group's mirror outlives one member).
  const stopAdvisor = advisor === undefined ? undefined : versions.mirror.listen(advisor);
  const readPath = new ReadPath(
    resolved,
    stack,
    counters,
    client.namespace,
    client.relationFields,
    client.graph,
    requestScope,
    observer,
    advisor,
  );

  const invalidator = new Invalidator(versions.store, versions.mirror, versions.bus, report, observer);
  const transactions = new TransactionTags((tags) => invalidator.invalidate(tags));
  const writeThrough = [...resolved.models.values()].some((model) => model.writeThrough)
    ? new WriteThrough(client.graph, resolved, readPath, stack, versions)
    : undefined;
  // Per instance: one client's rawWrites must not narrow another client's raw writes.
  const rawWriteTags = new AsyncLocalStorage<readonly string[]>();
  const writeSide: WriteSide = {
    graph: client.graph,
    transactions,
    writeThrough,
    invalidator,
    requestScope,
    report,
    rawWriteTags,
    batches: new BatchInvalidations(),
  };

  return {
    counters,
    report,
    versions,
    invalidator,
    transactions,
    stack,
    requestScope,
    readPath,
    writeSide,
    breaker,
    stopAdvisor,
    observer,
  };
}
