/**
 * Canonical text of query arguments: two argument objects that mean the same
 * query produce the same text whatever their property order, and two that do
 * not never do. Used as the in-process key as is, and hashed for Redis.
 *
 * Rules:
 * - object keys are sorted, except where their order shapes the result:
 *   Prisma returns fields in the order `select`, `include` and the aggregate
 *   selections (`_count`, `_sum`, `_avg`, `_min`, `_max`) list them, and
 *   the order of those selections among the top-level arguments of
 *   `aggregate` and `groupBy` orders its groups. Those keep their order, so
 *   two reads that differ only in it have different keys and each caller
 *   gets its own order;
 * - `undefined` and `Prisma.skip` values are left out, exactly as Prisma
 *   ignores them;
 * - arrays keep their order (`orderBy` order is meaningful);
 * - values Prisma accepts that JSON cannot carry are tagged so that they
 *   never collide with a string of the same text: Date, BigInt, Decimal,
 *   bytes, and Prisma's null sentinels (`DbNull`, `JsonNull`, `AnyNull`).
 */
import { Decimal, skip } from "@prisma/client/runtime/client";
import { CacheError } from "../errors.js";
import { objectEnumName } from "../prisma/internals.js";

/**
 * The canonical text of `value`. Throws `E_INVALID_QUERY_OPTION` for values that cannot be keyed (functions, symbols,
 * unknown class instances).
 */
export function canonicalize(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      // JSON has no NaN/Infinity; tag them so they stay distinct from null.
      return Number.isFinite(value) ? String(value) : `#n:${String(value)}`;
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      return `#b:${value.toString()}`;
    case "object":
      return value === null ? "null" : canonicalizeObject(value);
    default:
      throw new CacheError(
        "E_INVALID_QUERY_OPTION",
        `query arguments hold a ${typeof value}, which cannot be part of a cache key. Pass plain data in cached queries.`,
      );
  }
}

/** The aggregate selections: their order among an aggregate's arguments is the order of its result's groups. */
const AGGREGATE_SELECTIONS: ReadonlySet<string> = new Set(["_count", "_sum", "_avg", "_min", "_max"]);
/** Keys whose object value lists fields in the order the result will have them (see the rules above). */
const RESULT_ORDER_KEYS: ReadonlySet<string> = new Set(["select", "include", ...AGGREGATE_SELECTIONS]);

/**
 * How an object's keys are ordered in its text: sorted (their order means
 * nothing), as given (`own`: it is the result's field order), or, for the
 * top level of `aggregate` and `groupBy`, the other arguments sorted and
 * then the aggregate selections as given.
 */
type KeyOrder = "sorted" | "own" | "selections";

function canonicalizeObject(value: object, omitKey?: string, order: KeyOrder = "sorted"): string {
  // Plain objects are by far the most common value in arguments: test for them first.
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null)
    return canonicalizePlain(value as Record<string, unknown>, omitKey, order);
  if (Array.isArray(value)) {
    let text = "[";
    for (let i = 0; i < value.length; i++) text += (i === 0 ? "" : ",") + canonicalize(value[i]);
    return text + "]";
  }
  if (value instanceof Date) return `#d:${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()}`;
  if (Decimal.isDecimal(value)) return `#m:${(value as Decimal).toString()}`;
  if (value instanceof Uint8Array)
    return `#y:${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64")}`;
  return canonicalizeInstance(value);
}

function canonicalizePlain(value: Record<string, unknown>, omitKey: string | undefined, order: KeyOrder): string {
  let keys = Object.keys(value);
  // Sorting is what makes property order irrelevant; a single key needs none.
  if (order === "sorted" && keys.length > 1) keys.sort();
  if (order === "selections")
    keys = [
      ...keys.filter((key) => !AGGREGATE_SELECTIONS.has(key)).sort(),
      ...keys.filter((key) => AGGREGATE_SELECTIONS.has(key)),
    ];
  let text = "{";
  let first = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const child = value[key];
    if (child === undefined || key === omitKey || isSkip(child)) continue;
    const orderedChild = typeof child === "object" && child !== null && RESULT_ORDER_KEYS.has(key);
    text +=
      (first ? "" : ",") +
      quoted(key) +
      (orderedChild ? canonicalizeObject(child, undefined, "own") : canonicalize(child));
    first = false;
  }
  return text + "}";
}

/**
 * Argument keys repeat (`where`, `id`, `select`...): their quoted form is kept rather than re-encoded on every read.
 */
const quotedKeys = new Map<string, string>();
const MAX_QUOTED_KEYS = 10_000;

/** `"key":`, JSON-quoted. */
function quoted(key: string): string {
  let text = quotedKeys.get(key);
  if (text === undefined) {
    text = JSON.stringify(key) + ":";
    if (quotedKeys.size < MAX_QUOTED_KEYS) quotedKeys.set(key, text);
  }
  return text;
}

/**
 * The canonical text of a read's arguments, leaving out the top-level
 * `cache` option (it says how to cache, not what to read), without copying
 * the arguments to remove it.
 *
 * @param aggregate true for `aggregate` and `groupBy`, whose result lists its groups in the order of their selections
 */
export function canonicalizeArgs(args: Record<string, unknown> | undefined, aggregate = false): string {
  return args === undefined ? "{}" : canonicalizeObject(args, "cache", aggregate ? "selections" : "sorted");
}

/**
 * Class instances Prisma accepts in arguments: its null sentinels (named as
 * Prisma names them: prisma/internals.ts), field references and Decimal-like objects. Anything else is refused,
 * because two different instances could otherwise print the same.
 */
function canonicalizeInstance(value: object): string {
  const sentinel = objectEnumName(value);
  if (sentinel !== undefined) return `#s:${sentinel}`;
  // Field references (`prisma.user.fields.email`) compare against another column.
  const field = value as { modelName?: unknown; name?: unknown; typeName?: unknown; isList?: unknown };
  if (typeof field.modelName === "string" && typeof field.name === "string" && typeof field.typeName === "string") {
    return `#f:${JSON.stringify([field.modelName, field.name, field.typeName, field.isList === true])}`;
  }
  const decimalLike = value as { toFixed?: unknown; d?: unknown; e?: unknown; s?: unknown };
  // Another copy of decimal.js: its digits are an array, or null for NaN and ±Infinity.
  if (
    typeof decimalLike.toFixed === "function" &&
    (Array.isArray(decimalLike.d) || (decimalLike.d === null && "e" in decimalLike && "s" in decimalLike))
  )
    return `#m:${String(value)}`;
  throw new CacheError(
    "E_INVALID_QUERY_OPTION",
    `query arguments hold an instance of ${value.constructor?.name ?? "an unknown class"}, which cannot be part of a cache key. Pass plain data, Date, BigInt, Decimal or Uint8Array in cached queries.`,
  );
}

/** `Prisma.skip` means "leave this field out"; the generated client re-exports the runtime's singleton. */
function isSkip(value: unknown): boolean {
  return value === skip;
}
