/**
 * `cacheExtension(options)`: validates the options when `$extends` runs,
 * builds the per-instance state, and returns a Prisma extension whose `model`
 * component overrides every read method. Overriding in the model component,
 * rather than hooking the `query` component, is what lets an in-process hit
 * skip Prisma's own request pipeline (~40 us; see docs/concepts.md).
 */
import { Prisma } from "@prisma/client/extension";
import { canonicalize } from "./keys/canonical.js";
import { shortHash } from "./keys/hash.js";
import { sharedNamespace } from "./keys/query-key.js";
import { resolveOptions } from "./options/resolve.js";
import type { CacheExtensionOptions, QueryCacheOption } from "./options/types.js";
import { globalOmit, runtimeDataModel } from "./prisma/internals.js";
import { CacheStack } from "./read/cache-stack.js";
import { ReadPath, type ModelContext } from "./read/cached-read.js";
import type { ReadOperation } from "./read/read-operations.js";
import { Counters, type CacheStats } from "./stats.js";

/** The `cache` argument every read method accepts. */
export interface CacheArgs {
  /**
   * Opt this read into the cache: `true`, `false` (opt out of a model's
   * `cacheByDefault`), or settings such as `{ ttl: 30 }`.
   */
  cache?: QueryCacheOption;
}

/** `prisma.$cache`: the runtime handle of the extension. */
export interface CacheHandle {
  /** Counters of the read path and the size of the in-process tier. */
  stats(): CacheStats;
  /** Drops every entry of this instance's in-process tier. The shared tier is untouched. */
  clearLocal(): void;
  /** Resolves when every background write to the shared tier started so far has finished. */
  settled(): Promise<void>;
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
    const counters = new Counters();
    const stack = new CacheStack(resolved, counters);
    // A schema change retires every entry written under the old data model; a
    // different global `omit` changes result shapes, so it scopes keys too.
    const namespace = sharedNamespace(resolved.prefix, shortHash(canonicalize([dataModel, globalOmit(client) ?? null])));
    const relationFields = new Map(Object.entries(dataModel.models).map(([model, { fields }]) => [model, fields.filter((f) => f.kind === "object").map((f) => f.name)]));
    const readPath = new ReadPath(resolved, stack, counters, namespace, relationFields);
    const read = (self: unknown, operation: ReadOperation, args: unknown) =>
      readPath.call(Prisma.getExtensionContext(self) as unknown as ModelContext, operation, args as Record<string, unknown> | undefined);

    const handle: CacheHandle = {
      stats: () => ({ ...counters, l1Entries: stack.memory?.size ?? 0, l1Bytes: stack.memory?.bytes ?? 0 }),
      clearLocal: () => stack.memory?.clear(),
      settled: () => stack.settled(),
    };

    return client.$extends({
      name: "prisma-query-cache",
      model: {
        $allModels: {
          findUnique<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, "findUnique"> & CacheArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findUnique">> {
            return read(this, "findUnique", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findUnique">>;
          },
          findUniqueOrThrow<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, "findUniqueOrThrow"> & CacheArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findUniqueOrThrow">> {
            return read(this, "findUniqueOrThrow", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findUniqueOrThrow">>;
          },
          findFirst<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, "findFirst"> & CacheArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findFirst">> {
            return read(this, "findFirst", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findFirst">>;
          },
          findFirstOrThrow<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, "findFirstOrThrow"> & CacheArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findFirstOrThrow">> {
            return read(this, "findFirstOrThrow", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findFirstOrThrow">>;
          },
          findMany<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, "findMany"> & CacheArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "findMany">> {
            return read(this, "findMany", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "findMany">>;
          },
          count<T, A>(this: T, args?: Prisma.Exact<A, Prisma.Args<T, "count"> & CacheArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "count">> {
            return read(this, "count", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "count">>;
          },
          aggregate<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, "aggregate"> & CacheArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "aggregate">> {
            return read(this, "aggregate", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "aggregate">>;
          },
          groupBy<T, A>(this: T, args: Prisma.Exact<A, Prisma.Args<T, "groupBy"> & CacheArgs>): Prisma.PrismaPromise<Prisma.Result<T, A, "groupBy">> {
            return read(this, "groupBy", args) as Prisma.PrismaPromise<Prisma.Result<T, A, "groupBy">>;
          },
        },
      },
      client: { $cache: handle },
    });
  });
}
