/**
 * Copies of in-process entries. The in-process tier keeps one decoded result
 * per key and hands each caller its own copy, so a caller that mutates what it
 * got cannot change what the next hit returns (consistency contract, item 7).
 *
 * Faster than `structuredClone` for query results, and correct for them:
 * `structuredClone` turns a `Decimal` into a plain object.
 */

/**
 * Deep copy of a query result: plain objects, arrays, Date, Uint8Array; Decimal (immutable) and other instances are
 * shared.
 */
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
  if (value instanceof Uint8Array) return copyBytes(value) as T;
  // Decimal is immutable; any other class instance is not something Prisma returns.
  return value;
}

/**
 * A copy of bytes, of the same class. Not `value.slice()`: on a Node
 * `Buffer` (a Uint8Array subclass that callers and result extensions use),
 * `slice` returns a view of the same memory.
 */
function copyBytes(value: Uint8Array): Uint8Array {
  return Uint8Array.prototype.slice.call(value);
}

function clonePlainObject(value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key in value) {
    const child = cloneResult(value[key]);
    // A Json column may hold an own "__proto__" key; assignment would set the prototype instead.
    if (key === "__proto__")
      Object.defineProperty(copy, key, { value: child, enumerable: true, writable: true, configurable: true });
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

/** Nested plain objects are compiled into the copier down to this depth; deeper values use the generic walk. */
const MAX_DEPTH = 4;

/**
 * The shape of one value: "p" primitive (or null), "d" Date, "y" bytes, "m"
 * Decimal or another instance (shared), "a" a list of primitives, "{...}" a
 * plain object with the shapes of its fields, "g" anything else (generic copy).
 */
function shapeOfValue(value: unknown, depth: number): string {
  if (typeof value !== "object" || value === null) return "p";
  if (value instanceof Date) return "d";
  if (value instanceof Uint8Array) return "y";
  if (Array.isArray(value)) return value.every((item) => typeof item !== "object" || item === null) ? "a" : "g";
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === Object.prototype)
    return depth < MAX_DEPTH ? (objectShape(value as Record<string, unknown>, depth + 1) ?? "g") : "g";
  return proto === null ? "g" : "m";
}

/**
 * `{"k":shape,...}` of a plain object; undefined when it has an own `__proto__` key (a literal would set the
 * prototype).
 */
function objectShape(value: Record<string, unknown>, depth: number): string | undefined {
  let signature = "{";
  for (const key in value) {
    if (key === "__proto__") return undefined;
    signature += `${JSON.stringify(key)}:${shapeOfValue(value[key], depth)},`;
  }
  return `${signature}}`;
}

/** `{...}` for a row, `[{...}]` for a list of rows of one shape; undefined when there is no simple shape. */
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
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype)
    return undefined;
  return objectShape(value as Record<string, unknown>, 1);
}

/** Source of an expression copying `at`, a value of the same shape as `sample`. */
function copyExpression(at: string, sample: unknown, depth: number): string {
  const shape = shapeOfValue(sample, depth);
  if (shape === "p" || shape === "m") return at;
  if (shape === "d") return `new Date(${at}.getTime())`;
  if (shape === "y") return `y(${at})`;
  if (shape === "a") return `${at}.slice()`;
  if (shape === "g") return `g(${at})`;
  return objectLiteral(at, sample as Record<string, unknown>, depth + 1);
}

function objectLiteral(at: string, sample: Record<string, unknown>, depth: number): string {
  const fields: string[] = [];
  for (const key in sample)
    fields.push(`${JSON.stringify(key)}: ${copyExpression(`${at}[${JSON.stringify(key)}]`, sample[key], depth)}`);
  return `{ ${fields.join(", ")} }`;
}

function compile(value: unknown): Cloner {
  const row = (Array.isArray(value) ? value[0] : value) as Record<string, unknown>;
  // Keys are JSON-quoted and `__proto__` keys excluded by the shape, so the generated literal is exact.
  const copyRow = new Function("g", "y", `return function copyRow(v) { return ${objectLiteral("v", row, 1)}; };`)(
    cloneResult,
    copyBytes,
  ) as (row: unknown) => unknown;
  if (!Array.isArray(value)) return copyRow as Cloner;
  return ((list: unknown[]) => {
    const copy = new Array<unknown>(list.length);
    for (let i = 0; i < list.length; i++) copy[i] = copyRow(list[i]);
    return copy;
  }) as Cloner;
}
