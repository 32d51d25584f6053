/**
 * Copies of in-process entries. The in-process tier keeps one decoded result
 * per key and hands each caller its own copy, so a caller that mutates what it
 * got cannot change what the next hit returns (consistency contract, item 7).
 *
 * Faster than `structuredClone` for query results, and correct for them:
 * `structuredClone` turns a `Decimal` into a plain object.
 */

/** Deep copy of a query result: plain objects, arrays, Date, Uint8Array; Decimal (immutable) and other instances are shared. */
export function cloneResult<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  // Most values are rows (plain objects); test for them first.
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype || proto === null) return clonePlainObject(value as Record<string, unknown>) as T;
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = cloneResult(value[i]);
    return copy as T;
  }
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value instanceof Uint8Array) return value.slice() as T;
  // Decimal is immutable; any other class instance is not something Prisma returns.
  return value;
}

function clonePlainObject(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    const child = cloneResult(value[key]);
    // A Json column may hold an own "__proto__" key; assignment would set the prototype instead.
    if (key === "__proto__") Object.defineProperty(copy, key, { value: child, enumerable: true, writable: true, configurable: true });
    else copy[key] = child;
  }
  return copy;
}
