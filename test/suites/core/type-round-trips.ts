/**
 * Suite part 3: every scalar type comes back from every tier with the type
 * and value the database read gives: Date, BigInt beyond 2^53, Decimal,
 * Bytes, Json (including strings that look like other types), enum, Float, null.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { Prisma } from "../../generated/postgres/client.ts";
import { ALICE } from "../../helpers/fixture.js";
import { readThroughTiers, type Harness } from "../../helpers/harness.js";

export function describeTypeRoundTrips(h: Harness): void {
  describe("type round trips through every tier", () => {
    it("Date, BigInt, Decimal, Bytes, Json and enum keep their types and values", async () => {
      const answers = await readThroughTiers(h, (prisma) =>
        prisma.user.findUniqueOrThrow({ where: { id: h.fixture.users.alice }, cache: true }),
      );
      for (const { tier, value: user } of answers) {
        const where = `answer from the ${tier}`;
        expect(user.createdAt, where).toBeInstanceOf(Date);
        expect(user.createdAt.toISOString(), where).toBe(ALICE.createdAt.toISOString());
        expect(typeof user.visits, where).toBe("bigint");
        expect(user.visits, where).toBe(ALICE.visits);
        expect(user.visits > BigInt(Number.MAX_SAFE_INTEGER), where).toBe(true);
        expect(user.balance, where).toBeInstanceOf(Prisma.Decimal);
        expect(user.balance.toString(), where).toBe(h.fixture.aliceBalance);
        expect(user.avatar, where).toBeInstanceOf(Uint8Array);
        expect(Array.from(user.avatar ?? []), where).toEqual(ALICE.avatar);
        expect(user.settings, where).toStrictEqual(ALICE.settings);
        expect(user.role, where).toBe("ADMIN");
      }
    });

    it("Float and null optionals keep their values", async () => {
      const answers = await readThroughTiers(h, (prisma) =>
        prisma.post.findMany({
          where: { tenantId: h.fixture.tenantId },
          orderBy: { id: "asc" },
          select: {
            rating: true,
            body: true,
            publishedAt: true,
            author: { select: { name: true, avatar: true, settings: true, profile: true } },
          },
          cache: true,
        }),
      );
      for (const { tier, value: posts } of answers) {
        const where = `answer from the ${tier}`;
        expect(
          posts.map((p) => p.rating),
          where,
        ).toEqual([4.25, null, 0.1, 2.5]);
        expect(posts[1]?.body, where).toBeNull();
        expect(posts[1]?.publishedAt, where).toBeNull();
        expect(posts[3]?.author, where).toBeNull();
        // Bob: no name, avatar, settings; a profile whose optionals are all null.
        expect(posts[2]?.author, where).toMatchObject({
          name: null,
          avatar: null,
          settings: null,
          profile: { bio: null, birthday: null },
        });
      }
    });

    it("Decimal, BigInt and Date aggregates keep their types", async () => {
      const expected = await h.bare.user.aggregate({
        where: { id: h.fixture.users.alice },
        _sum: { balance: true, visits: true },
        _min: { createdAt: true },
      });
      const answers = await readThroughTiers(h, (prisma) =>
        prisma.user.aggregate({
          where: { id: h.fixture.users.alice },
          _sum: { balance: true, visits: true },
          _min: { createdAt: true },
          cache: true,
        }),
      );
      for (const { tier, value } of answers) {
        const where = `answer from the ${tier}`;
        expect(value, where).toStrictEqual(expected);
        expect(value._sum.balance, where).toBeInstanceOf(Prisma.Decimal);
        expect(value._sum.balance?.toString(), where).toBe(h.fixture.aliceBalance);
        expect(value._sum.visits, where).toBe(ALICE.visits);
        expect(value._min.createdAt, where).toStrictEqual(ALICE.createdAt);
      }
    });

    it("Json top-level arrays, strings, numbers and booleans keep their values", async () => {
      const values: Prisma.InputJsonValue[] = [
        ["2024-01-02T03:04:05.000Z", 1, null, { n: "1" }],
        "2024-01-02T03:04:05.000Z",
        12.5,
        false,
        { type: "Date", value: "2024-01-02", meta: { values: [] } },
      ];
      const ids = await createUsersWithSettings(values);
      const expected = await h.bare.user.findMany({
        where: { id: { in: ids } },
        orderBy: { id: "asc" },
        select: { settings: true },
      });
      expect(expected.map((u) => u.settings)).toEqual(values);
      const answers = await readThroughTiers(h, (prisma) =>
        prisma.user.findMany({
          where: { id: { in: ids } },
          orderBy: { id: "asc" },
          select: { settings: true },
          cache: true,
        }),
      );
      for (const { tier, value } of answers) expect(value, `answer from the ${tier}`).toStrictEqual(expected);
    });

    /** Json objects whose keys are named like prototype properties: legal JSON, which Prisma stores and returns. */
    const prototypeNamedKeys = (): Prisma.InputJsonValue[] => [{ constructor: "x", prototype: { constructor: 1 } }];

    it("Json keys named constructor and prototype survive the in-process tier", async () => {
      const ids = await createUsersWithSettings(prototypeNamedKeys());
      const expected = await h.bare.user.findMany({ where: { id: { in: ids } }, select: { settings: true } });
      expect(expected[0]?.settings).toEqual({ constructor: "x", prototype: { constructor: 1 } });
      const { prisma } = await h.client({ redis: undefined });
      const read = () => prisma.user.findMany({ where: { id: { in: ids } }, select: { settings: true }, cache: true });
      expect(await read()).toStrictEqual(expected);
      expect(await read()).toStrictEqual(expected);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1 });
    });

    if (h.hasRedis) {
      it("Json keys named constructor and prototype survive Redis", async () => {
        const ids = await createUsersWithSettings(prototypeNamedKeys());
        const expected = await h.bare.user.findMany({ where: { id: { in: ids } }, select: { settings: true } });
        const answers = await readThroughTiers(h, (prisma) =>
          prisma.user.findMany({ where: { id: { in: ids } }, select: { settings: true }, cache: true }),
        );
        for (const { tier, value } of answers) expect(value, `answer from the ${tier}`).toStrictEqual(expected);
      });
    }

    /** Creates one user of the fixture's tenant per Json value; returns their ids in order. */
    async function createUsersWithSettings(values: Prisma.InputJsonValue[]): Promise<number[]> {
      const ids: number[] = [];
      for (const settings of values) {
        const user = await h.bare.user.create({
          data: { tenantId: h.fixture.tenantId, email: `json-${randomUUID()}@scratch.test`, settings },
        });
        ids.push(user.id);
      }
      return ids;
    }
  });
}
