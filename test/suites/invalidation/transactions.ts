/**
 * Consistency contract, item 3: mutations inside a transaction invalidate
 * at its commit (never later), and nothing on rollback; reads inside a
 * transaction neither read nor fill the cache.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import {
  expectFresh,
  expectStillCached,
  observe,
  unique,
  warm,
  type Harness,
  type Read,
} from "../../helpers/harness.js";

export interface TransactionSuiteOptions {
  /**
   * The database serves other connections while an interactive transaction
   * is open (Postgres). SQLite's single connection would wait for the
   * transaction, so the tests reading from outside an open one are skipped there.
   */
  concurrentReaders: boolean;
}

export function describeTransactions(env: Harness, { concurrentReaders }: TransactionSuiteOptions): void {
  describe("transactions (contract item 3)", () => {
    async function setUp(label: string) {
      const w = await env.world(label);
      const scene = await env.scene();
      const name: Read<unknown> = (p) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      const title: Read<unknown> = (p) =>
        p.post.findUnique({ where: { id: w.posts.bobs }, select: { title: true }, cache: true });
      const renamed: Read<number> = (p) =>
        p.user.count({ where: { tenantId: w.tenantId, name: "Renamed" }, cache: true });
      const prisma = scene.main.prisma;
      const invalidations = () => prisma.$cache.stats().invalidations;
      const carolInDatabase = async () =>
        (await env.bare.user.findUniqueOrThrow({ where: { id: w.users.carol } })).name;
      return { w, scene, prisma, name, title, renamed, invalidations, carolInDatabase };
    }

    // Registered only where the target supports it, rather than reported as skipped.
    if (concurrentReaders)
      it("interactive: before the commit other flows read the old value (and may re-fill it); after $transaction resolves, the new one", async () => {
        const { w, scene, prisma, name, renamed, invalidations } = await setUp("itx-commit");
        expect(await warm(scene, name)).toEqual({ name: "Carol" });
        const before = invalidations();
        // Not cached yet: read during the transaction, it fills the cache with what the database had before the commit.
        let renamedDuring: { value: number; fromDatabase: boolean } | undefined;

        await prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
          // Another flow, outside the transaction, after the write and before the commit.
          const outside = await observe(scene.main, name);
          expect(outside.value).toEqual({ name: "Carol" });
          // Had the write invalidated now instead of at the commit, this read would have re-filled the old row with
          // current versions.
          for (const peer of scene.peers) expect((await observe(peer, name)).value).toEqual({ name: "Carol" });
          renamedDuring = await observe(scene.main, renamed);
          await prisma.$cache.settled();
          expect(invalidations(), "nothing is invalidated before the commit").toBe(before);
        });

        expect(renamedDuring).toEqual({ value: 0, fromDatabase: true });
        expect(invalidations()).toBeGreaterThan(before);
        await expectFresh(scene, name, { name: "Renamed" });
        await expectFresh(scene, renamed, 1);
      });

    it("interactive: a commit invalidates what the callback wrote", async () => {
      const { w, scene, prisma, name, title } = await setUp("itx-commit-simple");
      await warm(scene, name);
      await warm(scene, title);

      await prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
        await tx.post.update({ where: { id: w.posts.bobs }, data: { title: "Retitled" } });
      });

      await expectFresh(scene, name, { name: "Renamed" });
      await expectFresh(scene, title, { title: "Retitled" });
    });

    it("interactive: a callback that throws rolls back, invalidates nothing, and the cached entries stay hits", async () => {
      const { w, scene, prisma, name, title, invalidations, carolInDatabase } = await setUp("itx-rollback");
      await warm(scene, name);
      await warm(scene, title);
      const before = invalidations();

      await expect(
        prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
          await tx.post.update({ where: { id: w.posts.bobs }, data: { title: "Retitled" } });
          throw new Error("changed my mind");
        }),
      ).rejects.toThrow("changed my mind");

      expect(await carolInDatabase()).toBe("Carol");
      expect(invalidations()).toBe(before);
      await expectStillCached(scene, name, { name: "Carol" });
      await expectStillCached(scene, title, { title: "Bob's post" });
    });

    it("interactive: a statement that fails rolls back and leaves the cache alone", async () => {
      const { w, scene, prisma, name, invalidations, carolInDatabase } = await setUp("itx-failed-statement");
      await warm(scene, name);
      const before = invalidations();

      await expect(
        prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
          // Bob's address is taken in this tenant: a unique violation.
          await tx.user.update({ where: { id: w.users.alice }, data: { email: "bob@example.test" } });
        }),
      ).rejects.toThrow();

      expect(await carolInDatabase()).toBe("Carol");
      expect(invalidations()).toBe(before);
      await expectStillCached(scene, name, { name: "Carol" });
    });

    /** Waits inside `tx` until its timeout has expired: its next statement fails. */
    async function outlive(tx: Pick<CachedPrisma, "user">): Promise<void> {
      for (;;) {
        try {
          await tx.user.count();
        } catch {
          return;
        }
        await sleep(50);
      }
    }

    it.each([
      ["notices (a statement fails) and returns", outlive],
      ["sleeps past it and returns", () => sleep(400)],
    ] as const)(
      "interactive: a callback that outlives the timeout %s: Prisma rolls back and refuses the commit; nothing is invalidated (contract item 3)",
      async (_label, wait) => {
        const { w, scene, prisma, name, renamed, invalidations, carolInDatabase } = await setUp("itx-timeout");
        await warm(scene, name);
        await warm(scene, renamed);
        const before = invalidations();

        await expect(
          prisma.$transaction(
            async (tx) => {
              await tx.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
              await wait(tx);
            },
            { timeout: 200 },
          ),
        ).rejects.toThrow(/expired transaction/);

        expect(await carolInDatabase()).toBe("Carol");
        await prisma.$cache.settled();
        expect(invalidations(), "a rolled-back transaction bumps nothing").toBe(before);
        await expectStillCached(scene, name, { name: "Carol" });
        await expectStillCached(scene, renamed, 0);
      },
    );

    // Registered only where the target supports it, rather than reported as skipped.
    if (concurrentReaders)
      it("nested: tx.$transaction(...) invalidates once, at the outer commit", async () => {
        const { w, scene, prisma, name, title, invalidations } = await setUp("itx-nested");
        await warm(scene, name);
        await warm(scene, title);
        const before = invalidations();

        await prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
          await tx.$transaction(async (inner) => {
            await inner.post.update({ where: { id: w.posts.bobs }, data: { title: "Retitled" } });
          });
          // The inner transaction has finished, the outer one has not committed.
          expect(invalidations()).toBe(before);
          expect((await observe(scene.main, title)).value).toEqual({ title: "Bob's post" });
          expect((await observe(scene.main, name)).value).toEqual({ name: "Carol" });
        });

        const bumped = invalidations() - before;
        expect(bumped).toBeGreaterThan(0);
        await expectFresh(scene, name, { name: "Renamed" });
        await expectFresh(scene, title, { title: "Retitled" });
        // One bump of each tag, at the outer commit.
        expect(invalidations() - before).toBe(bumped);
      });

    it("nested: a rolled-back inner transaction caught by the outer one; the outer commit invalidates", async () => {
      const { w, scene, prisma, name, title } = await setUp("itx-nested-rollback");
      await warm(scene, name);
      await warm(scene, title);

      await prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
        await expect(
          tx.$transaction(async (inner) => {
            await inner.post.update({ where: { id: w.posts.bobs }, data: { title: "Retitled" } });
            throw new Error("inner only");
          }),
        ).rejects.toThrow("inner only");
      });

      await expectFresh(scene, name, { name: "Renamed" });
      expect((await observe(scene.main, title)).value).toEqual({ title: "Bob's post" });
    });

    it("batch: $transaction([update, update]) invalidates both once it resolves", async () => {
      const { w, scene, prisma, name, title } = await setUp("batch");
      await warm(scene, name);
      await warm(scene, title);

      await prisma.$transaction([
        prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }),
        prisma.post.update({ where: { id: w.posts.bobs }, data: { title: "Retitled" } }),
      ]);

      await expectFresh(scene, name, { name: "Renamed" });
      await expectFresh(scene, title, { title: "Retitled" });
    });

    /** A batch whose second element violates a unique constraint, so the whole batch rolls back. */
    async function failingBatch(label: string) {
      const setup = await setUp(label);
      const { w, scene, prisma, name, title, invalidations } = setup;
      await warm(scene, name);
      await warm(scene, title);
      const before = invalidations();
      await expect(
        prisma.$transaction([
          prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } }),
          // "welcome" is another post's slug in this tenant.
          prisma.post.update({ where: { id: w.posts.bobs }, data: { slug: "welcome" } }),
        ]),
      ).rejects.toThrow();
      return { ...setup, before };
    }

    it("batch: a failing batch (unique violation in its second element) changes nothing, and no read serves what it wrote", async () => {
      const { scene, name, title, carolInDatabase } = await failingBatch("batch-failing");
      expect(await carolInDatabase()).toBe("Carol");
      for (const instance of scene.all) {
        expect((await observe(instance, name)).value).toEqual({ name: "Carol" });
        expect((await observe(instance, title)).value).toEqual({ title: "Bob's post" });
      }
    });

    // A failed batch may still invalidate what its earlier elements wrote: Prisma 7 resolves those elements
    // with their rows after the rollback, so the write side cannot tell. Extra misses, never old data (above);
    // docs/invalidation.md, "When tags are bumped", says so.

    it("reads inside an interactive transaction neither read nor fill the cache", async () => {
      const { w, scene, prisma, name } = await setUp("itx-reads");
      const email = `${unique("tx")}@example.test`;
      const byEmail: Read<unknown> = (p) =>
        p.user.findFirst({ where: { tenantId: w.tenantId, email }, select: { name: true }, cache: true });
      await warm(scene, name);
      const stats = prisma.$cache.stats();

      await expect(
        prisma.$transaction(async (tx) => {
          await tx.user.update({ where: { id: w.users.carol }, data: { name: "Uncommitted" } });
          await tx.user.create({ data: { tenantId: w.tenantId, email, name: "Uncommitted" } });
          // `tx` is typed as the transaction client; the reads are the same methods.
          const inside = tx as unknown as CachedPrisma;
          expect(await name(inside)).toEqual({ name: "Uncommitted" });
          expect(await byEmail(inside)).toEqual({ name: "Uncommitted" });
          throw new Error("roll back");
        }),
      ).rejects.toThrow("roll back");

      expect(prisma.$cache.stats()).toMatchObject({
        l1Hits: stats.l1Hits,
        l2Hits: stats.l2Hits,
        misses: stats.misses,
        l1Entries: stats.l1Entries,
      });
      await expectStillCached(scene, name, { name: "Carol" });
      expect(await observe(scene.main, byEmail)).toEqual({ value: null, fromDatabase: true });
    });
  });
}
