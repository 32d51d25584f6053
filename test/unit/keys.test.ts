/**
 * Query keys: the canonical text is a function of what the query means, not
 * of how its object was written; different queries never share a key; the
 * Redis name is a hash that carries no argument values.
 */
import { AnyNull, DbNull, Decimal, JsonNull, skip } from "@prisma/client/runtime/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cacheExtension, KEY_FORMAT_VERSION } from "../../src/index.ts";
import { canonicalize } from "../../src/keys/canonical.ts";
import { hashKey, shortHash } from "../../src/keys/hash.ts";
import { keyShape, queryKey, sharedNamespace } from "../../src/keys/query-key.ts";
import { runtimeDataModel } from "../../src/prisma/internals.ts";
import { catchCacheError } from "./support/cache-error.ts";
import {
  LEAF_KINDS,
  leafKind,
  leafPaths,
  leaves,
  randomArgs,
  randomLeaf,
  Rng,
  shuffleKeys,
  withMutatedLeaf,
  type Tree,
} from "./support/random.ts";
import { createSqliteFixture, type SqliteFixture } from "./support/sqlite-client.ts";
import { describeWith } from "../helpers/describe-with.ts";
import { connectRedis, deleteKeysUnder, entryKeysUnder } from "../helpers/services.ts";

type CachedSqlite = ReturnType<SqliteFixture["prisma"]["$extends"]> & {
  user: { count(args: object): Promise<number> };
};
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { PrismaClient } from "../generated/sqlite/client.ts";

const NAMESPACE = sharedNamespace("pqc:", "datamodelhash");
/** 128 bits in unpadded base64url. */
const BASE64URL_128 = /^[A-Za-z0-9_-]{22}$/;

const keyOf = (args: unknown, context?: Record<string, unknown>) =>
  queryKey(NAMESPACE, "User", "findMany", args as Record<string, unknown> | undefined, context);
const sameKey = (a: unknown, b: unknown) => expect(keyOf(a).local).toBe(keyOf(b).local);
const differentKeys = (a: unknown, b: unknown) => {
  expect(keyOf(a).local).not.toBe(keyOf(b).local);
  expect(keyOf(a).shared().name).not.toBe(keyOf(b).shared().name);
};

describe("canonical arguments: same meaning, same key", () => {
  it("ignores property order", () => {
    sameKey({ where: { id: 1, email: "a@b.c" }, take: 5 }, { take: 5, where: { email: "a@b.c", id: 1 } });
  });

  it("ignores property order deep inside nested objects and objects inside arrays", () => {
    sameKey(
      {
        where: { AND: [{ posts: { some: { title: { contains: "x", mode: "insensitive" }, views: { gt: 1 } } } }] },
        orderBy: [{ name: "asc" }],
      },
      {
        orderBy: [{ name: "asc" }],
        where: { AND: [{ posts: { some: { views: { gt: 1 }, title: { mode: "insensitive", contains: "x" } } } }] },
      },
    );
  });

  it("keeps the order of fields selected, included or aggregated: Prisma returns them in that order (exactness)", () => {
    differentKeys({ select: { id: true, name: true } }, { select: { name: true, id: true } });
    differentKeys({ include: { posts: true, profile: true } }, { include: { profile: true, posts: true } });
    differentKeys(
      { select: { posts: { select: { id: true, title: true } } } },
      { select: { posts: { select: { title: true, id: true } } } },
    );
    differentKeys(
      { select: { _count: { select: { posts: true, comments: true } } } },
      { select: { _count: { select: { comments: true, posts: true } } } },
    );
    differentKeys({ _sum: { views: true, rating: true } }, { _sum: { rating: true, views: true } });
    // What a relation is read with, besides its fields, is not ordered: only the field lists are.
    sameKey(
      { select: { posts: { where: { id: 1, title: "t" }, select: { id: true } } } },
      { select: { posts: { select: { id: true }, where: { title: "t", id: 1 } } } },
    );
  });

  it("keeps the order of aggregate and groupBy selections among their arguments (the order of the result's groups), and nothing else's", () => {
    const key = (operation: string, args: object) =>
      queryKey(NAMESPACE, "Post", operation, args as Record<string, unknown>, undefined).local;
    expect(key("aggregate", { _max: { views: true }, _sum: { views: true } })).not.toBe(
      key("aggregate", { _sum: { views: true }, _max: { views: true } }),
    );
    expect(key("groupBy", { by: ["id"], _max: { views: true }, _sum: { views: true } })).not.toBe(
      key("groupBy", { by: ["id"], _sum: { views: true }, _max: { views: true } }),
    );
    // The other arguments' order means nothing: one entry, and one key for invalidateQuery.
    expect(key("aggregate", { _count: { id: true }, where: { id: 1 }, take: 5 })).toBe(
      key("aggregate", { take: 5, where: { id: 1 }, _count: { id: true } }),
    );
    expect(key("groupBy", { _sum: { views: true }, by: ["id"], where: { id: 1 }, _max: { views: true } })).toBe(
      key("groupBy", { where: { id: 1 }, by: ["id"], _sum: { views: true }, _max: { views: true } }),
    );
    expect(key("findMany", { take: 1, where: { id: 1 } })).toBe(key("findMany", { where: { id: 1 }, take: 1 }));
  });

  it("treats an undefined property, and Prisma.skip, like an absent one (as Prisma does)", () => {
    sameKey({ where: { id: 1, name: undefined } }, { where: { id: 1 } });
    sameKey({ where: { id: 1, name: skip } }, { where: { id: 1 } });
  });

  it("gives undefined args and {} the same key", () => {
    sameKey(undefined, {});
  });
});

describe("canonical arguments: different meaning, different key", () => {
  it.each<[string, unknown, unknown]>([
    ['1 vs "1"', { where: { id: 1 } }, { where: { id: "1" } }],
    ['true vs "true"', { where: { published: true } }, { where: { published: "true" } }],
    ["null vs absent", { where: { name: null } }, { where: {} }],
    ['null vs "null"', { where: { name: null } }, { where: { name: "null" } }],
    [
      "a Date vs its ISO string",
      { where: { createdAt: new Date("2024-01-02T03:04:05.000Z") } },
      { where: { createdAt: "2024-01-02T03:04:05.000Z" } },
    ],
    [
      "two Dates one millisecond apart",
      { where: { createdAt: new Date(1_000) } },
      { where: { createdAt: new Date(1_001) } },
    ],
    ["BigInt 1n vs 1", { where: { visits: 1n } }, { where: { visits: 1 } }],
    ['BigInt 1n vs "1"', { where: { visits: 1n } }, { where: { visits: "1" } }],
    ['Decimal("1.5") vs "1.5"', { where: { balance: new Decimal("1.5") } }, { where: { balance: "1.5" } }],
    ['Decimal("1.5") vs 1.5', { where: { balance: new Decimal("1.5") } }, { where: { balance: 1.5 } }],
    [
      "Uint8Array vs its base64 string",
      { where: { avatar: Uint8Array.from([1, 2, 3]) } },
      { where: { avatar: Buffer.from([1, 2, 3]).toString("base64") } },
    ],
    [
      "two different byte arrays",
      { where: { avatar: Uint8Array.from([1, 2, 3]) } },
      { where: { avatar: Uint8Array.from([1, 2, 4]) } },
    ],
    ["[1, 2] vs [2, 1]", { where: { id: { in: [1, 2] } } }, { where: { id: { in: [2, 1] } } }],
    [
      "orderBy in a different order",
      { orderBy: [{ name: "asc" }, { id: "desc" }] },
      { orderBy: [{ id: "desc" }, { name: "asc" }] },
    ],
    ["NaN vs null", { take: Number.NaN }, { take: null }],
    ["a value under a different key", { where: { name: "a" } }, { where: { email: "a" } }],
    ["a string holding a separator", { where: { name: "a|b" } }, { where: { name: "a", email: "b" } }],
  ])("%s", (_label, a, b) => {
    differentKeys(a, b);
  });

  it("keeps DbNull, JsonNull and AnyNull distinct from null and from each other", () => {
    const values = [null, DbNull, JsonNull, AnyNull, "DbNull", "JsonNull", "AnyNull"];
    const keys = values.map((value) => keyOf({ where: { settings: { equals: value } } }).local);
    expect(new Set(keys).size).toBe(values.length);
  });

  it("keys a Decimal from another copy of decimal.js by its value, NaN and Infinity (no digit array) included", () => {
    /** The shape decimal.js gives its instances: digits `d` (null for NaN and ±Infinity), exponent `e`, sign `s`. */
    class OtherDecimal {
      constructor(
        readonly d: number[] | null,
        readonly e: number,
        readonly s: number,
        readonly text: string,
      ) {}
      toFixed(): string {
        return this.text;
      }
      toString(): string {
        return this.text;
      }
    }
    const nan = new OtherDecimal(null, Number.NaN, Number.NaN, "NaN");
    const infinity = new OtherDecimal(null, Number.NaN, 1, "Infinity");
    expect(canonicalize(nan)).toBe(canonicalize(new Decimal(Number.NaN)));
    expect(canonicalize(infinity)).toBe(canonicalize(new Decimal(Number.POSITIVE_INFINITY)));
    expect(canonicalize(new OtherDecimal([15], 0, 1, "1.5"))).toBe(canonicalize(new Decimal("1.5")));
    differentKeys({ where: { balance: nan } }, { where: { balance: infinity } });
  });

  it("gives equal Decimals written differently the same key only when their values print the same", () => {
    sameKey({ where: { balance: new Decimal("1.50") } }, { where: { balance: new Decimal("1.5") } });
    differentKeys({ where: { balance: new Decimal("1.5") } }, { where: { balance: new Decimal("1.05") } });
  });

  it("keys a Buffer like the Uint8Array of the same bytes", () => {
    sameKey({ where: { avatar: Buffer.from([7, 8, 9]) } }, { where: { avatar: Uint8Array.from([7, 8, 9]) } });
    sameKey(
      { where: { avatar: Buffer.from([0, 7, 8, 9, 0]).subarray(1, 4) } },
      { where: { avatar: Uint8Array.from([7, 8, 9]) } },
    );
  });

  it("gives a different key for a different model or operation", () => {
    const args = { where: { id: 1 } };
    const keys = [
      queryKey(NAMESPACE, "User", "findMany", args, undefined),
      queryKey(NAMESPACE, "Post", "findMany", args, undefined),
      queryKey(NAMESPACE, "User", "findFirst", args, undefined),
    ];
    expect(new Set(keys.map((key) => key.local)).size).toBe(3);
    expect(new Set(keys.map((key) => key.shared().name)).size).toBe(3);
  });

  it("gives a different key for a different context, and for no context", () => {
    const args = { where: { id: 1 } };
    const keys = [
      keyOf(args, { tenantId: 1 }),
      keyOf(args, { tenantId: 2 }),
      keyOf(args, { tenantId: "1" }),
      keyOf(args, { tenantId: null }),
      keyOf(args, undefined),
      keyOf(args, { tenantId: 1, locale: "fr" }),
    ];
    expect(new Set(keys.map((key) => key.local)).size).toBe(keys.length);
    expect(new Set(keys.map((key) => key.shared().name)).size).toBe(keys.length);
  });

  it("ignores the order of context dimensions", () => {
    expect(keyOf({}, { tenantId: 1, locale: "fr" }).local).toBe(keyOf({}, { locale: "fr", tenantId: 1 }).local);
  });

  it("gives reads with different custom tags different keys (they depend on different tags), whatever their order", () => {
    const args = { where: { id: 1 } };
    const tagged = (tags?: string[]) => queryKey(NAMESPACE, "User", "findMany", args, undefined, tags).local;
    expect(tagged(["a"])).not.toBe(tagged(["b"]));
    expect(tagged(["a"])).not.toBe(tagged());
    expect(tagged(["a", "b"])).toBe(tagged(["b", "a"]));
  });

  it("does not confuse arguments with context", () => {
    expect(keyOf({ tenantId: 1 }, {}).local).not.toBe(keyOf({}, { tenantId: 1 }).local);
  });
});

describe("canonical arguments: values that cannot be keyed are refused", () => {
  class Money {
    constructor(readonly cents: number) {}
  }

  it.each<[string, unknown]>([
    ["a function", () => 1],
    ["a symbol", Symbol("x")],
    ["an unknown class instance", new Money(5)],
    ["a Map", new Map([["a", 1]])],
    ["a RegExp", /x/],
  ])("refuses %s with E_INVALID_QUERY_OPTION", (_label, value) => {
    catchCacheError(() => canonicalize({ where: { name: value } }), "E_INVALID_QUERY_OPTION");
    catchCacheError(() => keyOf({ where: { name: value } }), "E_INVALID_QUERY_OPTION");
  });

  it("names the class it refused", () => {
    expect(catchCacheError(() => canonicalize(new Money(5)), "E_INVALID_QUERY_OPTION").message).toContain("Money");
  });
});

describe("Redis key names", () => {
  const args = { where: { email: "alice.secret@example.com", tenantId: 7 } };

  it("carry no raw argument value", () => {
    const { name, fingerprint } = keyOf(args).shared();
    expect(name).not.toContain("alice");
    expect(name).not.toContain("example.com");
    expect(fingerprint).not.toContain("alice");
  });

  it("are namespace, model, operation and a 128-bit base64url id", () => {
    const { name } = queryKey(NAMESPACE, "User", "findUnique", args, undefined).shared();
    expect(name.startsWith(NAMESPACE)).toBe(true);
    const [model, operation, id, ...rest] = name.slice(NAMESPACE.length).split(":");
    expect([model, operation, rest]).toEqual(["User", "findUnique", []]);
    expect(id).toMatch(BASE64URL_128);
  });

  it("come with a 128-bit fingerprint that is not the id", () => {
    const { name, fingerprint } = keyOf(args).shared();
    expect(fingerprint).toMatch(BASE64URL_128);
    expect(name.endsWith(fingerprint)).toBe(false);
  });

  it("are stable: the same query gives the same name and fingerprint, computed once", () => {
    const key = keyOf(args);
    expect(key.shared()).toBe(key.shared());
    expect(keyOf({ ...args }).shared()).toEqual(key.shared());
  });

  it("depend on the namespace", () => {
    const other = queryKey(sharedNamespace("pqc:", "otherhash"), "User", "findMany", args, undefined);
    expect(other.local).toBe(keyOf(args).local);
    expect(other.shared().name).not.toBe(keyOf(args).shared().name);
    expect(other.shared().fingerprint).not.toBe(keyOf(args).shared().fingerprint);
  });

  it("hashKey splits one SHA-256 into two different 128-bit halves", () => {
    const { id, fingerprint } = hashKey("some text");
    expect(id).toMatch(BASE64URL_128);
    expect(fingerprint).toMatch(BASE64URL_128);
    expect(id).not.toBe(fingerprint);
    expect(hashKey("some text")).toEqual({ id, fingerprint });
    expect(hashKey("some text.").id).not.toBe(id);
  });

  it("the namespace holds the prefix, the key format version and the data-model hash", () => {
    expect(KEY_FORMAT_VERSION).toBe(5);
    expect(sharedNamespace("app:", "abc123")).toBe(`app:v${KEY_FORMAT_VERSION}:abc123:`);
    expect(shortHash("x")).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(shortHash("x")).not.toBe(shortHash("y"));
  });
});

describe("Redis key names written by the extension", () => {
  let fixture: SqliteFixture;
  beforeAll(async () => {
    fixture = await createSqliteFixture();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  /**
   * Entry names the extension wrote to the real Redis under a fresh prefix (tag versions, under `<prefix>t:`, are left
   * out).
   */
  async function entryNamesWritten(
    prisma: object,
    read: (cached: CachedSqlite) => Promise<unknown>,
  ): Promise<string[]> {
    const redis = await connectRedis();
    const prefix = `unit-keys-${process.pid}-${Math.random().toString(36).slice(2)}:`;
    const cached = (prisma as typeof fixture.prisma).$extends(cacheExtension({ redis, prefix, l1: false }));
    try {
      await read(cached);
      await cached.$cache.settled();
      return (await entryKeysUnder(redis, prefix)).map((name) => name.slice(prefix.length));
    } finally {
      await cached.$cache.close();
      await deleteKeysUnder(redis, prefix);
      redis.disconnect();
    }
  }

  it("key field references (prisma.user.fields.x) by model and field, so reads comparing columns can be cached", () => {
    const byEmail = { where: { name: { equals: fixture.prisma.user.fields.email } } };
    const byName = { where: { name: { equals: fixture.prisma.user.fields.name } } };
    expect(keyOf(byEmail).local).toBe(keyOf({ where: { name: { equals: fixture.prisma.user.fields.email } } }).local);
    expect(keyOf(byEmail).local).not.toBe(keyOf(byName).local);
    expect(keyOf(byEmail).local).not.toBe(keyOf({ where: { name: { equals: "email" } } }).local);
  });

  // These read the names the extension writes to a real Redis (the shared tier is never faked).
  describeWith(["redis"], "names written to a real Redis", () => {
    it("differ between clients with different global omit options, whose results differ in shape", async () => {
      // Typed loosely: a client with a global omit has a different (incompatible) client type.
      const written = (prisma: object) => entryNamesWritten(prisma, (cached) => cached.user.count({ cache: true }));
      const omitting = new PrismaClient({
        adapter: new PrismaLibSql({ url: `file:${fixture.file}`, intMode: "bigint" }),
        omit: { user: { avatar: true } },
      });
      try {
        const [plain] = await written(fixture.prisma);
        const [withOmit] = await written(omitting);
        expect(plain).toBeDefined();
        expect(withOmit).toBeDefined();
        expect(withOmit).not.toBe(plain);
      } finally {
        await omitting.$disconnect();
      }
    });

    it("are under prefix, format version and the hash of the client's data model, with no argument values", async () => {
      // count: a 0 is cached (an empty findMany would not be, with the default negativeTtl of 0).
      const names = await entryNamesWritten(fixture.prisma, (cached) =>
        cached.user.count({ where: { email: "bob.private@example.com" }, cache: true }),
      );
      expect(names).toHaveLength(1);
      const dataModelHash = shortHash(canonicalize([runtimeDataModel(fixture.prisma), null]));
      const namespace = `v${KEY_FORMAT_VERSION}:${dataModelHash}:`;
      expect(names[0]?.startsWith(`${namespace}User:count:`)).toBe(true);
      expect(names[0]?.slice(`${namespace}User:count:`.length)).toMatch(BASE64URL_128);
      expect(names[0]).not.toContain("bob");
    });
  });
});

describe("property: canonical keys over random argument trees", () => {
  const RUNS = 300;

  it("the generator covers every leaf kind, nested objects and arrays", () => {
    const rng = new Rng(0x5eed);
    const trees = Array.from({ length: RUNS }, () => randomArgs(rng));
    const kinds = new Set(trees.flatMap((tree) => leaves(tree).map(leafKind)));
    expect([...kinds].sort()).toEqual([...LEAF_KINDS].sort());
    const depths = trees.flatMap((tree) => leafPaths(tree).map((path) => path.length));
    expect(Math.max(...depths)).toBeGreaterThanOrEqual(3);
    expect(trees.some((tree) => leafPaths(tree).some((path) => path.some((step) => typeof step === "number")))).toBe(
      true,
    );
  });

  it(`${RUNS} random trees: shuffled key order gives the same key`, () => {
    const rng = new Rng(0x5eed);
    for (let run = 0; run < RUNS; run++) {
      const args = randomArgs(rng);
      const shuffled = shuffleKeys(args, rng);
      expect(keyOf(shuffled).local, `run ${run}`).toBe(keyOf(args).local);
      expect(keyOf(shuffled).shared(), `run ${run}`).toEqual(keyOf(args).shared());
    }
  });

  it(`${RUNS} random trees: changing any one leaf gives a different key`, () => {
    const rng = new Rng(0xc0ffee);
    for (let run = 0; run < RUNS; run++) {
      const args = randomArgs(rng);
      const path = rng.pick(leafPaths(args));
      const mutated = withMutatedLeaf(args, path);
      expect(keyOf(mutated).local, `run ${run}, leaf ${JSON.stringify(path)}`).not.toBe(keyOf(args).local);
      expect(keyOf(mutated).shared().name, `run ${run}, leaf ${JSON.stringify(path)}`).not.toBe(
        keyOf(args).shared().name,
      );
    }
  });

  it(`${RUNS} random trees: the key's shape depends on the structure only, never on a value (it is what oversize reports are deduplicated by)`, () => {
    const rng = new Rng(0x5a9e);
    const relabel = (tree: Tree, leaf: () => Tree): Tree => {
      if (Array.isArray(tree)) return tree.map((item) => relabel(item, leaf));
      if (typeof tree === "object" && tree !== null && Object.getPrototypeOf(tree) === Object.prototype)
        return Object.fromEntries(Object.entries(tree).map(([key, value]) => [key, relabel(value as Tree, leaf)]));
      return leaf();
    };
    for (let run = 0; run < RUNS; run++) {
      const args = randomArgs(rng);
      const shape = keyShape(keyOf(args).local);
      expect(keyShape(keyOf(relabel(args, () => randomLeaf(rng)) as Record<string, unknown>).local), `run ${run}`).toBe(
        shape,
      );
      // Every value, whatever its kind, is one placeholder: the shape of the tree with every leaf 0.
      expect(keyShape(keyOf(relabel(args, () => 0) as Record<string, unknown>).local), `run ${run}`).toBe(shape);
    }
  });

  it("a key's shape keeps model, operation, field names and structure; lists of any length are one placeholder", () => {
    const shape = (args: Record<string, unknown>) =>
      keyShape(queryKey("pqc:", "User", "findMany", args, { tenantId: 7 }).local);
    expect(shape({ where: { id: { in: [1, 2, 3] }, email: 'a"b:c' }, take: -5 })).toBe(
      'User|findMany|{"take":?,"where":{"email":?,"id":{"in":[?]}}}|{"tenantId":?}',
    );
    expect(shape({ where: { id: { in: [9] }, email: "x" }, take: 10 })).toBe(
      shape({ where: { id: { in: [1, 2, 3] }, email: 'a"b:c' }, take: -5 }),
    );
  });

  it(`${RUNS} random trees: adding undefined properties does not change the key`, () => {
    const rng = new Rng(0xbeef);
    for (let run = 0; run < RUNS; run++) {
      const args = randomArgs(rng);
      expect(keyOf({ ...args, [`extra${run}`]: undefined }).local).toBe(keyOf(args).local);
    }
  });
});
