/**
 * The read path of one model method call, in order:
 *   1. bypass: no opt-in, a disabled model, or inside a transaction -> the original method;
 *   2. otherwise a lazy CachedQuery that, when awaited, builds the key
 *      (model, operation, arguments, context) and reads through the tiers.
 */
import type { Prisma } from "@prisma/client/extension";
import { CacheError } from "../errors.js";
import { queryKey, type QueryKey } from "../keys/query-key.js";
import type { ResolvedExpiry, ResolvedOptions } from "../options/resolve.js";
import { isTransactionClient } from "../prisma/internals.js";
import type { Counters } from "../stats.js";
import type { CacheStack } from "./cache-stack.js";
import { CachedQuery, cachedQueryClassFor, DESCRIPTION, LOAD, TAGS, withoutCacheOption, type CachedReadRunner, type DelegateMethod, type QueryDescription } from "./cached-query.js";
import { planRead, type ReadPlan } from "./query-plan.js";
import type { ReadOperation } from "./read-operations.js";
import type { SchemaGraph } from "../schema/schema-graph.js";
import { readTags } from "../tags/read-tags.js";

/** What a model extension method sees of Prisma through `getExtensionContext(this)`. */
export interface ModelContext {
  readonly $name: string;
  readonly $parent: Record<string, Record<string, DelegateMethod>>;
}

/**
 * What one model object (`prisma.user`, or `tx.user` inside a transaction)
 * resolves to. Model objects are stable per client, so this is computed once
 * per object rather than through Prisma's proxies on every call.
 */
interface ModelBinding {
  readonly delegate: Record<string, DelegateMethod>;
  /** CachedQuery, or its subclass with the model's fluent relation methods. */
  readonly queryClass: typeof CachedQuery;
  readonly inTransaction: boolean;
  readonly cacheByDefault: boolean;
}

/** The read path of one extension instance. */
export class ReadPath implements CachedReadRunner {
  readonly #bindings = new WeakMap<ModelContext, ModelBinding>();

  constructor(
    private readonly options: ResolvedOptions,
    private readonly stack: CacheStack,
    private readonly counters: Counters,
    /** Redis key-name namespace: prefix, format version and data-model hash. */
    private readonly namespace: string,
    /** Relation field names per model, for the fluent API. */
    private readonly relationFields: ReadonlyMap<string, readonly string[]>,
    private readonly graph: SchemaGraph,
  ) {}

  readonly #queryClasses = new Map<string, typeof CachedQuery>();

  /** Runs one read method call: from the cache when it opted in, from the original method otherwise. */
  call(context: ModelContext, operation: ReadOperation, args: Record<string, unknown> | undefined): Prisma.PrismaPromise<unknown> {
    const binding = this.#bind(context);
    const delegate = binding.delegate;
    const method = delegate[operation] as DelegateMethod;
    const cacheOption = args?.cache;
    if (cacheOption === undefined && !binding.cacheByDefault) {
      // The common uncached call: hand the arguments through untouched.
      this.counters.bypassed++;
      return method.call(delegate, args);
    }
    let plan;
    try {
      plan = planRead(this.options, context.$name, cacheOption);
    } catch (error) {
      // Prisma reports invalid arguments when the promise is awaited, not at the call; so do we.
      return rejected(error, () => method.call(delegate, withoutCacheOption(args)));
    }
    if (plan === undefined || binding.inTransaction) {
      this.counters.bypassed++;
      return method.call(delegate, withoutCacheOption(args));
    }
    // The arguments still hold `cache`: the key leaves it out, and it is stripped only if the database is asked.
    return new binding.queryClass(this, context.$name, operation, args, plan, delegate, method) as unknown as Prisma.PrismaPromise<unknown>;
  }

  #bind(context: ModelContext): ModelBinding {
    let binding = this.#bindings.get(context);
    if (binding === undefined) {
      const parent = context.$parent;
      binding = {
        delegate: parent[modelProperty(context.$name)] as Record<string, DelegateMethod>,
        inTransaction: isTransactionClient(parent),
        queryClass: this.#queryClass(context.$name),
        cacheByDefault: this.options.models.get(context.$name)?.cacheByDefault === true,
      };
      this.#bindings.set(context, binding);
    }
    return binding;
  }

  #queryClass(model: string): typeof CachedQuery {
    let queryClass = this.#queryClasses.get(model);
    if (queryClass === undefined) {
      queryClass = cachedQueryClassFor(this.relationFields.get(model) ?? []);
      this.#queryClasses.set(model, queryClass);
    }
    return queryClass;
  }

  countBypass(): void {
    this.counters.bypassed++;
  }

  /** Called when a CachedQuery is awaited. */
  run(query: CachedQuery): Promise<unknown> {
    const description = query[DESCRIPTION];
    const key = this.#key(description);
    if (key !== undefined) return this.stack.read(key, description.plan.expiry, query);
    this.counters.bypassed++;
    return query[LOAD]();
  }

  tagsOf(query: QueryDescription): readonly string[] {
    const derived = readTags(this.graph, query.model, query.operation, withoutCacheOption(query.args));
    return query.plan.customTags.length === 0 ? derived : [...derived, ...query.plan.customTags];
  }

  /**
   * A cached raw query: keyed by its SQL and values, depending on the tags
   * the caller named (raw SQL cannot be analysed).
   */
  readRaw(query: { sql: string; values: readonly unknown[] }, tags: readonly string[], ttlMs: number | undefined, load: () => Promise<unknown>): Promise<unknown> {
    const expiry = ttlMs === undefined ? this.options.defaults : { ...this.options.defaults, ttlMs };
    return this.readDeclared({ model: "$raw", operation: "queryRaw", args: { sql: query.sql, values: [...query.values] } }, tags, expiry, load);
  }

  /**
   * A cached value whose dependencies the caller declares (`queryRaw`,
   * `getOrSet`): keyed by `what`, the declared `tags` and, unless
   * `withContext` is false, the context dimensions; it depends on `tags`
   * only. When it cannot be keyed (a missing context dimension, reported),
   * `load` runs uncached.
   *
   * @param what   a pseudo-model (`$raw`, `$computation`), never a model name, so it cannot share a key with a model read
   * @param withContext false keys it without the `context` dimensions: one entry shared by every context
   */
  readDeclared(what: { model: string; operation: string; args: Record<string, unknown> }, tags: readonly string[], expiry: ResolvedExpiry, load: () => Promise<unknown>, withContext = true): Promise<unknown> {
    // The declared tags are part of the key: the same SQL or computation declared with other dependencies is another entry.
    const key = this.#key({ ...what, operation: what.operation as ReadOperation, plan: { expiry, customTags: tags } }, withContext);
    if (key === undefined) return load();
    return this.stack.read(key, expiry, { [TAGS]: () => tags, [LOAD]: load });
  }

  /** The key of a read in the current context, or undefined when it cannot be keyed (reported). */
  keyOf(model: string, operation: ReadOperation, args: Record<string, unknown> | undefined): QueryKey | undefined {
    // The arguments may carry the read's `cache` option: its custom tags are part of the key.
    const customTags = (args?.cache as { tags?: unknown } | undefined)?.tags;
    return this.#key({ model, operation, args, plan: Array.isArray(customTags) ? { expiry: this.options.defaults, customTags: customTags as string[] } : undefined });
  }

  /**
   * The key of a read, or undefined (reported) when it cannot be keyed safely: the read then goes to the database.
   * `withContext: false` leaves the context dimensions out (a declared read shared by every context).
   */
  #key(query: Pick<QueryDescription, "model" | "operation" | "args"> & { plan?: ReadPlan }, withContext = true): QueryKey | undefined {
    let dimensions: Record<string, unknown> | undefined;
    if (withContext && this.options.context !== undefined) {
      try {
        dimensions = this.options.context();
      } catch (error) {
        this.stack.report(new CacheError("E_CONTEXT", `the \`context\` function threw; ${query.model}.${query.operation} was served uncached (from the database, or for a computation from its function).`, error));
        return undefined;
      }
      const missing = missingDimension(dimensions);
      if (missing !== undefined) {
        this.stack.report(
          new CacheError(
            "E_CONTEXT",
            `context dimension \`${missing}\` is undefined; ${query.model}.${query.operation} was served uncached (from the database, or for a computation from its function), rather than under a key shared across contexts. Make \`context\` return a value (or null) for every dimension.`,
          ),
        );
        return undefined;
      }
    }
    try {
      // Custom tags change what an entry depends on, so reads with different ones must not share it.
      const customTags = query.plan?.customTags;
      return queryKey(this.namespace, query.model, query.operation, query.args, dimensions, customTags !== undefined && customTags.length > 0 ? customTags : undefined);
    } catch (error) {
      this.stack.report(error as CacheError);
      return undefined;
    }
  }
}

function rejected(error: unknown, original: () => Prisma.PrismaPromise<unknown>): Prisma.PrismaPromise<unknown> {
  const runner: CachedReadRunner = { run: () => Promise.reject(error), countBypass: () => undefined, tagsOf: () => [] };
  const plan = { expiry: { ttlMs: 0, negativeTtlMs: 0, swrMs: 0, jitter: 0, earlyRefresh: 0, staleIfInvalidated: false }, customTags: [] };
  const query = new CachedQuery(runner, "", "findMany", undefined, plan, undefined, () => original());
  return query as unknown as Prisma.PrismaPromise<unknown>;
}

/** The first dimension whose value is `undefined` (missing), or a description of a context that is no object; undefined when none is missing. */
export function missingDimension(dimensions: Record<string, unknown> | undefined): string | undefined {
  if (typeof dimensions !== "object" || dimensions === null) return "(the context object itself)";
  for (const key in dimensions) if (dimensions[key] === undefined) return key;
  return undefined;
}


/** `User` -> `user`: the client property of a model, as Prisma derives it. */
export function modelProperty(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}
