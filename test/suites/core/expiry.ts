/**
 * Suite part 8: expiry, on the injected clock (no sleeping): TTL layering
 * (query over model over defaults), negative caching, and errors never cached.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { QueryCacheOption } from "../../../src/index.js";
import type { CachedPrisma } from "../../helpers/clients.js";
import { createScratchUser } from "../../helpers/fixture.js";
import { observe, type Harness, type TestClient } from "../../helpers/harness.js";

/** Whether each read reaches the database now, in order. */
async function whichReachDatabase(
  client: TestClient,
  reads: Record<string, (p: CachedPrisma) => PromiseLike<unknown>>,
): Promise<Record<string, boolean>> {
  const result: Record<string, boolean> = {};
  for (const [name, read] of Object.entries(reads)) result[name] = (await observe(client, read)).fromDatabase;
  return result;
}

export function describeExpiry(h: Harness): void {
  describe("expiry on the injected clock", () => {
    it("an entry is served until its ttl has passed, then read again from the database", async () => {
      const client = await h.client({ defaults: { ttl: 10 } });
      const user = await createScratchUser(h.bare, h.fixture, "ttl", { name: "v1" });
      const read = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: user.id }, select: { name: true }, cache: true });
      await read(client.prisma);
      await client.prisma.$cache.settled();
      await h.bare.user.update({ where: { id: user.id }, data: { name: "v2" } });

      client.clock.advance(9_999);
      expect(await observe(client, read)).toEqual({ value: { name: "v1" }, fromDatabase: false });
      client.clock.advance(1);
      // Expired in every tier: the Redis copy carries the same expiry.
      expect(await observe(client, read)).toEqual({ value: { name: "v2" }, fromDatabase: true });
      expect(client.prisma.$cache.stats()).toMatchObject({ misses: 2, l1Hits: 1, l2Hits: 0 });
      // The new entry's ttl runs from the new read.
      client.clock.advance(9_000);
      expect(await observe(client, read)).toEqual({ value: { name: "v2" }, fromDatabase: false });
    });

    if (h.hasRedis) {
      it("an expired entry in Redis is not served to another instance", async () => {
        const first = await h.client({ defaults: { ttl: 10 } });
        const second = await h.client({
          defaults: { ttl: 10 },
          prefix: first.prefix,
          clock: first.clock,
          over: h.connect(),
        });
        const read = (p: CachedPrisma) => p.user.findUnique({ where: { id: h.fixture.users.carol }, cache: true });
        await read(first.prisma);
        await first.prisma.$cache.settled();
        first.clock.advance(10_001);
        expect((await observe(second, read)).fromDatabase).toBe(true);
        expect(second.prisma.$cache.stats()).toMatchObject({ l2Hits: 0, misses: 1 });
      });
    }

    it("a query's ttl overrides its model's, which overrides the defaults", async () => {
      const client = await h.client({ defaults: { ttl: 100 }, models: { User: { ttl: 10 } } });
      const { users, posts } = h.fixture;
      const reads = {
        queryTtl: (p: CachedPrisma) => p.user.findUnique({ where: { id: users.alice }, cache: { ttl: "1500ms" } }),
        modelTtl: (p: CachedPrisma) => p.user.findUnique({ where: { id: users.bob }, cache: true }),
        defaultTtl: (p: CachedPrisma) => p.post.findUnique({ where: { id: posts.welcome }, cache: true }),
        queryOverDefault: (p: CachedPrisma) => p.post.findUnique({ where: { id: posts.draft }, cache: { ttl: "5m" } }),
      };
      expect(await whichReachDatabase(client, reads)).toEqual({
        queryTtl: true,
        modelTtl: true,
        defaultTtl: true,
        queryOverDefault: true,
      });

      client.clock.advance(1_400);
      expect(await whichReachDatabase(client, reads)).toEqual({
        queryTtl: false,
        modelTtl: false,
        defaultTtl: false,
        queryOverDefault: false,
      });
      client.clock.advance(200); // 1.6 s
      expect(await whichReachDatabase(client, reads)).toEqual({
        queryTtl: true,
        modelTtl: false,
        defaultTtl: false,
        queryOverDefault: false,
      });
      // Each re-read stores a new entry, with its ttl counted from then.
      client.clock.advance(9_000); // 10.6 s
      expect(await whichReachDatabase(client, reads)).toEqual({
        queryTtl: true,
        modelTtl: true,
        defaultTtl: false,
        queryOverDefault: false,
      });
      client.clock.advance(90_000); // 100.6 s
      expect(await whichReachDatabase(client, reads)).toEqual({
        queryTtl: true,
        modelTtl: true,
        defaultTtl: true,
        queryOverDefault: false,
      });
      client.clock.advance(200_000); // 300.6 s
      expect((await whichReachDatabase(client, reads)).queryOverDefault).toBe(true);
    });

    describe("negative results", () => {
      const missingEmail = () => `later-${randomUUID()}@scratch.test`;

      it("null and empty lists are not cached by default, so a row created later is seen at once", async () => {
        const client = await h.client();
        const email = missingEmail();
        const where = { tenantId_email: { tenantId: h.fixture.tenantId, email } };
        const readOne = (p: CachedPrisma) => p.user.findUnique({ where, select: { email: true }, cache: true });
        const readList = (p: CachedPrisma) =>
          p.user.findMany({ where: { email }, select: { email: true }, cache: true });
        expect(await observe(client, readOne)).toEqual({ value: null, fromDatabase: true });
        expect(await observe(client, readList)).toEqual({ value: [], fromDatabase: true });
        expect(client.prisma.$cache.stats()).toMatchObject({ misses: 2, l1Entries: 0 });

        await h.bare.user.create({ data: { tenantId: h.fixture.tenantId, email } });
        expect(await observe(client, readOne)).toEqual({ value: { email }, fromDatabase: true });
        expect(await observe(client, readList)).toEqual({ value: [{ email }], fromDatabase: true });
      });

      it("null and empty lists are cached for negativeTtl when it is set", async () => {
        const client = await h.client({ defaults: { negativeTtl: 5 } });
        const email = missingEmail();
        const where = { tenantId_email: { tenantId: h.fixture.tenantId, email } };
        const readOne = (p: CachedPrisma) => p.user.findUnique({ where, select: { email: true }, cache: true });
        const readList = (p: CachedPrisma) =>
          p.user.findMany({ where: { email }, select: { email: true }, cache: true });
        await readOne(client.prisma);
        await readList(client.prisma);
        await client.prisma.$cache.settled();
        await h.bare.user.create({ data: { tenantId: h.fixture.tenantId, email } });

        client.clock.advance(4_900);
        expect(await observe(client, readOne)).toEqual({ value: null, fromDatabase: false });
        expect(await observe(client, readList)).toEqual({ value: [], fromDatabase: false });
        client.clock.advance(100);
        expect(await observe(client, readOne)).toEqual({ value: { email }, fromDatabase: true });
        expect(await observe(client, readList)).toEqual({ value: [{ email }], fromDatabase: true });
      });

      it("negativeTtl layers like ttl: query over model over defaults", async () => {
        const client = await h.client({ defaults: { negativeTtl: 0 }, models: { Post: { negativeTtl: 30 } } });
        const missingPost = (slug: string, cache: QueryCacheOption) => (p: CachedPrisma) =>
          p.post.findFirst({ where: { slug: `${slug}-${h.fixture.suffix}` }, cache });
        const reads = {
          modelNegativeTtl: missingPost("missing-a", true),
          queryTurnsItOff: missingPost("missing-b", { negativeTtl: 0 }),
          queryLonger: missingPost("missing-c", { negativeTtl: "2m" }),
          defaultsOff: (p: CachedPrisma) =>
            p.user.findFirst({ where: { email: `missing-${h.fixture.suffix}` }, cache: true }),
        };
        expect(await whichReachDatabase(client, reads)).toEqual({
          modelNegativeTtl: true,
          queryTurnsItOff: true,
          queryLonger: true,
          defaultsOff: true,
        });
        expect(await whichReachDatabase(client, reads)).toEqual({
          modelNegativeTtl: false,
          queryTurnsItOff: true,
          queryLonger: false,
          defaultsOff: true,
        });
        client.clock.advance(30_000);
        expect(await whichReachDatabase(client, reads)).toEqual({
          modelNegativeTtl: true,
          queryTurnsItOff: true,
          queryLonger: false,
          defaultsOff: true,
        });
        client.clock.advance(90_000);
        expect((await whichReachDatabase(client, reads)).queryLonger).toBe(true);
      });

      it("a non-empty result uses ttl, not negativeTtl", async () => {
        const client = await h.client({ defaults: { ttl: 60, negativeTtl: 1 } });
        const read = (p: CachedPrisma) =>
          p.user.findMany({ where: { id: h.fixture.users.alice }, select: { id: true }, cache: true });
        await read(client.prisma);
        client.clock.advance(30_000);
        expect((await observe(client, read)).fromDatabase).toBe(false);
      });
    });

    describe("errors are never cached", () => {
      for (const operation of ["findUniqueOrThrow", "findFirstOrThrow"] as const) {
        it(`${operation} not found rejects each time, and returns the row once it exists`, async () => {
          // Even with negative caching on, a not-found error is not an entry.
          const client = await h.client({ defaults: { negativeTtl: 60 } });
          const email = `later-${randomUUID()}@scratch.test`;
          const where = { tenantId_email: { tenantId: h.fixture.tenantId, email } };
          const read = (p: CachedPrisma) =>
            operation === "findUniqueOrThrow"
              ? p.user.findUniqueOrThrow({ where, select: { email: true }, cache: true })
              : p.user.findFirstOrThrow({ where: { email }, select: { email: true }, cache: true });

          await expect(read(client.prisma)).rejects.toMatchObject({ code: "P2025" });
          await expect(read(client.prisma)).rejects.toMatchObject({ code: "P2025" });
          expect(client.database.queries).toBe(2);
          await client.prisma.$cache.settled();

          await h.bare.user.create({ data: { tenantId: h.fixture.tenantId, email } });
          expect(await observe(client, read)).toEqual({ value: { email }, fromDatabase: true });
          expect(await observe(client, read)).toEqual({ value: { email }, fromDatabase: false });
          expect(client.prisma.$cache.stats()).toMatchObject({ misses: 3, l1Hits: 1, errors: 0 });
        });
      }
    });
  });
}
