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

/** A function that deep-copies values of one shape. */
export type Cloner = <T>(value: T) => T;

const MAX_COMPILED_SHAPES = 1_000;
const compiled = new Map<string, Cloner>();

/**
 * A copier specialised for the shape of `value` (its keys, in order, and
 * whether each holds a primitive, a Date, bytes, a Decimal, or something
 * else), shared by every value of that shape. An in-process entry never
 * changes, so the copier chosen when it is stored stays exact for it; each
 * hit then builds its copy with one object literal of a fixed shape, which V8
 * optimises far better than a generic walk. Values with no simple shape (an
 * own `__proto__` key, mixed list elements) use {@link cloneResult}.
 */
export function clonerFor(value: unknown): Cloner {
  const signature = shapeOf(value);
  if (signature === undefined) return cloneResult;
  let cloner = compiled.get(signature);
  if (cloner === undefined) {
    if (compiled.size >= MAX_COMPILED_SHAPES) return cloneResult;
    cloner = compile(value);
    compiled.set(signature, cloner);
  }
  return cloner;
}

type Kind = "p" | "d" | "y" | "m" | "g";

function kindOf(value: unknown): Kind {
  if (typeof value !== "object" || value === null) return "p";
  if (value instanceof Date) return "d";
  if (value instanceof Uint8Array) return "y";
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === Object.prototype || proto === null || Array.isArray(value) ? "g" : "m";
}

/** `{k:kind,...}` for a row, `[row-shape]` for a list of rows of one shape; undefined when there is no simple shape. */
function shapeOf(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    if (value.length === 0) return undefined;
    const element = rowShape(value[0]);
    if (element === undefined) return undefined;
    for (let i = 1; i < value.length; i++) if (rowShape(value[i]) !== element) return undefined;
    return `[${element}]`;
  }
  return rowShape(value);
}

function rowShape(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype) return undefined;
  let signature = "{";
  for (const key in value) {
    if (key === "__proto__") return undefined;
    signature += `${JSON.stringify(key)}:${kindOf((value as Record<string, unknown>)[key])},`;
  }
  return `${signature}}`;
}

function compile(value: unknown): Cloner {
  const row = Array.isArray(value) ? value[0] : value;
  const fields: string[] = [];
  for (const key in row as Record<string, unknown>) {
    const at = `v[${JSON.stringify(key)}]`;
    const kind = kindOf((row as Record<string, unknown>)[key]);
    const copy = kind === "p" || kind === "m" ? at : kind === "d" ? `new Date(${at}.getTime())` : kind === "y" ? `${at}.slice()` : `g(${at})`;
    fields.push(`${JSON.stringify(key)}: ${copy}`);
  }
  // Keys are JSON-quoted and `__proto__` is excluded by rowShape, so the generated literal is exact.
  const copyRow = new Function("g", `return function copyRow(v) { return { ${fields.join(", ")} }; };`)(cloneResult) as (row: unknown) => unknown;
  if (!Array.isArray(value)) return copyRow as Cloner;
  return ((list: unknown[]) => {
    const copy = new Array<unknown>(list.length);
    for (let i = 0; i < list.length; i++) copy[i] = copyRow(list[i]);
    return copy;
  }) as Cloner;
}
