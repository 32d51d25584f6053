/**
 * `cacheExtension(options)`: validates the options when `$extends` runs,
 * reads what it needs of the client, has compose.ts build the per-instance
 * state, and returns two stacked extensions:
 *
 *   1. the write side, a `query` component that invalidates what each
 *      mutation can have changed (write/write-hooks.ts);
 *   2. the read side, a `model` component that overrides every read method
 *      (and, for their types only, the write methods), plus `prisma.$cache`.
 *
 * Overriding reads in the model component, rather than hooking the `query`
 * component, is what lets an in-process hit skip Prisma's own request
 * pipeline (its cost is in docs/benchmarks.md; why it matters, in docs/concepts.md).
 */
import { Prisma } from "@prisma/client/extension";
import { composeCache } from "./compose.js";
import { canonicalize } from "./keys/canonical.js";
import { shortHash } from "./keys/hash.js";
import { sharedNamespace } from "./keys/query-key.js";
import { resolveOptions } from "./options/resolve.js";
import type { CacheExtensionOptions, QueryCacheOption, WriteCacheSettings } from "./options/types.js";
import { guardedExtends } from "./prisma/extension-order.js";
import { globalOmit, inlineSchema, modelProperty, observeTransactions, runtimeDataModel } from "./prisma/internals.js";
import type { ModelContext } from "./read/read-path.js";
import type { ReadOperation, WriteOperation } from "./prisma/operations.js";
import { parseSchemaGraph } from "./schema/schema-graph.js";
import { createCacheHandle, type CacheHandle } from "./handle/cache-handle.js";
import { writeQueryComponent } from "./write/write-hooks.js";

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
    // Attached first, so that a bad `events` option throws before anything starts; it hears nothing before the
    // cache below exists (its connection opens asynchronously).
    const events = resolved.events?.attach({
      graph,
      invalidate: (tags) => cache.invalidator.invalidate(tags, "event"),
      report: (error) => cache.report(error),
    });
    const cache = composeCache(resolved, {
      graph,
      // A schema change retires every entry written under the old data model; a
      // different global `omit` changes result shapes, so it scopes keys too.
      namespace: sharedNamespace(resolved.prefix, shortHash(canonicalize([dataModel, globalOmit(client) ?? null]))),
      relationFields: new Map(
        Object.entries(dataModel.models).map(([model, { fields }]) => [
          model,
          fields.filter((f) => f.kind === "object").map((f) => f.name),
        ]),
      ),
    });
    const { readPath, transactions, versions } = cache;
    const stopObserving = observeTransactions(client, transactions);

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

    const withWrites = client.$extends({
      name: "prisma-query-cache/writes",
      query: writeQueryComponent(cache.writeSide),
    });
    const handle: CacheHandle = createCacheHandle({
      graph,
      counters: cache.counters,
      stack: cache.stack,
      readPath,
      invalidator: cache.invalidator,
      defaults: resolved.defaults,
      requestScope: cache.requestScope,
      rawWriteTags: cache.writeSide.rawWriteTags,
      events,
      breaker: cache.breaker,
      versions,
      observer: cache.observer,
      now: () => resolved.clock.now(),
      rawQuery: (query) => (withWrites as unknown as { $queryRaw(query: unknown): Promise<unknown> }).$queryRaw(query),
      close: async () => {
        // A transaction still open commits after this: its tags must still be bumped then (contract item 3).
        void transactions.drained().then(stopObserving);
        // Failed bumps are still retried (their timer does not keep the process alive): dropping them would leave
        // other instances serving what they invalidated until ttl.
        await events?.close();
        await versions.close();
        cache.stopAdvisor?.();
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
