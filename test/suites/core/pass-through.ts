/** Suite part 9: nothing is cached silently; models can be turned off or cached by default. */
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import { observe, type Harness } from "../../helpers/harness.js";

export function describePassThrough(h: Harness): void {
  describe("pass-through and per-model settings", () => {
    it("a read without `cache` goes to the database every time and counts as bypassed", async () => {
      const client = await h.client();
      const read = (p: CachedPrisma) => p.user.findUnique({ where: { id: h.fixture.users.alice } });
      const expected = await h.bare.user.findUnique({ where: { id: h.fixture.users.alice } });
      for (let i = 0; i < 3; i++) expect(await observe(client, read)).toEqual({ value: expected, fromDatabase: true });
      expect(await observe(client, (p) => p.post.count({ where: { tenantId: h.fixture.tenantId } }))).toEqual({
        value: 4,
        fromDatabase: true,
      });
      expect(client.prisma.$cache.stats()).toMatchObject({
        bypassed: 4,
        misses: 0,
        l1Hits: 0,
        l2Hits: 0,
        l1Entries: 0,
      });
    });

    it("cache: false goes to the database and counts as bypassed", async () => {
      const client = await h.client();
      const read = (p: CachedPrisma) => p.user.findUnique({ where: { id: h.fixture.users.alice }, cache: false });
      await read(client.prisma);
      expect((await observe(client, read)).fromDatabase).toBe(true);
      expect(client.prisma.$cache.stats()).toMatchObject({ bypassed: 2, misses: 0, l1Entries: 0 });
    });

    it("models: { X: false } never caches X, even with cache: true", async () => {
      const client = await h.client({ models: { Post: false } });
      const readPost = (p: CachedPrisma) =>
        p.post.findUnique({ where: { id: h.fixture.posts.welcome }, select: { title: true }, cache: true });
      const readUser = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: h.fixture.users.alice }, select: { email: true }, cache: true });
      for (let i = 0; i < 2; i++)
        expect(await observe(client, readPost)).toEqual({ value: { title: "Welcome" }, fromDatabase: true });
      expect(
        await observe(client, (p) => p.post.count({ where: { tenantId: h.fixture.tenantId }, cache: { ttl: 60 } })),
      ).toEqual({ value: 4, fromDatabase: true });
      // Other models are unaffected.
      await readUser(client.prisma);
      expect((await observe(client, readUser)).fromDatabase).toBe(false);
      expect(client.prisma.$cache.stats()).toMatchObject({ bypassed: 3, misses: 1, l1Hits: 1, l1Entries: 1 });
    });

    it("models: { X: { cacheByDefault: true } } caches X without the option; cache: false opts out", async () => {
      const client = await h.client({ models: { User: { cacheByDefault: true } } });
      const read = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: h.fixture.users.carol }, select: { name: true } });
      const optOut = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: h.fixture.users.carol }, select: { name: true }, cache: false });
      expect(await observe(client, read)).toEqual({ value: { name: "Carol" }, fromDatabase: true });
      expect(await observe(client, read)).toEqual({ value: { name: "Carol" }, fromDatabase: false });
      expect(await observe(client, optOut)).toEqual({ value: { name: "Carol" }, fromDatabase: true });
      expect(await observe(client, optOut)).toEqual({ value: { name: "Carol" }, fromDatabase: true });
      // Other models still need the option.
      expect(
        (await observe(client, (p) => p.post.count({ where: { tenantId: h.fixture.tenantId } }))).fromDatabase,
      ).toBe(true);
      expect(
        (await observe(client, (p) => p.post.count({ where: { tenantId: h.fixture.tenantId } }))).fromDatabase,
      ).toBe(true);
      expect(client.prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 1, bypassed: 4 });
    });
  });
}
