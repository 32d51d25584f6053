/** Suite part 5: arguments that mean the same query share an entry; any difference gets its own. */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CacheArgs } from "../../../src/index.js";
import { Prisma } from "../../generated/postgres/client.ts";
import type { CachedPrisma } from "../../helpers/clients.js";
import { ALICE } from "../../helpers/fixture.js";
import { observe, type Harness } from "../../helpers/harness.js";

export function describeKeyCanonicalisation(h: Harness): void {
  describe("key canonicalisation", () => {
    it("the same arguments in a different property order share one entry (filters, options; not the fields selected)", async () => {
      const client = await h.client();
      const { tenantId } = h.fixture;
      const first = await client.prisma.post.findMany({
        where: { tenantId, published: true, views: { gte: 1, lte: 100 } },
        orderBy: [{ views: "desc" }, { id: "asc" }],
        select: {
          id: true,
          slug: true,
          author: { select: { email: true, name: true }, where: { role: "MEMBER", name: { not: null } } },
        },
        take: 10,
        cache: true,
      });
      const reordered = await client.prisma.post.findMany({
        cache: true,
        take: 10,
        select: {
          id: true,
          slug: true,
          author: { where: { name: { not: null }, role: "MEMBER" }, select: { email: true, name: true } },
        },
        orderBy: [{ views: "desc" }, { id: "asc" }],
        where: { views: { lte: 100, gte: 1 }, published: true, tenantId },
      });
      expect(reordered).toStrictEqual(first);
      expect(client.database.queries).toBe(1);
      expect(client.prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1 });
    });

    describe("fields come back in the caller's order, as Prisma returns them (exactness)", () => {
      /** Key order, all the way down, as JSON shows it. */
      const ordered = (value: unknown) =>
        JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
      /** One read method, called with `args` (and `cache: true` on the cached client only). */
      type Call = (p: CachedPrisma, args: object) => PromiseLike<unknown>;
      const user =
        (method: "findUnique"): Call =>
        (p, args) =>
          p.user[method](args as Parameters<CachedPrisma["user"]["findUnique"]>[0]);
      const post =
        (method: "count" | "aggregate" | "groupBy"): Call =>
        (p, args) =>
          (p.post[method] as (args: object) => PromiseLike<unknown>)(args);
      const alice = () => ({ id: h.fixture.users.alice });
      const tenant = () => ({ tenantId: h.fixture.tenantId });
      const cases: ReadonlyArray<readonly [string, Call, () => object, () => object]> = [
        [
          "select",
          user("findUnique"),
          () => ({ where: alice(), select: { name: true, email: true, id: true } }),
          () => ({ where: alice(), select: { id: true, email: true, name: true } }),
        ],
        [
          "nested select",
          user("findUnique"),
          () => ({ where: alice(), select: { posts: { select: { title: true, id: true }, orderBy: { id: "asc" } } } }),
          () => ({ where: alice(), select: { posts: { orderBy: { id: "asc" }, select: { id: true, title: true } } } }),
        ],
        [
          "include",
          user("findUnique"),
          () => ({ where: alice(), include: { posts: true, profile: true } }),
          () => ({ where: alice(), include: { profile: true, posts: true } }),
        ],
        [
          "_count select",
          user("findUnique"),
          () => ({ where: alice(), select: { _count: { select: { posts: true, comments: true } } } }),
          () => ({ where: alice(), select: { _count: { select: { comments: true, posts: true } } } }),
        ],
        [
          "count select",
          post("count"),
          () => ({ where: tenant(), select: { title: true, _all: true } }),
          () => ({ where: tenant(), select: { _all: true, title: true } }),
        ],
        [
          "aggregate",
          post("aggregate"),
          () => ({ where: tenant(), _sum: { views: true, rating: true }, _max: { views: true } }),
          () => ({ where: tenant(), _max: { views: true }, _sum: { rating: true, views: true } }),
        ],
        [
          "groupBy",
          post("groupBy"),
          () => ({
            by: ["published"],
            where: tenant(),
            _sum: { views: true },
            _count: { _all: true },
            orderBy: { published: "asc" },
          }),
          () => ({
            by: ["published"],
            where: tenant(),
            _count: { _all: true },
            _sum: { views: true },
            orderBy: { published: "asc" },
          }),
        ],
      ];

      it.each(cases)(
        "%s: two orders are two entries, each returned in its own order",
        async (_label, call, first, second) => {
          const client = await h.client();
          const bare = h.bare as unknown as CachedPrisma;
          const [expectedFirst, expectedSecond] = [
            ordered(await call(bare, first())),
            ordered(await call(bare, second())),
          ];
          expect(expectedFirst, "the two reads differ only in order").not.toBe(expectedSecond);
          for (let round = 0; round < 2; round++) {
            expect(ordered(await call(client.prisma, { ...first(), cache: true })), `round ${round}`).toBe(
              expectedFirst,
            );
            expect(ordered(await call(client.prisma, { ...second(), cache: true })), `round ${round}`).toBe(
              expectedSecond,
            );
          }
          expect(client.prisma.$cache.stats()).toMatchObject({ misses: 2, l1Hits: 2 });
        },
      );
    });

    it("an undefined argument is the same query as an absent one, as Prisma treats it", async () => {
      const client = await h.client();
      const { tenantId } = h.fixture;
      const first = await client.prisma.user.findMany({ where: { tenantId }, orderBy: { id: "asc" }, cache: true });
      expect(
        await observe(client, (p) =>
          p.user.findMany({
            where: { tenantId, name: undefined },
            orderBy: { id: "asc" },
            skip: undefined,
            cache: true,
          }),
        ),
      ).toEqual({ value: first, fromDatabase: false });
    });

    it("different arguments get different entries and their own results", async () => {
      const client = await h.client();
      const { tenantId, users } = h.fixture;
      const reads: Array<(p: CachedPrisma, cache: CacheArgs) => PromiseLike<unknown>> = [
        (p, cache) => p.user.findUnique({ where: { id: users.alice }, select: { email: true }, ...cache }),
        // a different where value
        (p, cache) => p.user.findUnique({ where: { id: users.bob }, select: { email: true }, ...cache }),
        // a different select
        (p, cache) => p.user.findUnique({ where: { id: users.alice }, select: { name: true }, ...cache }),
        // the same arguments for another operation, and for another model
        (p, cache) => p.user.findFirst({ where: { tenantId }, orderBy: { id: "asc" }, select: { id: true }, ...cache }),
        (p, cache) => p.user.findMany({ where: { tenantId }, orderBy: { id: "asc" }, select: { id: true }, ...cache }),
        (p, cache) => p.post.findFirst({ where: { tenantId }, orderBy: { id: "asc" }, select: { id: true }, ...cache }),
        // a different take, a different order direction
        (p, cache) =>
          p.user.findMany({ where: { tenantId }, orderBy: { id: "asc" }, take: 1, select: { id: true }, ...cache }),
        (p, cache) =>
          p.user.findMany({ where: { tenantId }, orderBy: { id: "asc" }, take: 2, select: { id: true }, ...cache }),
        (p, cache) =>
          p.user.findMany({ where: { tenantId }, orderBy: { id: "desc" }, take: 2, select: { id: true }, ...cache }),
        // the same orderBy entries in another order
        (p, cache) =>
          p.post.findMany({
            where: { tenantId },
            orderBy: [{ views: "asc" }, { id: "desc" }],
            select: { id: true },
            ...cache,
          }),
        (p, cache) =>
          p.post.findMany({
            where: { tenantId },
            orderBy: [{ id: "desc" }, { views: "asc" }],
            select: { id: true },
            ...cache,
          }),
      ];
      // The bare client is the oracle; it is passed no `cache` argument.
      const uncached = (read: (typeof reads)[number]) => read(h.bare as unknown as CachedPrisma, {});
      for (const read of reads) {
        const { value, fromDatabase } = await observe(client, (p) => read(p, { cache: true }));
        expect(fromDatabase).toBe(true);
        expect(value).toStrictEqual(await uncached(read));
      }
      expect(client.prisma.$cache.stats()).toMatchObject({ misses: reads.length, l1Entries: reads.length });
      // Each one is now a hit returning its own result.
      for (const read of reads) {
        const { value, fromDatabase } = await observe(client, (p) => read(p, { cache: true }));
        expect(fromDatabase).toBe(false);
        expect(value).toStrictEqual(await uncached(read));
      }
    });

    it("BigInt, Decimal, Date and Bytes arguments are keyed by their value", async () => {
      // Negative results are cached too here, so a key that lost the value would answer the wrong query.
      const client = await h.client({ defaults: { negativeTtl: 60 } });
      const { tenantId, users, aliceBalance } = h.fixture;
      const ids = (p: CachedPrisma, where: Prisma.UserWhereInput) =>
        p.user.findMany({ where: { tenantId, ...where }, orderBy: { id: "asc" }, select: { id: true }, cache: true });
      const cases: Array<[Prisma.UserWhereInput, number[]]> = [
        [{ visits: 3n }, [users.bob]],
        [{ visits: ALICE.visits }, [users.alice]],
        [{ visits: ALICE.visits + 1n }, []],
        [{ balance: new Prisma.Decimal("10.5") }, [users.bob]],
        [{ balance: new Prisma.Decimal(aliceBalance) }, [users.alice]],
        [{ balance: new Prisma.Decimal("10.25") }, []],
        [{ createdAt: ALICE.createdAt }, [users.alice]],
        [{ createdAt: new Date(ALICE.createdAt.getTime() + 1) }, []],
        [{ avatar: { equals: new Uint8Array(ALICE.avatar) } }, [users.alice]],
        [{ avatar: { equals: new Uint8Array([...ALICE.avatar, 0]) } }, []],
      ];
      for (const [where, expected] of cases) {
        const label = JSON.stringify(where, (_key, value: unknown) =>
          typeof value === "bigint" ? `${value}n` : value,
        );
        const miss = await observe(client, (p) => ids(p, where));
        expect(miss, label).toEqual({ value: expected.map((id) => ({ id })), fromDatabase: true });
        const hit = await observe(client, (p) => ids(p, where));
        expect(hit, label).toEqual({ value: expected.map((id) => ({ id })), fromDatabase: false });
      }
    });

    it("findUnique and findUniqueOrThrow do not answer for each other", async () => {
      const client = await h.client({ defaults: { negativeTtl: 60 } });
      const missing = {
        tenantId_email: { tenantId: h.fixture.tenantId, email: `missing-${randomUUID()}@scratch.test` },
      };

      // A cached null of findUnique must not make findUniqueOrThrow return null.
      expect(await client.prisma.user.findUnique({ where: missing, cache: true })).toBeNull();
      await expect(client.prisma.user.findUniqueOrThrow({ where: missing, cache: true })).rejects.toMatchObject({
        code: "P2025",
      });
      expect(await client.prisma.user.findUnique({ where: missing, cache: true })).toBeNull();
      expect(client.database.queries).toBe(2);

      // A row cached by findUnique is a separate entry for findUniqueOrThrow; both return it.
      const present = { id: h.fixture.users.bob };
      const viaFindUnique = await client.prisma.user.findUnique({ where: present, cache: true });
      const viaOrThrow = await client.prisma.user.findUniqueOrThrow({ where: present, cache: true });
      expect(viaOrThrow).toStrictEqual(viaFindUnique);
      expect(client.database.queries).toBe(4);
      expect(await client.prisma.user.findUniqueOrThrow({ where: present, cache: true })).toStrictEqual(viaFindUnique);
      expect(client.database.queries).toBe(4);
    });
  });
}
