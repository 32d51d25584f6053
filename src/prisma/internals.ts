/**
 * Every private Prisma API this library touches, in one place. Each use is
 * guarded by test/integration/prisma-internals.test.ts, which fails loudly when a Prisma
 * release changes it.
 *
 * - The transaction scope symbol: Prisma marks the client it hands to
 *   `$transaction(async (tx) => ...)` with it. A model extension has no public
 *   way to know it runs inside an interactive transaction, and reads in a
 *   transaction must bypass the cache (consistency contract, item 3).
 * - `_runtimeDataModel`: the model names (to validate `models` options) and a
 *   hash of the data model (to retire entries when the schema changes).
 * - `_globalOmit`: the client's `omit` option shapes every result, so it is
 *   part of the key namespace (two clients with different global omits must
 *   never share entries).
 * - `__internalParams.dataPath`, and the second parameter of a `query`
 *   component's `query(args, params)`: a fluent write
 *   (`prisma.user.update(...).posts()`) reaches the `query` component as the
 *   write itself with `select: { posts: true }`, and its result is the
 *   related rows, not the written one. The write side runs it without the
 *   path to learn which row it wrote, then unpacks the path as Prisma would.
 * - Prisma's transaction errors (P2028 with `meta.timeout`, or "rolled
 *   back"): a commit refused because the transaction expired or was rolled
 *   back committed nothing, so it must invalidate nothing.
 * - A `client` component member named `$extends` takes the place of the
 *   client's own `$extends` on every client derived from it (interactive
 *   transaction clients excepted, which have none): how the cached client
 *   refuses extensions it would bypass (prisma/extension-order.ts).
 * - `_engineConfig.inlineSchema`, `_engine.transaction` and
 *   `__internalParams.transaction`: see the functions below.
 * - The batch protocol of `$transaction([...])`: it takes only elements
 *   tagged `PrismaPromise` and calls each one's `requestTransaction(batch)`
 *   instead of awaiting it. A cached read is such an element
 *   (read/cached-query.ts) and hands the batch on to the uncached query.
 * - `_getName()` of Prisma's null sentinels (`Prisma.DbNull`, `JsonNull`,
 *   `AnyNull`, and `new Prisma.NullTypes.DbNull()`): the name Prisma itself
 *   sends, so the key of a filter on one of them (keys/canonical.ts).
 * - The delegate naming rule: `prisma.user` for model `User`.
 * - The errors of a failed write: the names `PrismaClientValidationError`
 *   and `PrismaClientKnownRequestError`, its `code`, and the driver error
 *   under P2010 / P2039 and the other adapter codes
 *   (`meta.driverAdapterError.cause`: kind, SQLSTATE, severity), which tell
 *   a refusal from a write that may have committed (prisma/write-failure.ts).
 */
import * as runtime from "@prisma/client/runtime/client";
import { CacheError } from "../errors.js";

export { writeMayHaveCommitted } from "./write-failure.js";

const TRANSACTION_SCOPE = Symbol.for("prisma.client.transaction.scope_context");

/** True when `client` is the transaction client of an interactive transaction. */
export function isTransactionClient(client: unknown): boolean {
  return (client as Record<symbol, unknown> | null | undefined)?.[TRANSACTION_SCOPE] !== undefined;
}

/** The runtime data model as the client carries it: models with their fields, enums, types. */
export interface RuntimeDataModel {
  models: Record<
    string,
    { fields: ReadonlyArray<{ name: string; kind: string; type: string; relationName?: string }> }
  >;
  enums: Record<string, unknown>;
  types: Record<string, unknown>;
}

/** The client's runtime data model. Throws E_PRISMA_INTERNALS if this Prisma release moved it. */
export function runtimeDataModel(client: unknown): RuntimeDataModel {
  const model = (client as { _runtimeDataModel?: RuntimeDataModel } | null | undefined)?._runtimeDataModel;
  if (typeof model !== "object" || model === null || typeof model.models !== "object") {
    throw new CacheError(
      "E_PRISMA_INTERNALS",
      "this Prisma Client has no runtime data model (`_runtimeDataModel`). prisma-query-cache supports @prisma/client 7; if you run a newer release, please report it.",
    );
  }
  return model;
}

/** The client's global `omit` option (`new PrismaClient({ omit })`), or undefined. */
export function globalOmit(client: unknown): unknown {
  return (client as { _globalOmit?: unknown } | null | undefined)?._globalOmit;
}

/** The transaction a query extension call runs in, from Prisma's `__internalParams`. */
export interface QueryTransaction {
  readonly kind: "itx" | "batch";
  readonly id: string | number;
}

/** The transaction of a `query` component call, or undefined outside transactions. */
export function transactionOf(params: unknown): QueryTransaction | undefined {
  const transaction = (params as { __internalParams?: { transaction?: QueryTransaction } } | undefined)
    ?.__internalParams?.transaction;
  return transaction === undefined || transaction === null ? undefined : transaction;
}

/** The part of a query component call this module reads: Prisma's own parameters of the request. */
interface InternalQueryCall {
  readonly __internalParams?: { readonly dataPath?: unknown };
  query(args: unknown, params?: unknown): Promise<unknown>;
}

/**
 * The relation path of a fluent call, as Prisma encodes it
 * (`["select", "posts"]` for `update(...).posts()`, `["select", "author",
 * "select", "posts"]` for `.author().posts()`); empty for any other call.
 */
export function fluentPathOf(call: unknown): readonly string[] {
  const path = (call as InternalQueryCall | undefined)?.__internalParams?.dataPath;
  return Array.isArray(path) && path.every((segment) => typeof segment === "string") ? (path as string[]) : [];
}

/**
 * Runs a query component's `query(args)` for the whole result of the
 * operation, ignoring the fluent path of the call: what the operation itself
 * returned (the written row), not the related rows the caller asked for.
 * The caller unpacks the path with {@link unpackFluentPath}.
 */
export function queryWithoutFluentPath(call: unknown, args: unknown): Promise<unknown> {
  const { __internalParams: params, query } = call as InternalQueryCall;
  if (typeof params !== "object" || params === null) {
    throw new CacheError(
      "E_PRISMA_INTERNALS",
      "this Prisma Client passes no `__internalParams` to query extensions, needed to see which row a fluent write changed. prisma-query-cache supports @prisma/client 7.",
    );
  }
  return query(args, { ...params, dataPath: [] });
}

/**
 * The related value a fluent call resolves to, taken from the whole result
 * along `path`, as Prisma unpacks it: `select`/`include` segments are
 * skipped, and a missing link (a null relation) ends the walk.
 */
export function unpackFluentPath(result: unknown, path: readonly string[]): unknown {
  let value = result;
  for (const segment of path) {
    if (segment === "select" || segment === "include") continue;
    if (value === null || value === undefined) return value;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** What a failed commit tells about the transaction: it certainly committed nothing, or nobody knows. */
export type CommitFailure = "rolled-back" | "unknown";

/**
 * Classifies the error of a failed `commit`. Prisma refuses to commit a
 * transaction its timeout already rolled back (P2028, with the timeout in
 * `meta`) or one that was rolled back otherwise; nothing was committed then.
 * Any other failure (a dropped connection after `COMMIT` was sent, say)
 * leaves the outcome unknown.
 */
export function commitFailure(error: unknown): CommitFailure {
  const known = error as
    { code?: unknown; meta?: { timeout?: unknown; operation?: unknown }; message?: unknown } | null | undefined;
  if (known?.code !== "P2028") return "unknown";
  if (typeof known.meta?.timeout === "number" && known.meta.operation === "commit") return "rolled-back";
  return typeof known.message === "string" && known.message.includes("transaction that was rolled back")
    ? "rolled-back"
    : "unknown";
}

/** The Prisma schema text the client was generated from (Prisma 7 carries it for its query compiler). */
export function inlineSchema(client: unknown): string {
  const schema = (client as { _engineConfig?: { inlineSchema?: unknown } } | null | undefined)?._engineConfig
    ?.inlineSchema;
  if (typeof schema !== "string" || schema.length === 0) {
    throw new CacheError(
      "E_PRISMA_INTERNALS",
      "this Prisma Client carries no schema text (`_engineConfig.inlineSchema`), which dependency tags are derived from. prisma-query-cache supports @prisma/client 7.",
    );
  }
  return schema;
}

/** What happens to an interactive transaction, as the engine is told. */
export interface TransactionObserver {
  /** A transaction (or a nested one, which has the same id) started. */
  started(id: string): void;
  /**
   * The engine was asked to commit: `outcome` is "committed" when it said
   * yes, else what its error tells (see {@link commitFailure}). Resolves
   * before the commit returns to Prisma.
   */
  committing(id: string, outcome: "committed" | CommitFailure): Promise<void>;
  /** The engine was asked to roll back. */
  rolledBack(id: string): void;
}

type EngineTransaction = (action: string, headers: unknown, info: unknown) => Promise<unknown>;
const observers = new WeakMap<object, Set<TransactionObserver>>();

/**
 * Observes the start, commit and rollback of every interactive transaction
 * of `client`'s engine. Prisma gives extensions no commit hook, and write
 * invalidation must happen after commit and never after a rollback
 * (consistency contract, item 3), so `engine.transaction(action, ...)` is
 * wrapped once per engine. Returns a function that stops observing.
 */
export function observeTransactions(client: unknown, observer: TransactionObserver): () => void {
  const engine = (client as { _engine?: { transaction?: EngineTransaction } } | null | undefined)?._engine;
  if (typeof engine !== "object" || engine === null || typeof engine.transaction !== "function") {
    throw new CacheError(
      "E_PRISMA_INTERNALS",
      "this Prisma Client has no engine with a `transaction` method (`_engine.transaction`), needed to invalidate after commit. prisma-query-cache supports @prisma/client 7.",
    );
  }
  let set = observers.get(engine);
  if (set === undefined) {
    const observing = new Set<TransactionObserver>();
    set = observing;
    observers.set(engine, observing);
    const original = engine.transaction.bind(engine);
    engine.transaction = async (action, headers, info) => {
      if (action === "start") {
        const started = await original(action, headers, info);
        const id = (started as { id?: unknown } | undefined)?.id;
        if (typeof id === "string") for (const each of observing) each.started(id);
        return started;
      }
      const id = (info as { id?: unknown } | undefined)?.id;
      if (typeof id !== "string") return original(action, headers, info);
      if (action === "rollback") {
        for (const each of observing) each.rolledBack(id);
        return original(action, headers, info);
      }
      if (action !== "commit") return original(action, headers, info);
      let result: unknown;
      try {
        result = await original(action, headers, info);
      } catch (error) {
        const outcome = commitFailure(error);
        await Promise.all([...observing].map((each) => each.committing(id, outcome)));
        throw error;
      }
      await Promise.all([...observing].map((each) => each.committing(id, "committed")));
      return result;
    };
  }
  set.add(observer);
  const registered = set;
  return () => registered.delete(observer);
}

/** The `Symbol.toStringTag` that `$transaction([...])` requires of every element: it refuses anything else. */
export const PRISMA_PROMISE_TAG = "PrismaPromise";

/** What `$transaction([...])` uses of a PrismaPromise besides its tag; Prisma does not export the type. */
interface BatchElement {
  requestTransaction?(batch: unknown): PromiseLike<unknown>;
  readonly spec?: unknown;
}

/**
 * Does for `promise` what `$transaction([...])` does with each element:
 * hands it the batch transaction (`{ kind: "batch", id, index, ... }`), so
 * that it runs inside it, and returns what runs. A promise without
 * `requestTransaction` is returned as it is, as Prisma does.
 */
export function requestTransaction(promise: PromiseLike<unknown>, batch: unknown): PromiseLike<unknown> {
  const element = promise as PromiseLike<unknown> & BatchElement;
  return typeof element.requestTransaction === "function" ? element.requestTransaction(batch) : element;
}

/** The query spec a PrismaPromise carries (its `spec`), for whoever reads it from a batch element. */
export function promiseSpec(promise: PromiseLike<unknown>): unknown {
  return (promise as BatchElement).spec;
}

/**
 * The name of a Prisma null sentinel (`"DbNull"`, `"JsonNull"`,
 * `"AnyNull"`), or undefined for any other value. Recognised by the
 * runtime's public `isObjectEnumValue` where it exports one (@prisma/client
 * 7.6 and later), else by the `_getName` method Prisma names them by; the
 * name is `_getName()`, as Prisma serialises them (a `new
 * Prisma.NullTypes.DbNull()` is not the singleton, but means the same).
 */
export function objectEnumName(value: object): string | undefined {
  const named = value as { _getName?: () => unknown };
  const isObjectEnumValue = (runtime as { isObjectEnumValue?: (value: unknown) => boolean }).isObjectEnumValue;
  if (typeof isObjectEnumValue === "function" ? !isObjectEnumValue(value) : typeof named._getName !== "function")
    return undefined;
  const name = typeof named._getName === "function" ? named._getName() : undefined;
  if (typeof name !== "string") {
    throw new CacheError(
      "E_PRISMA_INTERNALS",
      "a Prisma null sentinel (Prisma.DbNull, JsonNull or AnyNull) has no `_getName()`, needed to key a read that filters on it. prisma-query-cache supports @prisma/client 7.",
    );
  }
  return name;
}

/**
 * Prisma's naming rule for a model's client property: the model name with
 * its first letter lower-cased (`User` -> `prisma.user`). Query hooks and
 * result fields of extensions are looked up under the same name.
 */
export function modelProperty(model: string): string {
  return model.charAt(0).toLowerCase() + model.slice(1);
}
