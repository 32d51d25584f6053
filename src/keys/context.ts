/**
 * Context keying: the dimensions the `context` option returns for one read
 * (consistency contract, item 4: a key includes every dimension, and a
 * missing one is an error, not a shared key), and, when a key cannot be
 * built, which is to blame: the `context` or the query arguments. The key
 * is built in one pass over both (keys/query-key.ts), so the culprit is
 * found here, on the failure path only: the hot path pays nothing for these
 * diagnostics.
 *
 * Every failure becomes a `CacheError` naming what to fix. A raw error
 * (a `RangeError` from a circular value, say) never reaches `onError`.
 */
import { CacheError } from "../errors.js";
import { canonicalize } from "./canonical.js";

/** What was being keyed, for messages. */
export interface KeyedRead {
  readonly model: string;
  readonly operation: string;
}

/** What a read that cannot be keyed becomes, said once per message. */
const SERVED_UNCACHED = "was served uncached (from the database, or for a computation from its function)";

/** The fix for a context that returned something other than an object of dimensions. */
const CONTEXT_SHAPE_FIX =
  "Make `context` return an object of dimensions, such as () => ({ tenantId: currentTenant() }), with a string, number, boolean or null for each.";

/**
 * Calls `context` for `read` and checks what it returned: an object whose
 * every dimension is defined. Returns the dimensions, or the `E_CONTEXT`
 * error to report (the read then goes uncached). A Promise passes these
 * checks (it has no enumerable keys) and is caught when the key is built
 * ({@link isThenable}).
 */
export function contextDimensions(
  context: () => Record<string, unknown>,
  read: KeyedRead,
): Record<string, unknown> | CacheError {
  let dimensions: unknown;
  try {
    dimensions = context();
  } catch (error) {
    return new CacheError(
      "E_CONTEXT",
      `the \`context\` function threw; ${read.model}.${read.operation} ${SERVED_UNCACHED}.`,
      error,
    );
  }
  if (typeof dimensions !== "object" || dimensions === null) return contextNotAnObject(read, dimensions);
  const missing = missingDimension(dimensions as Record<string, unknown>);
  if (missing !== undefined) {
    return new CacheError(
      "E_CONTEXT",
      `context dimension \`${missing}\` is undefined; ${read.model}.${read.operation} ${SERVED_UNCACHED}, rather than under a key shared across contexts. Make \`context\` return a value (or null) for every dimension.`,
    );
  }
  return dimensions as Record<string, unknown>;
}

/** The first dimension whose value is `undefined` (missing); undefined when none is missing. */
export function missingDimension(dimensions: Record<string, unknown>): string | undefined {
  for (const key in dimensions) if (dimensions[key] === undefined) return key;
  return undefined;
}

/** True for a Promise or any other thenable: what an `async` context (or one that forgot to await nothing) returns. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === "object" || typeof value === "function") &&
    value !== null &&
    typeof (value as { then?: unknown }).then === "function"
  );
}

/** `context` returned a Promise: the dimensions cannot be awaited on the read path. */
export function thenableContext(read: KeyedRead): CacheError {
  return new CacheError(
    "E_CONTEXT",
    `\`context\` returned a Promise (or another thenable), which cannot be part of a key; ${read.model}.${read.operation} ${SERVED_UNCACHED}, and so is every cached read until \`context\` is fixed (reported once). \`context\` is called synchronously on every cached read: return the dimensions themselves, read synchronously, e.g. from AsyncLocalStorage: () => ({ tenantId: als.getStore()?.tenantId }).`,
  );
}

/** `context` returned no object at all (undefined, a string, a function, a symbol...). */
export function contextNotAnObject(read: KeyedRead, dimensions: unknown): CacheError {
  // A block body without `return` (`() => { tenantId }`) is the usual way to return undefined by mistake.
  const hint =
    dimensions === undefined
      ? " A block body needs `return`; an object literal needs parentheses: () => ({ tenantId })."
      : "";
  return new CacheError(
    "E_CONTEXT",
    `\`context\` returned ${describe(dimensions)}, not an object of dimensions; ${read.model}.${read.operation} ${SERVED_UNCACHED}. ${CONTEXT_SHAPE_FIX}${hint}`,
  );
}

/**
 * The error for a key that could not be built (`error` is what the key
 * builder threw), blaming the context when one of its values is the cause,
 * the query arguments otherwise.
 */
export function keyFailure(
  read: KeyedRead,
  dimensions: Record<string, unknown> | undefined,
  error: unknown,
): CacheError {
  if (dimensions !== undefined) {
    for (const name in dimensions) {
      const bad = unkeyable(dimensions[name]);
      if (bad !== undefined) {
        return new CacheError(
          "E_CONTEXT",
          `context dimension \`${name}\` holds ${bad.what}, which cannot be part of a key; ${read.model}.${read.operation} ${SERVED_UNCACHED}. A dimension is a string, number, boolean or null.`,
          bad.cause,
        );
      }
    }
    const whole = unkeyable(dimensions);
    if (whole !== undefined)
      return new CacheError(
        "E_CONTEXT",
        `\`context\` returned ${whole.what}, which cannot be part of a key; ${read.model}.${read.operation} ${SERVED_UNCACHED}. ${CONTEXT_SHAPE_FIX}`,
        whole.cause,
      );
  }
  if (error instanceof CacheError) return error;
  return new CacheError(
    "E_INVALID_QUERY_OPTION",
    `the query arguments of ${read.model}.${read.operation} hold ${whatFailed(error)}, which cannot be part of a key; it ${SERVED_UNCACHED}. Pass plain, acyclic data in cached queries.`,
    error,
  );
}

/** What in `value` cannot be keyed, with the key builder's error; undefined when it can be keyed. */
function unkeyable(value: unknown): { what: string; cause: unknown } | undefined {
  try {
    canonicalize(value);
    return undefined;
  } catch (error) {
    return { what: error instanceof RangeError ? whatFailed(error) : describe(value), cause: error };
  }
}

/** `a string`, `a function`, `an instance of Map`... for messages; never the value itself (it may be private). */
function describe(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value !== "object") return `a ${typeof value}`;
  if (Array.isArray(value)) return "an array";
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === "string" && name !== "Object" ? `an instance of ${name}` : "an object";
}

/** What a key builder's failure (other than a CacheError, which says it itself) means: a stack overflow is a cycle. */
function whatFailed(error: unknown): string {
  if (error instanceof RangeError) return "a circular (or far too deeply nested) value";
  return `a value that could not be keyed (${error instanceof Error ? error.message : String(error)})`;
}
