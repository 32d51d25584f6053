/**
 * A query tag's version key (q:<bucket>) expiring before entries stored under it (version keys live a day, entries
 * may live longer, or the key is evicted) must not let those entries be served after $cache.invalidateQuery.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { createScratchUser } from "../helpers/fixture.js";
import { Harness, observe } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "a query tag's version key expiring early costs a miss, never a stale read", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  for (const order of ["invalidate while the q: key is gone", "a read re-creates the q: key, then invalidate"] as const)
    it(`entries outliving their q: key are dead after invalidateQuery (${order})`, async () => {
      const w = await env.world("rv-q");
      const id = (await createScratchUser(env.bare, w, "rv-q", { name: "v1" })).id;
      const scene = await env.scene();
      const other = await env.instance({ prefix: scene.main.prefix });
      const read = (p: typeof scene.main.prisma) =>
        p.user.findUnique({ where: { id }, select: { name: true }, cache: true });
      expect((await observe(scene.main, read)).value).toEqual({ name: "v1" });
      await scene.main.prisma.$cache.settled();
      for (const peer of scene.peers)
        expect(await observe(peer, read)).toEqual({ value: { name: "v1" }, fromDatabase: false });
      const redis = env.redis!;
      const qKeys = await redis.keys(`${scene.main.prefix}t:q:*`);
      expect(qKeys).toHaveLength(1);
      // The q: key goes away before these entries (its day ran out, or Redis evicted it).
      await redis.pexpire(qKeys[0]!, 20);
      await new Promise((r) => setTimeout(r, 60));
      expect(await redis.exists(qKeys[0]!)).toBe(0);
      await env.bare.user.update({ where: { id }, data: { name: "v2" } }); // a write outside the client
      if (order === "a read re-creates the q: key, then invalidate") {
        // Another instance reads the same query: Redis re-creates the q: key (a new, larger version).
        expect((await observe(other, read)).value).toEqual({ name: "v2" }); // q: re-created: the old entry is dead
      }
      await other.prisma.$cache.invalidateQuery("User", "findUnique", { where: { id }, select: { name: true } });
      for (const instance of scene.all) expect((await observe(instance, read)).value).toEqual({ name: "v2" });
    });
});
