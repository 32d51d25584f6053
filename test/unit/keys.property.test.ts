/**
 * Property-based key tests (fast-check), over thousands of generated
 * argument objects and contexts:
 *
 * - equal queries share a key: a query rewritten without changing its
 *   meaning (key order, undefined properties, -0, a new Date or Decimal of
 *   the same value, a Buffer for a Uint8Array, a null-prototype object) has
 *   the same key;
 * - unequal queries never share one: over a small domain, where equal pairs
 *   are common, two queries (arguments and context) share a key exactly when
 *   a reference equality, written here independently of the key builder,
 *   says they mean the same;
 * - hostile values (`__proto__`, `constructor` and `prototype` keys, deep
 *   nesting, cycles, huge strings, exotic numbers, class instances) either
 *   give a key whose Redis name carries no value, or a failure the read path
 *   turns into a report (a `CacheError`, or the stack overflow of a cycle),
 *   and no prototype gains a property.
 *
 * Failures print fast-check's seed and the shrunk counterexample.
 */
import { isDeepStrictEqual } from "node:util";
import { Decimal, skip } from "@prisma/client/runtime/client";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheError } from "../../src/errors.ts";
import { keyFailure } from "../../src/keys/context.ts";
import { keyShape, queryKey, sharedNamespace } from "../../src/keys/query-key.ts";
import { seededRandom } from "./support/random.ts";

const NAMESPACE = sharedNamespace("pqc:", "datamodelhash");
const NAME = /^pqc:v\d+:datamodelhash:User:findMany:[A-Za-z0-9_-]{22}$/;
const keyOf = (args: unknown, context?: Record<string, unknown>) =>
  queryKey(NAMESPACE, "User", "findMany", args as Record<string, unknown> | undefined, context);

/** An object with exactly these own, enumerable properties (`__proto__` included), plain or with no prototype. */
function objectOf(entries: ReadonlyArray<readonly [string, unknown]>, nullPrototype = false): Record<string, unknown> {
  const object = (nullPrototype ? Object.create(null) : {}) as Record<string, unknown>;
  for (const [key, value] of entries)
    Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
  return object;
}

/**
 * What a value means to Prisma, as a plain structure compared with
 * `isDeepStrictEqual`: object key order, undefined properties, `Prisma.skip`,
 * prototypes (plain or null) and the sign of zero do not count; each type
 * stays apart from the others (`1`, `"1"`, `1n` and `Decimal(1)` differ).
 * The key fields whose order shapes the result (`select`, `include`, ...)
 * are never generated here.
 */
function meaning(value: unknown): unknown {
  switch (typeof value) {
    case "number":
      return Number.isFinite(value) ? ["n", value === 0 ? 0 : value] : ["n!", String(value)];
    case "string":
      return ["s", value];
    case "bigint":
      return ["b", String(value)];
    case "boolean":
      return ["t", value];
    default:
      break;
  }
  if (value === null) return ["null"];
  if (Array.isArray(value)) return ["a", value.map(meaning)];
  if (value instanceof Date) return ["d", Number.isNaN(value.getTime()) ? "invalid" : value.getTime()];
  if (Decimal.isDecimal(value)) return ["m", (value as Decimal).toString()];
  if (value instanceof Uint8Array) return ["y", [...value]];
  const entries = Object.keys(value as object)
    .filter(
      (key) =>
        (value as Record<string, unknown>)[key] !== undefined && (value as Record<string, unknown>)[key] !== skip,
    )
    .sort()
    .map((key) => [key, meaning((value as Record<string, unknown>)[key])]);
  return ["o", entries];
}

/** Keys that collide often, hostile ones included. */
const smallKey = fc.constantFrom("a", "b", "", "__proto__", "constructor", "toString");

/** Leaves of a small domain: equal pairs are frequent, and every type Prisma accepts is there. */
const smallLeaf = fc.oneof(
  fc.constantFrom<unknown>(0, -0, 1, 1.5, Number.NaN, Infinity, -Infinity, "", "0", "1", "#n:NaN", "null", 'a"b'),
  fc.constantFrom<unknown>(null, true, false, 0n, 1n, "__proto__"),
  fc.constantFrom(0, 1).map((ms) => new Date(ms)),
  fc.constant(null).map(() => new Date(Number.NaN)),
  fc.constantFrom("1", "1.0", "2").map((text) => new Decimal(text)),
  fc.constantFrom([], [1], [1, 2]).map((bytes) => Uint8Array.from(bytes)),
);

const smallTree = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    smallLeaf,
    fc.array(tie("node"), { maxLength: 3 }),
    fc
      .tuple(fc.array(fc.tuple(smallKey, tie("node")), { maxLength: 3 }), fc.boolean())
      .map(([entries, bare]) => objectOf(entries, bare)),
  ),
})).node;

/** Top-level arguments are an object (or absent, which means `{}`). */
const smallArgs = fc.oneof(
  fc.constant(undefined),
  fc.array(fc.tuple(smallKey, smallTree), { maxLength: 3 }).map((entries) => objectOf(entries)),
);

const smallContext = fc.oneof(
  fc.constant(undefined),
  fc
    .array(
      fc.tuple(fc.constantFrom("tenant", "locale", "__proto__"), fc.constantFrom<unknown>(1, "1", null, true, "")),
      {
        maxLength: 2,
      },
    )
    .map((entries) => objectOf(entries)),
);

/** `value` written differently with the same meaning; `random` picks how. */
function rewrite(value: unknown, random: () => number): unknown {
  if (typeof value === "number" && value === 0) return random() < 0.5 ? -0 : 0;
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map((item) => rewrite(item, random));
  if (value instanceof Date) return new Date(value.getTime());
  if (Decimal.isDecimal(value)) return new Decimal((value as Decimal).toFixed(3)); // "1" -> "1.000", same value
  if (value instanceof Uint8Array) return random() < 0.5 ? Buffer.from(value) : Uint8Array.from(value);
  const entries: Array<[string, unknown]> = Object.keys(value).map((key) => [
    key,
    rewrite((value as Record<string, unknown>)[key], random),
  ]);
  for (let i = entries.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [entries[i], entries[j]] = [entries[j] as [string, unknown], entries[i] as [string, unknown]];
  }
  if (random() < 0.3) entries.push([`extra${entries.length}`, random() < 0.5 ? undefined : skip]);
  return objectOf(entries, random() < 0.3);
}

/** The own property names of the built-in prototypes, to see that nothing was added to them. */
function prototypeSnapshot(): string[][] {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype, Number.prototype].map((proto) =>
    Reflect.ownKeys(proto).map(String).sort(),
  );
}

describe("property: keys (fast-check)", () => {
  let before: string[][];
  beforeAll(() => (before = prototypeSnapshot()));
  afterAll(() => {
    expect(prototypeSnapshot(), "no built-in prototype gained or lost a property").toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("a query written differently with the same meaning has the same key (5,000 queries)", () => {
    fc.assert(
      fc.property(smallArgs, smallContext, fc.integer(), (args, context, seed) => {
        const random = seededRandom(seed);
        const a = keyOf(args, context);
        const b = keyOf(rewrite(args, random), rewrite(context, random) as Record<string, unknown> | undefined);
        expect(b.local).toBe(a.local);
        expect(b.shared()).toEqual(a.shared());
      }),
      { numRuns: 5_000 },
    );
  });

  it("two queries share a key exactly when they mean the same, arguments and context (20,000 pairs)", () => {
    let equalPairs = 0;
    fc.assert(
      fc.property(smallArgs, smallContext, smallArgs, smallContext, (argsA, contextA, argsB, contextB) => {
        const same =
          isDeepStrictEqual(meaning(argsA ?? {}), meaning(argsB ?? {})) &&
          isDeepStrictEqual(
            contextA === undefined ? undefined : meaning(contextA),
            contextB === undefined ? undefined : meaning(contextB),
          );
        if (same) equalPairs++;
        const a = keyOf(argsA, contextA);
        const b = keyOf(argsB, contextB);
        expect(a.local === b.local).toBe(same);
        expect(a.shared().name === b.shared().name).toBe(same);
      }),
      { numRuns: 20_000 },
    );
    // The domain is small on purpose: the "same" side of the property must be exercised too.
    expect(equalPairs).toBeGreaterThan(200);
  });

  it("arguments and context never stand in for each other", () => {
    fc.assert(
      fc.property(smallArgs, smallContext, (args, context) => {
        fc.pre(context !== undefined);
        const swapped = keyOf(context, args as Record<string, unknown> | undefined);
        fc.pre(!isDeepStrictEqual(meaning(args ?? {}), meaning(context)));
        expect(keyOf(args, context).local).not.toBe(swapped.local);
      }),
      { numRuns: 2_000 },
    );
  });

  /** Anything a caller could pass: every JavaScript value fast-check makes, with hostile keys. */
  const hostileKey = fc.oneof(fc.string(), fc.constantFrom("__proto__", "constructor", "prototype", "then", "toJSON"));
  const anything = fc.anything({
    key: hostileKey,
    maxDepth: 4,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
    withObjectString: true,
    withBoxedValues: true,
    withUnicodeString: true,
  });
  const exoticNumber = fc.oneof(
    fc.double(),
    fc.constantFrom(Number.MAX_VALUE, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER + 2, -0, 2 ** -1074),
  );
  const hugeString = fc.integer({ min: 100_000, max: 1_000_000 }).map((n) => 'x\u0000"\\'.repeat(n / 4));
  /** A chain of objects nested `depth` deep (far past any stack at the top). */
  const deep = fc.integer({ min: 1, max: 50_000 }).map((depth) => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = { where: value };
    return value;
  });
  /** An object that contains itself somewhere below. */
  const cyclic = fc.tuple(anything, fc.constantFrom("self", "__proto__", "a")).map(([inner, key]) => {
    const outer = objectOf([["inner", inner]]);
    Object.defineProperty(outer, key, { value: outer, enumerable: true });
    return outer;
  });

  /** Keys `hostile` where a caller could put it; a failure must be what the read path turns into a report. */
  function keyOrReport(hostile: unknown, where: "args" | "context" | "nested"): "keyed" | "refused" {
    const args = where === "args" ? hostile : where === "nested" ? { where: { id: hostile } } : { take: 1 };
    const context = where === "context" ? { tenant: hostile } : undefined;
    let key;
    try {
      key = keyOf(objectOf([["hostile", args]]), context);
    } catch (error) {
      // What the read path does with a key it cannot build: a CacheError to report, never a throw.
      expect(error instanceof CacheError || error instanceof RangeError).toBe(true);
      expect(keyFailure({ model: "User", operation: "findMany" }, context, error)).toBeInstanceOf(CacheError);
      return "refused";
    }
    expect(key.shared().name).toMatch(NAME);
    expect(typeof keyShape(key.local)).toBe("string");
    return "keyed";
  }
  const place = fc.constantFrom("args", "context", "nested") as fc.Arbitrary<"args" | "context" | "nested">;

  it("any JavaScript value, hostile keys and exotic numbers included, gives a valueless Redis name or a reportable failure (2,000 cases)", () => {
    const outcomes = { keyed: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(anything, exoticNumber, cyclic), place, (hostile, where) => {
        outcomes[keyOrReport(hostile, where)]++;
      }),
      { numRuns: 2_000 },
    );
    expect(outcomes.keyed).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });

  it("huge strings and nesting far past the stack: the same (40 cases)", () => {
    const outcomes = { keyed: 0, refused: 0 };
    fc.assert(
      fc.property(fc.oneof(hugeString, deep), place, (hostile, where) => {
        outcomes[keyOrReport(hostile, where)]++;
      }),
      { numRuns: 40 },
    );
    expect(outcomes.keyed).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  });
});
