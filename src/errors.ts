/**
 * Typed errors. Every error the library raises or reports is a `CacheError`
 * with a stable `code` (one of `errors`), a message that names the option or
 * operation involved and how to fix it, and the underlying `cause` if any.
 */

/** Stable error codes, one per failure the library can raise or report. */
export const errorCodes = {
  /**
   * An option passed to `cacheExtension()` is invalid: thrown when `$extends` runs. Also the
   * rejection of a `$cache` call given an invalid option or argument (an unknown model, `getOrSet`'s `fn` or
   * options, `queryRaw`'s `ttl`).
   */
  E_INVALID_OPTION: "E_INVALID_OPTION",
  /**
   * A per-query `cache` option is invalid: the read that carries it rejects.
   * Also reported (and the read served uncached) when the arguments hold a
   * value that cannot be part of a key.
   */
  E_INVALID_QUERY_OPTION: "E_INVALID_QUERY_OPTION",
  /**
   * The `context` function threw, left a dimension undefined, returned no object of dimensions (or a Promise,
   * reported once), or a dimension that cannot be keyed. Reported; the read bypasses the cache.
   */
  E_CONTEXT: "E_CONTEXT",
  /** A Redis command failed or timed out. Reported; the read falls back to the next tier. */
  E_REDIS: "E_REDIS",
  /**
   * A stored entry could not be decoded, or its fingerprint did not match; or a tag version key held something no
   * version can be (it is replaced). Reported; treated as a miss.
   */
  E_CORRUPT_ENTRY: "E_CORRUPT_ENTRY",
  /**
   * A value cannot be stored faithfully: a `getOrSet` value holds what the shared tier cannot carry (stored in
   * neither tier), or a result could not be copied or serialised. Reported; the value is still returned.
   */
  E_SERIALIZE: "E_SERIALIZE",
  /**
   * A tag passed to the tag API or a `cache` option is empty or malformed, or an invalidation target names neither
   * tags nor models. Thrown.
   */
  E_INVALID_TAG: "E_INVALID_TAG",
  /** A tag-version bump could not reach Redis. Reported; retried in the background. */
  E_INVALIDATION: "E_INVALIDATION",
  /** The Redis `maxmemory-policy` may evict tag versions. Reported at start-up. */
  E_REDIS_POLICY: "E_REDIS_POLICY",
  /**
   * A private Prisma API this library relies on is missing or changed shape, or the schema text the client carries
   * holds a form the library cannot parse. Thrown by `$extends`.
   */
  E_PRISMA_INTERNALS: "E_PRISMA_INTERNALS",
  /** A background refresh of a stale entry failed. Reported; the stale entry is served until its hard expiry. */
  E_REFRESH: "E_REFRESH",
  /**
   * The cross-process single-flight lock could not be taken, waited on or released. Reported; the read loads directly.
   */
  E_LOCK: "E_LOCK",
  /** A `getOrSet` key is empty or not a string. Thrown (the call rejects). */
  E_INVALID_KEY: "E_INVALID_KEY",
  /**
   * A result is returned but cannot be cached: a computation returned `undefined` (return `null` to cache
   * "nothing"), or a result is larger than the in-process tier's `l1.maxSize` (reported once per query shape;
   * with Redis it is kept there only). Reported; the value is returned.
   */
  E_UNCACHEABLE: "E_UNCACHEABLE",
  /**
   * An extension with model `query` hooks or `result` fields was applied after `cacheExtension`:
   * Prisma would never run them for model operations. Thrown by that `$extends` call.
   */
  E_EXTENSION_ORDER: "E_EXTENSION_ORDER",
  /**
   * The event listener (`events` option) lost or could not open its LISTEN connection, or could not read a
   * notification. Reported; it reconnects with backoff and then invalidates every listened model.
   */
  E_EVENTS: "E_EVENTS",
  /**
   * The caching advisor (`advisor` option) could not observe an uncached read (deriving its tags or sizing its
   * result failed). Reported; the read runs and returns exactly as it would without the advisor.
   */
  E_ADVISOR: "E_ADVISOR",
} as const;

/** One of the stable error codes in {@link errorCodes}. */
export type CacheErrorCode = (typeof errorCodes)[keyof typeof errorCodes];

/** Reads a CacheError's message as it was given, without the prefix naming the library and the code. */
let detailOf: (error: CacheError) => string;

/** The one error class of the library; `code` tells the failures apart. */
export class CacheError extends Error {
  /** Stable machine-readable code; see {@link errorCodes}. */
  readonly code: CacheErrorCode;
  /** The message as given to the constructor: {@link withCode} builds the same failure under another code from it. */
  readonly #detail: string;

  static {
    detailOf = (error) => error.#detail;
  }

  /**
   * @param code    one of {@link errorCodes}
   * @param message what went wrong, naming the option or operation, and the fix
   * @param cause   the underlying error, when there is one
   */
  constructor(code: CacheErrorCode, message: string, cause?: unknown) {
    super(`prisma-query-cache [${code}]: ${message}`, cause === undefined ? undefined : { cause });
    this.name = "CacheError";
    this.code = code;
    this.#detail = message;
  }
}

/**
 * `error` as a `CacheError`, for a failure that is reported (`onError`
 * receives only CacheErrors) or rethrown: itself when it is one, since it
 * already names what failed; otherwise a new one with `code` and `message`,
 * keeping `error` as its `cause`.
 */
export function asCacheError(error: unknown, code: CacheErrorCode, message: string): CacheError {
  return error instanceof CacheError ? error : new CacheError(code, message, error);
}

/**
 * The same failure under another code, with the same message and cause:
 * an option checked by the code that validates `cacheExtension()` options
 * (`E_INVALID_OPTION`) is, on a single query, an `E_INVALID_QUERY_OPTION`.
 */
export function withCode(error: CacheError, code: CacheErrorCode): CacheError {
  return error.code === code ? error : new CacheError(code, detailOf(error), error.cause);
}

/** Shorthand for the error thrown at `$extends` time for a bad option. */
export function invalidOption(option: string, problem: string, fix: string): CacheError {
  return new CacheError(errorCodes.E_INVALID_OPTION, `option \`${option}\` ${problem}. ${fix}`);
}
