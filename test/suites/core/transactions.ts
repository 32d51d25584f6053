/**
 * Suite part 7: reads inside a batch or an interactive transaction never read
 * from the cache and never fill it. Rows are changed through the bare client,
 * behind the cache's back, so a read from the cache would be visibly stale.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import { createScratchUser } from "../../helpers/fixture.js";
import type { Harness } from "../../helpers/harness.js";

export function describeTransactions(h: Harness): void {
  describe("transactions bypass the cache", () => {
    /** A user named `before`, and reads whose results change when it is renamed to `after`. */
    async function renamableUser(label: string) {
      const before = `before-${randomUUID()}`;
      const after = `after-${randomUUID()}`;
      const user = await createScratchUser(h.bare, h.fixture, label, { name: before });
      const readName = (p: CachedPrisma) =>
        p.user.findMany({ where: { id: user.id }, select: { name: true }, cache: true });
      const countAfter = (p: CachedPrisma) => p.user.count({ where: { name: after }, cache: true });
      const rename = () => h.bare.user.update({ where: { id: user.id }, data: { name: after } });
      return { user, before, after, readName, countAfter, rename };
    }

    it("a batch $transaction returns the database's current values, not cached ones", async () => {
      const { prisma, database } = await h.client();
      const { before, after, readName, countAfter, rename } = await renamableUser("tx-batch");
      expect(await readName(prisma)).toEqual([{ name: before }]);
      expect(await countAfter(prisma)).toBe(0);
      await rename();
      const statsBefore = prisma.$cache.stats();

      const [names, count] = await prisma.$transaction([readName(prisma), countAfter(prisma)]);
      expect(names).toEqual([{ name: after }]);
      expect(count).toBe(1);
      expect(database.queries).toBe(4);
      expect(prisma.$cache.stats()).toMatchObject({
        l1Hits: statsBefore.l1Hits,
        l2Hits: statsBefore.l2Hits,
        misses: statsBefore.misses,
        l1Entries: statsBefore.l1Entries,
      });

      // The batch did not overwrite the entries: outside it, the cache still holds what it held.
      expect(await readName(prisma)).toEqual([{ name: before }]);
      expect(await countAfter(prisma)).toBe(0);
      expect(database.queries).toBe(4);
    });

    it("a batch $transaction does not fill the cache", async () => {
      const { prisma, database } = await h.client();
      const { user, readName, countAfter } = await renamableUser("tx-batch-fill");
      const [names, count] = await prisma.$transaction([readName(prisma), countAfter(prisma)]);
      expect(names).toEqual([{ name: user.name }]);
      expect(count).toBe(0);
      expect(database.queries).toBe(2);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 0, l1Hits: 0, l2Hits: 0, l1Entries: 0 });
      await prisma.$cache.settled();

      await readName(prisma);
      await countAfter(prisma);
      expect(database.queries).toBe(4);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 2, l1Hits: 0, l2Hits: 0 });
    });
    it("reads in a batch $transaction count as bypassed", async () => {
      const { prisma } = await h.client();
      const { readName, countAfter } = await renamableUser("tx-batch-stats");
      await prisma.$transaction([readName(prisma), countAfter(prisma)]);
      expect(prisma.$cache.stats().bypassed).toBe(2);
    });

    it("an interactive $transaction reads the database and leaves the cache as it was", async () => {
      const { prisma, database } = await h.client();
      const { user, before, after, countAfter, rename } = await renamableUser("tx-interactive");
      const readUser = (p: Pick<CachedPrisma, "user">) =>
        p.user.findUnique({ where: { id: user.id }, select: { name: true }, cache: true });
      expect(await readUser(prisma)).toEqual({ name: before });
      expect(await countAfter(prisma)).toBe(0);
      await rename();
      const statsBefore = prisma.$cache.stats();

      const [inside, count] = await prisma.$transaction(
        async (tx) => [await readUser(tx), await tx.user.count({ where: { name: after }, cache: true })] as const,
      );
      expect(inside).toEqual({ name: after });
      expect(count).toBe(1);
      expect(database.queries).toBe(4);
      expect(prisma.$cache.stats()).toMatchObject({
        l1Hits: statsBefore.l1Hits,
        l2Hits: statsBefore.l2Hits,
        misses: statsBefore.misses,
        bypassed: statsBefore.bypassed + 2,
      });

      expect(await readUser(prisma)).toEqual({ name: before });
      expect(await countAfter(prisma)).toBe(0);
      expect(database.queries).toBe(4);
    });

    it("an interactive $transaction does not fill the cache", async () => {
      const { prisma, database } = await h.client();
      const { user } = await renamableUser("tx-interactive-fill");
      const readUser = (p: Pick<CachedPrisma, "user">) =>
        p.user.findUnique({ where: { id: user.id }, select: { name: true }, cache: true });
      expect(await prisma.$transaction(async (tx) => readUser(tx))).toEqual({ name: user.name });
      expect(prisma.$cache.stats()).toMatchObject({ misses: 0, l1Entries: 0 });
      await prisma.$cache.settled();

      expect(await readUser(prisma)).toEqual({ name: user.name });
      expect(database.queries).toBe(2);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 0, l2Hits: 0 });
    });
  });
}
