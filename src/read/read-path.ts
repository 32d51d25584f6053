/**
 * The read path of one model method call, in order:
 *   1. bypass: no opt-in, a disabled model, or inside a transaction -> the original method,
 *      except that a read without opt-in inside a request scope becomes a "scope only" CachedQuery;
 *   2. otherwise a lazy CachedQuery that, when awaited, builds the key
 *      (model, operation, arguments, context) and reads through the request
 *      scope when there is one, then the tiers (scope-only reads: the database).
 */
import type { Prisma } from "@prisma/client/extension";
import { CacheError } from "../errors.js";
import { contextDimensions, isThenable, keyFailure, thenableContext, type KeyedRead } from "../keys/context.js";
import { queryKey, type QueryKey } from "../keys/query-key.js";
import { modelSettings, type ResolvedExpiry, type ResolvedOptions } from "../options/resolve.js";
import { isTransactionClient, modelProperty } from "../prisma/internals.js";
import { INFO } from "../observe/read-info.js";
import type { ReadObserver } from "../observe/read-observer.js";
import type { Counters } from "../stats.js";
import type { CacheStack } from "./cache-stack.js";
import { Admission, NOT_ADMITTED, type ShapeAdmission } from "./admission.js";
import type { Advisor } from "../advisor/advisor.js";
import { ADVISOR_OFF, type AdvisorReport } from "../advisor/advisor-report.js";
import { storedTags } from "./query-tags.js";
import {
  CachedQuery,
  cachedQueryClassFor,
  DESCRIPTION,
  DETACH,
  LOAD,
  TAGS,
  type CachedReadRunner,
  type DelegateMethod,
  type QueryDescription,
  type ReadSource,
} from "./cached-query.js";
import { planRead, withoutCacheOption, type ReadPlan } from "./query-plan.js";
import type { ReadOperation } from "../prisma/operations.js";
import type { RequestScope, Scope } from "./request-scope.js";
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
  /**
   * Outside a transaction and of a model not configured `false`: inside a
   * request scope, even its reads without opt-in are answered by the scope.
   */
  readonly scopable: boolean;
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
    private readonly scope: RequestScope,
    /** Told each read's outcome (labelled metrics, per-query info, events, channels). */
    private readonly observer: ReadObserver,
    /** The caching advisor, when `advisor` is on: it observes the reads that are not cached. */
    advisor?: Advisor,
  ) {
    this.#scopeOnlyPlan = { expiry: options.defaults, customTags: [], scopeOnly: true };
    this.#admission = options.admission && new Admission(options.admission, options.clock);
    this.#advisor = advisor;
    this.#advisorRunner = advisor && {
      // Counted as the same uncached read (`unkeyed`) it is without the advisor: the metrics do not depend on it.
      run: (query) => this.#database(query, undefined, query),
      tagsOf: (description) => this.tagsOf(description),
      countBypass: (description) => this.countBypass(description),
    };
  }

  readonly #advisor: Advisor | undefined;
  /** Runs the uncached reads the advisor observes (lazy, like cached ones: `$transaction([...])` runs them plainly). */
  readonly #advisorRunner: CachedReadRunner | undefined;

  /** Automatic admission, when `admission` is not `"all"`. */
  readonly #admission: Admission | undefined;

  readonly #queryClasses = new Map<string, typeof CachedQuery>();
  /** Whether a `context` returning a Promise was reported (once per extension instance). */
  #reportedThenable = false;
  /** The plan of every read without opt-in inside a scope (its expiry is never used). */
  readonly #scopeOnlyPlan: ReadPlan;

  /** Runs one read method call: from the cache when it opted in, from the original method otherwise. */
  call(
    context: ModelContext,
    operation: ReadOperation,
    args: Record<string, unknown> | undefined,
  ): Prisma.PrismaPromise<unknown> {
    const binding = this.#bind(context);
    const delegate = binding.delegate;
    const method = delegate[operation] as DelegateMethod;
    const cacheOption = args?.cache;
    if (cacheOption === undefined && !binding.cacheByDefault) {
      // The common uncached call: hand the arguments through untouched (one store lookup to learn there is no scope).
      if (binding.scopable && this.scope.current() !== undefined)
        return this.#cachedQuery(binding, context.$name, operation, args, this.#scopeOnlyPlan);
      if (this.#advisorRunner !== undefined && !binding.inTransaction)
        return this.#observed(binding, context, operation, args);
      this.counters.bypassed++;
      this.observer.unkeyed(context.$name, operation);
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
      // `cache: false` on an enabled model, inside a request scope: the scope still answers it.
      if (plan === undefined && binding.scopable && this.scope.current() !== undefined)
        return this.#cachedQuery(binding, context.$name, operation, args, this.#scopeOnlyPlan);
      if (plan === undefined && this.#advisorRunner !== undefined && !binding.inTransaction)
        return this.#observed(binding, context, operation, args);
      this.counters.bypassed++;
      this.observer.unkeyed(context.$name, operation);
      return method.call(delegate, withoutCacheOption(args));
    }
    return this.#cachedQuery(binding, context.$name, operation, args, plan);
  }

  /**
   * A lazy cached read. The arguments still hold `cache`: the key leaves it
   * out, and it is stripped only if the database is asked. With the scope-only
   * plan (a read without opt-in, called inside a request scope), it is lazy
   * like any cached read (so `$transaction([...])` still runs it uncached),
   * and answered by the scope or the database, never by the tiers.
   */
  #cachedQuery(
    binding: ModelBinding,
    model: string,
    operation: ReadOperation,
    args: Record<string, unknown> | undefined,
    plan: ReadPlan,
  ): Prisma.PrismaPromise<unknown> {
    const method = binding.delegate[operation] as DelegateMethod;
    const query = new binding.queryClass(this, { model, operation, args, plan }, binding.delegate, method);
    return query as unknown as Prisma.PrismaPromise<unknown>;
  }

  /** An uncached read the advisor observes when it is awaited (see {@link #database}). */
  #observed(
    binding: ModelBinding,
    context: ModelContext,
    operation: ReadOperation,
    args: Record<string, unknown> | undefined,
  ): Prisma.PrismaPromise<unknown> {
    const method = binding.delegate[operation] as DelegateMethod;
    const description = { model: context.$name, operation, args, plan: this.#scopeOnlyPlan };
    const query = new binding.queryClass(
      this.#advisorRunner as CachedReadRunner,
      description,
      binding.delegate,
      method,
    );
    return query as unknown as Prisma.PrismaPromise<unknown>;
  }

  #bind(context: ModelContext): ModelBinding {
    let binding = this.#bindings.get(context);
    if (binding === undefined) {
      const parent = context.$parent;
      const settings = modelSettings(this.options, context.$name);
      const inTransaction = isTransactionClient(parent);
      binding = {
        delegate: parent[modelProperty(context.$name)] as Record<string, DelegateMethod>,
        inTransaction,
        queryClass: this.#queryClass(context.$name),
        cacheByDefault: settings.cacheByDefault === true,
        // A model configured `false` must always be read live: no scope deduplicates it either.
        scopable: settings.enabled && !inTransaction,
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

  countBypass(query: QueryDescription): void {
    this.counters.bypassed++;
    this.observer.unkeyed(query.model, query.operation);
  }

  /** Called when a CachedQuery is awaited. Outside a scope this costs one store lookup more than the tiers' read. */
  run(query: CachedQuery): Promise<unknown> {
    const description = query[DESCRIPTION];
    const scope = this.scope.current();
    // Scope-only, awaited after its scope ended: as if it had been called outside one.
    if (scope === undefined && description.plan.scopeOnly === true) return this.#database(query, undefined, query);
    // A read that did not opt into caching reports no key failure: without the scope it would not have been keyed at
    // all.
    const key = this.#key(description, description.plan.scopeOnly !== true);
    if (key === undefined) return this.#database(query, undefined);
    // The tiers copy the arguments on an in-process miss; a hit needs no copy.
    if (scope === undefined) return this.#readTiers(key, description.plan.expiry, query);
    return this.#readScoped(scope, key, description.plan, query);
  }

  /**
   * Reads through the tiers, unless automatic admission has taken the read's
   * shape out of the cache (then: the database). An admitted read's outcome
   * is recorded: a hit is a read that never called the database.
   */
  #readTiers(key: QueryKey, expiry: ResolvedExpiry, query: CachedQuery): Promise<unknown> {
    const admission = this.#admission;
    if (admission === undefined) return this.stack.read(key, expiry, query);
    const state = admission.decide(key);
    const repeat = admission.lastWasRepeat;
    if (state === NOT_ADMITTED) {
      this.counters.notAdmitted++;
      this.observer.uncached(key, query, true);
      return query[LOAD]() as Promise<unknown>;
    }
    // An in-process hit is a hit: recorded without wrapping anything (this is the hot path).
    const hit = this.stack.readLocal(key, expiry, query);
    if (hit !== undefined) {
      if (state !== undefined) admission.record(state, true, repeat);
      return hit;
    }
    // While Redis is down, frozen or not yet connected, reads miss whatever the shape: measuring them would take
    // shapes out for many minutes after Redis is back (retryAfter doubles). Such reads are not measured.
    if (state === undefined || !this.stack.working()) return this.stack.readPastLocal(key, expiry, query);
    const detached = query[DETACH]();
    const started = performance.now();
    /** Set when this read queries the database: its database time once known. */
    let load: { ms: number } | undefined;
    const watched: ReadSource = {
      [INFO]: detached[INFO],
      [TAGS]: () => detached[TAGS](),
      [LOAD]: () => {
        const loadStarted = performance.now();
        const loading = detached[LOAD]() as Promise<unknown>;
        const timed = { ms: 0 };
        load = timed;
        // Observed, not wrapped: the caller gets Prisma's own promise (attaching runs it now, as the loader would).
        loading.then(
          () => void (timed.ms = performance.now() - loadStarted),
          () => undefined,
        );
        return loading;
      },
    };
    const read = this.stack.readPastLocal(key, expiry, watched);
    read.then(
      () => {
        if (!this.stack.working()) return;
        const timing = load && { totalMs: performance.now() - started, loadMs: load.ms };
        admission.record(state, load === undefined, repeat, timing);
      },
      () => undefined, // an error is the caller's, and says nothing about how often this shape hits
    );
    return read;
  }

  /** Automatic admission's decisions per query shape (empty when `admission` is `"all"`). */
  admissionReport(): ShapeAdmission[] {
    return this.#admission?.report() ?? [];
  }

  /** The caching advisor's report. */
  advisorReport(): AdvisorReport {
    return this.#advisor?.report() ?? ADVISOR_OFF;
  }

  /**
   * A read inside a request scope: the scope, then (opted in) the tiers or
   * (scope only) the database. The entry's tags are the tiers' ones, query
   * tag included, so `invalidateQuery` reaches scope entries too. The scope
   * calls `tagsOf` and its load at once, while the arguments are still the
   * ones the key was built from; a load that reaches the database copies them
   * (the tiers on their in-process miss, a scope-only read here), and a scope
   * hit copies nothing.
   */
  #readScoped(scope: Scope, key: QueryKey, plan: ReadPlan, query: CachedQuery): Promise<unknown> {
    const tagsOf = () => storedTags(key, query[TAGS]());
    // Answered by the scope unless its load runs, which then says what answered.
    const info = query[INFO];
    if (info !== undefined) info.answeredBy = "scope";
    if (plan.scopeOnly === true)
      return this.scope.read(scope, key.local, true, tagsOf, () => this.#database(query[DETACH](), key, query));
    // It may return an invalidated entry, which the scope would then hand to reads of the same key that did not opt in.
    if (plan.expiry.staleIfInvalidated) return this.#readTiers(key, plan.expiry, query);
    return this.scope.read(scope, key.local, false, tagsOf, () => this.#readTiers(key, plan.expiry, query));
  }

  /**
   * The uncached query, counted as a bypass. A keyed read passes its
   * detached copy (its result is kept under the key); an unkeyed one keeps
   * the caller's arguments, which may not even be copyable (a cycle), and
   * whose result is kept nowhere: Prisma reads them as it would without us.
   *
   * With the advisor on, a read named by `described` (its key, when known)
   * is observed if its key is sampled. Its key is built from the arguments
   * as they are now, as a cached read's is; one that cannot be keyed (a
   * missing context dimension) is not observed, and not reported either.
   */
  #database(query: CachedQuery | ReadSource, key: QueryKey | undefined, described?: CachedQuery): Promise<unknown> {
    this.counters.bypassed++;
    if (key !== undefined) this.observer.uncached(key, query, false);
    else if (query instanceof CachedQuery) {
      const { model, operation } = query[DESCRIPTION];
      this.observer.unkeyed(model, operation);
      const info = query[INFO];
      if (info !== undefined) info.answeredBy = "bypass";
    }
    const advisor = this.#advisor;
    if (advisor === undefined || described === undefined)
      // A PrismaPromise: returned as is, so that awaiting it runs it at once, as Prisma would.
      return query[LOAD]() as Promise<unknown>;
    const description = described[DESCRIPTION];
    const advised = key ?? this.#key(description, false);
    if (advised === undefined || !advisor.samples(advised.local)) return query[LOAD]() as Promise<unknown>;
    return advisor.observe(
      description.model,
      description.operation,
      advised.local,
      () => this.tagsOf(description),
      query[LOAD](),
    );
  }

  tagsOf(query: QueryDescription): readonly string[] {
    const derived = readTags(this.graph, query.model, query.operation, withoutCacheOption(query.args));
    return query.plan.customTags.length === 0 ? derived : [...derived, ...query.plan.customTags];
  }

  /**
   * A cached raw query: keyed by its SQL and values, depending on the tags
   * the caller named (raw SQL cannot be analysed).
   */
  readRaw(
    query: { sql: string; values: readonly unknown[] },
    tags: readonly string[],
    ttlMs: number | undefined,
    load: () => Promise<unknown>,
  ): Promise<unknown> {
    const expiry = ttlMs === undefined ? this.options.defaults : { ...this.options.defaults, ttlMs };
    return this.readDeclared(
      { model: "$raw", operation: "queryRaw", args: { sql: query.sql, values: [...query.values] } },
      tags,
      expiry,
      load,
    );
  }

  /**
   * A cached value whose dependencies the caller declares (`queryRaw`,
   * `getOrSet`): keyed by `what`, the declared `tags` and, unless
   * `withContext` is false, the context dimensions; it depends on `tags`
   * only. When it cannot be keyed (a missing context dimension, reported),
   * `load` runs uncached.
   *
   * @param what   a pseudo-model (`$raw`, `$computation`), never a model name, so it cannot share a key with a model
   * read
   * @param withContext false keys it without the `context` dimensions: one entry shared by every context
   */
  readDeclared(
    what: { model: string; operation: string; args: Record<string, unknown> },
    tags: readonly string[],
    expiry: ResolvedExpiry,
    load: () => Promise<unknown>,
    withContext = true,
  ): Promise<unknown> {
    // The declared tags are part of the key: the same SQL or computation declared with other dependencies is another
    // entry.
    const key = this.#key(
      { ...what, operation: what.operation as ReadOperation, plan: { expiry, customTags: tags } },
      true,
      withContext,
    );
    if (key === undefined) return load();
    return this.stack.read(key, expiry, { [TAGS]: () => tags, [LOAD]: load });
  }

  /** The key of a read in the current context, or undefined when it cannot be keyed (reported). */
  keyOf(model: string, operation: ReadOperation, args: Record<string, unknown> | undefined): QueryKey | undefined {
    return this.#key(this.#described(model, operation, args));
  }

  /**
   * The tags a read is stored under in the current context, query tag first, or undefined when it cannot be keyed
   * (reported).
   */
  storedTagsOf(
    model: string,
    operation: ReadOperation,
    args: Record<string, unknown> | undefined,
  ): string[] | undefined {
    const query = this.#described(model, operation, args);
    const key = this.#key(query);
    return key === undefined ? undefined : storedTags(key, this.tagsOf(query));
  }

  /** A read named by its parts; the arguments may carry its `cache` option, whose custom tags are part of the key. */
  #described(model: string, operation: ReadOperation, args: Record<string, unknown> | undefined): QueryDescription {
    const customTags = (args?.cache as { tags?: unknown } | undefined)?.tags;
    return {
      model,
      operation,
      args,
      plan: { expiry: this.options.defaults, customTags: Array.isArray(customTags) ? (customTags as string[]) : [] },
    };
  }

  /**
   * The key of a read, or undefined when it cannot be keyed safely: the read
   * then goes to the database. The failure is reported unless `reportFailure`
   * is false. `withContext: false` leaves the context dimensions out (a
   * declared read shared by every context).
   */
  #key(
    query: Pick<QueryDescription, "model" | "operation" | "args"> & { plan?: ReadPlan },
    reportFailure = true,
    withContext = true,
  ): QueryKey | undefined {
    let dimensions: Record<string, unknown> | undefined;
    if (withContext && this.options.context !== undefined) {
      const context = contextDimensions(this.options.context, query);
      if (context instanceof CacheError) {
        if (reportFailure) this.stack.report(context);
        return undefined;
      }
      dimensions = context;
    }
    try {
      // Custom tags change what an entry depends on, so reads with different ones must not share it.
      const customTags = query.plan?.customTags;
      return queryKey(
        this.namespace,
        query.model,
        query.operation,
        query.args,
        dimensions,
        customTags !== undefined && customTags.length > 0 ? customTags : undefined,
      );
    } catch (error) {
      // A Promise has no enumerable keys, so it passes the checks above and fails only here: the failure path tells it
      // apart.
      if (isThenable(dimensions)) return this.#thenableContext(query, dimensions, reportFailure);
      if (reportFailure) this.stack.report(keyFailure(query, dimensions, error));
      return undefined;
    }
  }

  /**
   * `context` returned a Promise. It is a configuration error that every
   * cached read would repeat, so it is reported once; each read goes to the
   * database. The Promise is marked handled: a rejection nobody awaits would
   * otherwise end the process (Node's default for unhandled rejections).
   */
  #thenableContext(query: KeyedRead, dimensions: PromiseLike<unknown>, reportFailure: boolean): undefined {
    Promise.resolve(dimensions).catch(() => undefined);
    if (reportFailure && !this.#reportedThenable) {
      this.#reportedThenable = true;
      this.stack.report(thenableContext(query));
    }
    return undefined;
  }
}

function rejected(error: unknown, original: () => Prisma.PrismaPromise<unknown>): Prisma.PrismaPromise<unknown> {
  const runner: CachedReadRunner = { run: () => Promise.reject(error), countBypass: () => undefined, tagsOf: () => [] };
  const plan = {
    expiry: { ttlMs: 0, negativeTtlMs: 0, swrMs: 0, jitter: 0, earlyRefresh: 0, staleIfInvalidated: false },
    customTags: [],
  };
  const query = new CachedQuery(runner, { model: "", operation: "findMany", args: undefined, plan }, undefined, () =>
    original(),
  );
  return query as unknown as Prisma.PrismaPromise<unknown>;
}
