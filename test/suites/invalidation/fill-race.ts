/**
 * Consistency contract, item 2: a read that started before an invalidation
 * and finishes after it must not store its (old) result as fresh.
 *
 * A ReadGate below the cache pauses a reader after its database read and
 * before its fill; an update of the row runs through the cached client and
 * resolves; then the reader is released and fills. The next read must come
 * from the database, with the new row.
 *
 * Why this fails when versions are captured after the database read: the
 * paused reader's fill would then carry the versions the update produced,
 * i.e. the current ones, and the old row it read would be served as fresh by
 * every tier (checked by capturing them in src/read/loader.ts, after
 * `source[LOAD]()`: both tests below fail with { name: "Carol" }, served
 * without a database query).
 */
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import { observe, type Harness, type Read } from "../../helpers/harness.js";
import { ReadGate } from "../../helpers/read-gate.js";

export function describeFillRace(env: Harness): void {
  describe("the fill-after-invalidate race (contract item 2)", () => {
    /** Pauses a findUnique of Carol after its database read, renames her while it waits, then lets it fill. */
    async function overtakenRead(options: { l1?: false } = {}) {
      const w = await env.world("race");
      const gate = new ReadGate();
      const reader = await env.instance({ ...options, gate });
      const read: Read<unknown> = (p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });

      const paused = gate.arm((model, operation) => model === "User" && operation === "findUnique");
      // Cached reads are lazy, like Prisma's: Promise.resolve() starts this one.
      const reading = Promise.resolve(read(reader.prisma));
      await paused.arrived;
      await reader.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });
      paused.release();
      // The paused read returns what it read, from before the update: that is fine, it started first.
      expect(await reading).toEqual({ name: "Carol" });
      await reader.prisma.$cache.settled();
      return { reader, read };
    }

    it("the reader's own next read comes from the database, with the new row (in-process tier, and Redis when present)", async () => {
      const { reader, read } = await overtakenRead();
      expect(reader.prisma.$cache.stats().l1Entries, "the late fill was stored").toBe(1);
      expect(await observe(reader, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
    });

    // Registered only where the target supports it, rather than reported as skipped.
    if (env.hasRedis)
      it("another instance sharing the prefix does not take the late fill from Redis", async () => {
        // The reader has no in-process tier: its late fill goes to Redis only.
        const { reader, read } = await overtakenRead({ l1: false });
        const other = await env.instance({ prefix: reader.prefix, l1: false });
        expect(await observe(other, read)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
      });
  });
}
