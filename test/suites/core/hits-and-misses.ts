/** Suite part 1: which tier answers each read, by the counters and by the database's query count. */
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import type { Harness } from "../../helpers/harness.js";

export function describeHitsAndMisses(h: Harness): void {
  describe("hits and misses per tier", () => {
    const readAlice = (prisma: CachedPrisma) =>
      prisma.user.findUnique({ where: { id: h.fixture.users.alice }, cache: true });
    const uncachedAlice = () => h.bare.user.findUnique({ where: { id: h.fixture.users.alice } });

    it("misses to the database first, then answers from the in-process tier", async () => {
      const { prisma, database, log } = await h.client();
      const expected = await uncachedAlice();

      expect(await readAlice(prisma)).toStrictEqual(expected);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 0, l2Hits: 0, l1Entries: 1 });
      expect(database.queries).toBe(1);

      expect(await readAlice(prisma)).toStrictEqual(expected);
      expect(await readAlice(prisma)).toStrictEqual(expected);
      expect(prisma.$cache.stats()).toMatchObject({
        misses: 1,
        l1Hits: 2,
        l2Hits: 0,
        bypassed: 0,
        errors: 0,
        l1Entries: 1,
      });
      expect(prisma.$cache.stats().l1Bytes).toBeGreaterThan(0);
      expect(database.queries).toBe(1);
      expect(log.errors).toEqual([]);
    });

    it("clearLocal() empties the in-process tier only", async () => {
      const { prisma, database } = await h.client();
      await readAlice(prisma);
      await prisma.$cache.settled();
      prisma.$cache.clearLocal();
      expect(prisma.$cache.stats()).toMatchObject({ l1Entries: 0, l1Bytes: 0 });

      await readAlice(prisma);
      // With a shared tier the entry is still there; without one, the read goes back to the database.
      expect(prisma.$cache.stats()).toMatchObject(h.hasRedis ? { misses: 1, l2Hits: 1 } : { misses: 2, l2Hits: 0 });
      expect(database.queries).toBe(h.hasRedis ? 1 : 2);
    });

    if (h.hasRedis) {
      it("after clearLocal() and settled(), answers from Redis and refills the in-process tier", async () => {
        const { prisma, database, log } = await h.client();
        const expected = await uncachedAlice();
        await readAlice(prisma);
        await prisma.$cache.settled();
        prisma.$cache.clearLocal();

        expect(await readAlice(prisma)).toStrictEqual(expected);
        expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 0, l2Hits: 1, l1Entries: 1 });

        expect(await readAlice(prisma)).toStrictEqual(expected);
        expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1, l2Hits: 1 });
        expect(database.queries).toBe(1);
        expect(log.errors).toEqual([]);
      });

      it("with l1: false, every repeat is a Redis hit", async () => {
        const { prisma, database, log } = await h.client({ l1: false });
        const expected = await uncachedAlice();
        await readAlice(prisma);
        await prisma.$cache.settled();
        for (let i = 0; i < 3; i++) expect(await readAlice(prisma)).toStrictEqual(expected);

        expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 0, l2Hits: 3, l1Entries: 0, l1Bytes: 0 });
        expect(database.queries).toBe(1);
        expect(log.errors).toEqual([]);
      });

      it("a second instance sharing the Redis prefix gets a Redis hit for what the first filled", async () => {
        const first = await h.client();
        const second = await h.client({ over: h.connect(), redis: await h.connectRedis(), prefix: first.prefix });
        const expected = await uncachedAlice();
        await readAlice(first.prisma);
        await first.prisma.$cache.settled();

        expect(await readAlice(second.prisma)).toStrictEqual(expected);
        expect(second.prisma.$cache.stats()).toMatchObject({ misses: 0, l1Hits: 0, l2Hits: 1 });
        expect(second.database.queries).toBe(0);
        expect(first.database.queries).toBe(1);
      });

      it("instances with different prefixes share nothing", async () => {
        const first = await h.client();
        const second = await h.client({ over: h.connect(), redis: await h.connectRedis() });
        await readAlice(first.prisma);
        await first.prisma.$cache.settled();

        await readAlice(second.prisma);
        expect(second.prisma.$cache.stats()).toMatchObject({ misses: 1, l2Hits: 0 });
        expect(second.database.queries).toBe(1);
      });
    } else {
      it("a second instance has its own in-process tier: without Redis it misses", async () => {
        const first = await h.client();
        const second = await h.client({ over: h.connect() });
        await readAlice(first.prisma);
        await readAlice(second.prisma);

        expect(second.prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 0, l2Hits: 0 });
        expect(second.database.queries).toBe(1);
      });
    }
  });
}
