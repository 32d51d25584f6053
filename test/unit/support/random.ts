/**
 * A seeded pseudo-random generator and random Prisma-like argument trees,
 * for property-style tests that are reproducible from their seed.
 */
import { Decimal } from "@prisma/client/runtime/client";

/** mulberry32: a small, fast, seedable PRNG. Returns floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Helpers over one PRNG. */
export class Rng {
  readonly #next: () => number;

  constructor(seed: number) {
    this.#next = seededRandom(seed);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.#next() * n);
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** A Fisher-Yates shuffled copy of `items`. */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    return copy;
  }

  /** A short identifier-like string (field names, string values). */
  word(): string {
    const letters = 'abcdefghijklmnopqrstuvwxyz_ABC|:"\\é';
    let text = "";
    const length = 1 + this.int(6);
    for (let i = 0; i < length; i++) text += letters[this.int(letters.length)];
    return text;
  }
}

/** A leaf value of the kinds Prisma accepts in query arguments. */
export type Leaf = string | number | boolean | null | bigint | Date | Decimal | Uint8Array;
/** A random argument tree: plain objects, arrays, leaves. */
export type Tree = Leaf | Tree[] | { [key: string]: Tree };

export const LEAF_KINDS = ["string", "number", "boolean", "null", "bigint", "date", "decimal", "bytes"] as const;

/** A random leaf. */
export function randomLeaf(rng: Rng): Leaf {
  switch (rng.pick(LEAF_KINDS)) {
    case "string":
      return rng.word();
    case "number":
      return rng.int(2) === 0 ? rng.int(1000) : rng.int(100_000) / 100;
    case "boolean":
      return rng.int(2) === 0;
    case "null":
      return null;
    case "bigint":
      return BigInt(rng.int(1_000_000)) * 1_000_000_007n;
    case "date":
      return new Date(Date.UTC(2020, 0, 1) + rng.int(1_000_000_000));
    case "decimal":
      return new Decimal(`${rng.int(100_000)}.${rng.int(1000)}`);
    case "bytes":
      return Uint8Array.from({ length: rng.int(5) }, () => rng.int(256));
  }
}

/** A random nested argument object, up to `depth` levels of objects and arrays. */
export function randomArgs(rng: Rng, depth = 3): { [key: string]: Tree } {
  const object: { [key: string]: Tree } = {};
  const width = 1 + rng.int(5);
  for (let i = 0; i < width; i++) object[`${rng.word()}${i}`] = randomTree(rng, depth - 1);
  return object;
}

function randomTree(rng: Rng, depth: number): Tree {
  const roll = depth <= 0 ? 0 : rng.int(4);
  if (roll === 1) return randomArgs(rng, depth);
  if (roll === 2) return Array.from({ length: 1 + rng.int(3) }, () => randomTree(rng, depth - 1));
  return randomLeaf(rng);
}

/** A structurally equal copy of `tree` whose objects list their keys in a random order, at every level. */
export function shuffleKeys(tree: Tree, rng: Rng): Tree {
  if (Array.isArray(tree)) return tree.map((item) => shuffleKeys(item, rng));
  if (!isPlainObject(tree)) return tree;
  const copy: { [key: string]: Tree } = {};
  for (const key of rng.shuffle(Object.keys(tree))) copy[key] = shuffleKeys(tree[key] as Tree, rng);
  return copy;
}

/** The kind of a leaf, as {@link randomLeaf} chooses it. */
export function leafKind(leaf: Leaf): (typeof LEAF_KINDS)[number] {
  if (leaf === null) return "null";
  if (leaf instanceof Date) return "date";
  if (leaf instanceof Uint8Array) return "bytes";
  if (leaf instanceof Decimal) return "decimal";
  return typeof leaf as "string" | "number" | "boolean" | "bigint";
}

/** Every leaf of `tree`. */
export function leaves(tree: Tree): Leaf[] {
  if (Array.isArray(tree)) return tree.flatMap(leaves);
  if (isPlainObject(tree)) return Object.values(tree).flatMap(leaves);
  return [tree as Leaf];
}

/** Paths (property names and array indices) to every leaf of `tree`. */
export function leafPaths(tree: Tree, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(tree)) return tree.flatMap((item, index) => leafPaths(item, [...prefix, index]));
  if (isPlainObject(tree)) return Object.keys(tree).flatMap((key) => leafPaths(tree[key] as Tree, [...prefix, key]));
  return [prefix];
}

/**
 * A copy of `tree` with the leaf at `path` replaced by a different value (different in value, and possibly in type).
 */
export function withMutatedLeaf(tree: Tree, path: readonly (string | number)[]): Tree {
  if (path.length === 0) return mutateLeaf(tree as Leaf);
  const [head, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(tree)) return tree.map((item, index) => (index === head ? withMutatedLeaf(item, rest) : item));
  const object = tree as { [key: string]: Tree };
  return { ...object, [head]: withMutatedLeaf(object[head] as Tree, rest) };
}

function mutateLeaf(leaf: Leaf): Leaf {
  if (leaf === null) return 0;
  if (typeof leaf === "string") return `${leaf}x`;
  if (typeof leaf === "number") return leaf + 1;
  if (typeof leaf === "boolean") return !leaf;
  if (typeof leaf === "bigint") return leaf + 1n;
  if (leaf instanceof Date) return new Date(leaf.getTime() + 1);
  if (leaf instanceof Uint8Array) return Uint8Array.from([...leaf, 0]);
  return leaf.plus("0.001");
}

function isPlainObject(value: unknown): value is { [key: string]: Tree } {
  return typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}
