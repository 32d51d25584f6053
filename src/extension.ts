/**
 * `cacheExtension(options)`: validates the options when `$extends` runs,
 * builds the per-instance state, and returns two stacked extensions:
 *
 *   1. the write side, a `query` component that invalidates what each
 *      mutation can have changed (write/write-hooks.ts);
 *   2. the read side, a `model` component that overrides every read method
 *      (and, for their types only, the write methods), plus `prisma.$cache`.
 *
 * Overriding reads in the model component, rather than hooking the `query`
 * component, is what lets an in-process hit skip Prisma's own request
 * pipeline (~17-50 us; see docs/concepts.md).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Prisma } from "@prisma/client/extension";
import { Invalidator } from "./invalidation/invalidator.js";
import { InvalidationBus } from "./invalidation/bus.js";
import { checkEvictionPolicy } from "./invalidation/eviction-policy.js";
import { VersionMirror } from "./invalidation/version-mirror.js";
import { joinLocalGroup } from "./invalidation/local-group.js";
import { RedisVersionStore } from "./invalidation/version-store.js";
import { canonicalize } from "./keys/canonical.js";
import { shortHash } from "./keys/hash.js";
import { sharedNamespace } from "./keys/query-key.js";
import { resolveOptions } from "./options/resolve.js";
import type { CacheExtensionOptions, QueryCacheOption, WriteCacheSettings } from "./options/types.js";
import { guardedExtends } from "./prisma/extension-order.js";
import { globalOmit, inlineSchema, modelProperty, observeTransactions, runtimeDataModel } from "./prisma/internals.js";
import { CacheStack, type VersionSource } from "./read/cache-stack.js";
import { ReadPath, type ModelContext } from "./read/cached-read.js";
import type { ReadOperation } from "./read/read-operations.js";
import { RequestScope } from "./read/request-scope.js";
import { ScriptRunner } from "./redis/scripts.js";
import { Reporter } from "./report.js";
import { parseSchemaGraph } from "./schema/schema-graph.js";
import { Counters } from "./stats.js";
import { MemoryTier } from "./tiers/memory-tier.js";
import { RedisLock } from "./tiers/redis-lock.js";
import { createCacheHandle, type CacheHandle } from "./handle/cache-handle.js";
import { TransactionTags } from "./write/transaction-tags.js";
import { writeQueryComponent, type WriteOperation, type WriteSide } from "./write/write-hooks.js";
import { WriteThrough } from "./write/write-through.js";

/** The `cache` argument every read method accepts. */
export interface CacheArgs {
  /**
   * Opt this read into the cache: `true`, `false` (opt out of a model's
   * `cacheByDefault`), or settings such as `{ ttl: 30, tags: ["ranking"] }`.
   */
  cache?: QueryCacheOption;
}

/** The `cache` argument every write method accepts. */
export interface WriteCacheArgs {
  /** Extra tags this write invalidates: `{ invalidates: ["ranking"] }`. */
  cache?: WriteCacheSettings;
}

/**
 * Creates the cache extension. Use it as `prisma.$extends(cacheExtension(options))`,
 * as the **last** extension: a miss calls the client below this extension, so
 * query extensions applied after it would not see cached reads' misses.
 *
 * @throws CacheError `E_INVALID_OPTION` when an option is invalid, naming it and the fix
 */
export function cacheExtension(options?: CacheExtensionOptions) {
  return Prisma.defineExtension((client) => {
    const dataModel = runtimeDataModel(client);
    const resolved = resolveOptions(options, Object.keys(dataModel.models));
    const graph = parseSchemaGraph(inlineSchema(client));
    const counters = new Counters();
    const { report } = new Reporter(resolved.onError, counters);

    // Tag versions: in Redis with a mirror and a bus, or in this process only.
    const memory = resolved.l1 && new MemoryTier(resolved.l1);
    let mirror: VersionMirror;
    let versions: VersionSource;
    let lock: RedisLock | undefined;
    if (resolved.redis === undefined) {
      // Instances on one prefix in this process invalidate each other, as they would through Redis.
      const store = joinLocalGroup(resolved.prefix, memory || undefined);
      mirror = store.mirror;
      versions = { kind: "local", store };
    } else {
      mirror = new VersionMirror(() => memory?.clear());
      const scripts = new ScriptRunner(resolved.redis, resolved.redisTimeoutMs);
      const bus = new InvalidationBus(resolved.redis, scripts, resolved.prefix, resolved.busLeaseMs, mirror, report);
      const store = new RedisVersionStore(scripts, resolved.prefix, mirror, resolved.tagTtlMs, () =>
        bus.healthy() ? mirror.generation : undefined,
      );
      versions = { kind: "redis", store, bus };
      if (resolved.lock !== undefined) lock = new RedisLock(scripts, resolved.lock);
      bus.start();
      void checkEvictionPolicy(resolved.redis, report);
    }
    const invalidator = new Invalidator(
      versions.store,
      mirror,
      versions.kind === "redis" ? versions.bus : undefined,
      report,
    );
    const invalidate = (tags: Iterable<string>) => invalidator.invalidate(tags);
    const transactions = new TransactionTags(invalidate);
    const stopObserving = observeTransactions(client, transactions);

    const stack = new CacheStack(resolved, counters, memory, mirror, versions, report, invalidator.unbumped, lock);
    // A schema change retires every entry written under the old data model; a
    // different global `omit` changes result shapes, so it scopes keys too.
    const namespace = sharedNamespace(
      resolved.prefix,
      shortHash(canonicalize([dataModel, globalOmit(client) ?? null])),
    );
    const relationFields = new Map(
      Object.entries(dataModel.models).map(([model, { fields }]) => [
        model,
        fields.filter((f) => f.kind === "object").map((f) => f.name),
      ]),
    );
    // Scope entries follow the same rule as in-process ones: reused only while this instance hears every invalidation.
    const hearing = versions.kind === "local" ? () => true : versions.bus.healthy.bind(versions.bus);
    const requestScope = new RequestScope({ mirror, hearing }, counters);
    const readPath = new ReadPath(resolved, stack, counters, namespace, relationFields, graph, requestScope);
    const read = (self: unknown, operation: ReadOperation, args: unknown) =>
      readPath.call(
        Prisma.getExtensionContext(self) as unknown as ModelContext,
        operation,
        args as Record<string, unknown> | undefined,
      );
    // Writes pass straight through to the write side below, which strips `cache` and invalidates.
    const write = (self: unknown, operation: WriteOperation, args: unknown) => {
      const context = Prisma.getExtensionContext(self) as unknown as ModelContext;
      const delegate = context.$parent[modelProperty(context.$name)] as Record<string, (args: unknown) => unknown>;
      return (delegate[operation] as (args: unknown) => unknown).call(delegate, args);
    };

    const rawWriteTags = new AsyncLocalStorage<readonly string[]>();
    const writeSide: WriteSide = {
      graph,
      transactions,
      invalidate,
      report,
      forgetScoped: (tags) => requestScope.forget(tags),
      rawWriteTags,
    };
    if ([...resolved.models.values()].some((model) => model.writeThrough))
      writeSide.writeThrough = new WriteThrough(graph, resolved, readPath, stack, versions);
    const withWrites = client.$extends({ name: "prisma-query-cache/writes", query: writeQueryComponent(writeSide) });
    const handle: CacheHandle = createCacheHandle({
      graph,
      counters,
      stack,
      readPath,
      invalidator,
      defaults: resolved.defaults,
      requestScope,
      rawWriteTags,
      rawQuery: (query) => (withWrites as unknown as { $queryRaw(query: unknown): Promise<unknown> }).$queryRaw(query),
      close: async () => {
        // A transaction still open commits after this: its tags must still be bumped then (contract item 3).
        void transactions.drained().then(stopObserving);
        // Failed bumps are still retried (their timer does not keep the process alive): dropping them would leave
        // other instances serving what they invalidated until ttl.
        if (versions.kind === "redis") await versions.bus.close();
      },
    });

    return withWrites.$extends({
      name: "prisma-query-cache",
      model: {
        $allModels: {
          findUnique<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "findUnique"> & CacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "findUnique">> {
            return read(this, "findUnique", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findUnique">>;
          },
          findUniqueOrThrow<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "findUniqueOrThrow"> & CacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "findUniqueOrThrow">> {
            return read(this, "findUniqueOrThrow", args) as Prisma.PrismaPromise<
              Prisma.Result<T, A, "findUniqueOrThrow">
            >;
          },
          findFirst<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "findFirst"> & CacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "findFirst">> {
            return read(this, "findFirst", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findFirst">>;
          },
          findFirstOrThrow<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "findFirstOrThrow"> & CacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "findFirstOrThrow">> {
            return read(this, "findFirstOrThrow", args) as Prisma.PrismaPromise<
              Prisma.Result<T, A, "findFirstOrThrow">
            >;
          },
          findMany<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "findMany"> & CacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "findMany">> {
            return read(this, "findMany", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findMany">>;
          },
          count<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "count"> & CacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "count">> {
            return read(this, "count", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "count">>;
          },
          aggregate<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "aggregate"> & CacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "aggregate">> {
            return read(this, "aggregate", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "aggregate">>;
          },
          groupBy<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "groupBy"> & CacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "groupBy">> {
            return read(this, "groupBy", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "groupBy">>;
          },
          create<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "create"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "create">> {
            return write(this, "create", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "create">>;
          },
          createMany<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "createMany"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "createMany">> {
            return write(this, "createMany", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "createMany">>;
          },
          createManyAndReturn<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "createManyAndReturn"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "createManyAndReturn">> {
            return write(this, "createManyAndReturn", args) as Prisma.PrismaPromise<
              Prisma.Result<T, A, "createManyAndReturn">
            >;
          },
          update<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "update"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "update">> {
            return write(this, "update", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "update">>;
          },
          updateMany<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "updateMany"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "updateMany">> {
            return write(this, "updateMany", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "updateMany">>;
          },
          updateManyAndReturn<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "updateManyAndReturn"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "updateManyAndReturn">> {
            return write(this, "updateManyAndReturn", args) as Prisma.PrismaPromise<
              Prisma.Result<T, A, "updateManyAndReturn">
            >;
          },
          upsert<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "upsert"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "upsert">> {
            return write(this, "upsert", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "upsert">>;
          },
          delete<T, A>(
            this: T,
            args: Prisma.Exact<A, Prisma.Args<T, "delete"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "delete">> {
            return write(this, "delete", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "delete">>;
          },
          deleteMany<T, A>(
            this: T,
            args?: Prisma.Exact<A, Prisma.Args<T, "deleteMany"> & WriteCacheArgs>,
          ): Prisma.PrismaPromise<Prisma.Result<T, A, "deleteMany">> {
            return write(this, "deleteMany", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "deleteMany">>;
          },
        },
      },
      client: clientComponent(
        handle,
        guardedExtends(
          (withWrites as unknown as { $extends: Parameters<typeof guardedExtends>[0] }).$extends,
          Object.keys(dataModel.models),
        ),
      ),
    });
  });
}

/**
 * The cached client's own members: `$cache`, and (untyped, so Prisma's own
 * `$extends` type stays) a `$extends` that refuses extensions the cache
 * would bypass (prisma/extension-order.ts).
 */
function clientComponent(handle: CacheHandle, $extends: ReturnType<typeof guardedExtends>): { $cache: CacheHandle } {
  const members = { $cache: handle };
  Object.defineProperty(members, "$extends", { value: $extends, enumerable: true });
  return members;
}
