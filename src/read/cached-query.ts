/**
 * A cached read, shaped as a PrismaPromise. Prisma's read methods return lazy
 * promises: nothing runs until `then`, and `$transaction([...])` takes them
 * unrun and calls `requestTransaction` instead. This class keeps both:
 * awaiting it runs the cached read once; handing it to `$transaction([...])`
 * hands over the original, uncached query, so reads inside a batch
 * transaction never touch the cache (consistency contract, item 3).
 *
 * Its only string-named members are the PrismaPromise ones: per-model
 * subclasses add the model's fluent relation methods (`.posts()`), and a
 * relation may be called anything (`tags`, `load`, `args`...). Everything
 * the library itself needs is private or symbol-keyed.
 *
 * One object per call, with its methods on the prototype: the in-process hit
 * path allocates this, the key text, the result copy and one promise.
 */
import type { Prisma } from "@prisma/client/extension";
import { INFO, type ReadInfo } from "../observe/read-info.js";
import { PRISMA_PROMISE_TAG, promiseSpec, requestTransaction } from "../prisma/internals.js";
import { cloneResult } from "../serialize/clone.js";
import type { ReadOperation } from "../prisma/operations.js";
import { withoutCacheOption, type ReadPlan } from "./query-plan.js";

/** A Prisma delegate method, called with the delegate as `this`. */
export type DelegateMethod = (this: unknown, args?: unknown) => Prisma.PrismaPromise<unknown>;

/** What a read is: enough to key it, derive its tags, and plan it. */
export interface QueryDescription {
  /** Model name as in the schema (`User`). */
  readonly model: string;
  readonly operation: ReadOperation;
  /** The arguments as the caller passed them, `cache` option included (see {@link withoutCacheOption}). */
  readonly args: Record<string, unknown> | undefined;
  readonly plan: ReadPlan;
}

/** Symbol key of a CachedQuery's own description (a CachedQuery is its own description: one object per call). */
export const DESCRIPTION = Symbol("prisma-query-cache.description");

/** Symbol keys of what the tier stack needs from a read (symbols: they cannot collide with relation names). */
export const LOAD = Symbol("prisma-query-cache.load");
export const TAGS = Symbol("prisma-query-cache.tags");
/** Symbol key of a read's detached copy: a source whose load no longer depends on the caller's argument object. */
export const DETACH = Symbol("prisma-query-cache.detach");

/** What the tier stack needs from a read: its dependency tags and its database query. */
export interface ReadSource {
  /** Tags the result depends on (not counting the per-query tag the stack adds). */
  [TAGS](): readonly string[];
  /** The uncached query. Its errors propagate to the caller and are never cached. */
  [LOAD](): PromiseLike<unknown>;
  /**
   * The same read, independent of anything the caller may change later (its
   * arguments object): for any load that may run after the caller regains
   * control (a miss waits for Redis first; a refresh runs after the caller
   * has its result). Sources without it are already independent.
   */
  [DETACH]?(): ReadSource;
  /** Where to report this read's outcome, when `withInfo` asked for it (see observe/read-info.ts). */
  readonly [INFO]?: ReadInfo | undefined;
}

/** Runs the read through the tiers; implemented by the read path (read-path.ts). */
export interface CachedReadRunner {
  run(query: CachedQuery): Promise<unknown>;
  /** The dependency tags of a query, derived from the data model. */
  tagsOf(description: QueryDescription): readonly string[];
  /** Counts a read that a batch transaction ran uncached. */
  countBypass(query: QueryDescription): void;
}

/** A lazily executed cached read that Prisma accepts wherever it accepts a PrismaPromise. */
export class CachedQuery implements ReadSource {
  readonly #runner: CachedReadRunner;
  readonly #delegate: unknown;
  readonly #method: DelegateMethod;
  #result: Promise<unknown> | undefined;
  /** What this read is. */
  readonly [DESCRIPTION]: QueryDescription;
  /**
   * The per-query info sink, set by `withInfo` before the read runs. Declared only: every other read has no such
   * property at all, so constructing one costs nothing more (a field initialiser would be a store per read).
   */
  declare [INFO]?: ReadInfo;

  /**
   * @param description what the read is (becomes its {@link DESCRIPTION})
   * @param delegate the model delegate below the cache, `this` of `method`
   * @param method the original read method, called on a miss or a bypass
   */
  constructor(runner: CachedReadRunner, description: QueryDescription, delegate: unknown, method: DelegateMethod) {
    this.#runner = runner;
    this.#delegate = delegate;
    this.#method = method;
    this[DESCRIPTION] = description;
  }

  /** Dependency tags; computed only on an in-process miss. */
  [TAGS](): readonly string[] {
    return this.#runner.tagsOf(this[DESCRIPTION]);
  }

  /** The uncached query: the database read on a miss, the transaction's element, the fluent call's base. */
  [LOAD](): Prisma.PrismaPromise<unknown> {
    return this.#method.call(this.#delegate, withoutCacheOption(this[DESCRIPTION].args));
  }

  /**
   * The same read over a copy of its arguments, taken now. The key was built
   * from the arguments at this same moment (when the read was awaited, as
   * Prisma itself reads them), so whatever the caller does to its object
   * afterwards (reuse it for the next call, say) cannot make the database
   * answer another query than the one the key names (contract item 8).
   */
  [DETACH](): ReadSource {
    const { model, operation, args, plan } = this[DESCRIPTION];
    // A plain CachedQuery (no fluent methods, never awaited): the tiers see one class of source, and no closures are
    // made.
    const detached = { model, operation, args: cloneResult(args), plan };
    const copy = new CachedQuery(this.#runner, detached, this.#delegate, this.#method);
    const info = this[INFO];
    if (info !== undefined) copy[INFO] = info;
    return copy;
  }

  #execute(): Promise<unknown> {
    return (this.#result ??= this.#runner.run(this));
  }

  then<R1 = unknown, R2 = never>(
    onFulfilled?: ((value: unknown) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#execute().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<unknown> {
    return this.#execute().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<unknown> {
    return this.#execute().finally(onFinally);
  }

  /** Called by `$transaction([...])`: the element runs uncached, inside the transaction. */
  requestTransaction(batch: unknown): PromiseLike<unknown> {
    this.#runner.countBypass(this[DESCRIPTION]);
    return requestTransaction(this[LOAD](), batch);
  }

  /** Prisma reads the query spec of batch elements; it is the original query's. */
  get spec(): unknown {
    return promiseSpec(this[LOAD]());
  }

  get [Symbol.toStringTag](): typeof PRISMA_PROMISE_TAG {
    return PRISMA_PROMISE_TAG;
  }
}

/**
 * A CachedQuery class for one model, with Prisma's fluent relation methods
 * (`prisma.user.findUnique(...).posts()`). A fluent call asks for a different
 * result (the related rows), so it runs the original, uncached query's
 * method. Built once per model, so the hot path pays nothing for it.
 */
export function cachedQueryClassFor(relationFields: readonly string[]): typeof CachedQuery {
  if (relationFields.length === 0) return CachedQuery;
  class FluentCachedQuery extends CachedQuery {}
  for (const field of relationFields) {
    Object.defineProperty(FluentCachedQuery.prototype, field, {
      value(this: CachedQuery, args?: unknown) {
        const original = this[LOAD]() as unknown as Record<string, (args?: unknown) => unknown>;
        return (original[field] as (args?: unknown) => unknown).call(original, args);
      },
      writable: true,
      configurable: true,
    });
  }
  return FluentCachedQuery;
}
