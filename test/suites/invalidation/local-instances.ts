/**
 * Consistency contract, item 1, without Redis: instances in one process that
 * share a `prefix` invalidate each other as instances sharing a Redis tier
 * do; instances on different prefixes are separate caches.
 */
import { describe, expect, it } from "vitest";
import { expectStillCached, observe, warm, type Harness, type Read, type Scene } from "../../helpers/harness.js";

export function describeLocalInstances(env: Harness): void {
  describe("two instances in one process without Redis (contract item 1)", () => {
    async function twoInstances(label: string, samePrefix: boolean) {
      const w = await env.world(label);
      const a = await env.instance({ redis: false });
      const b = await env.instance({ redis: false, over: env.connect(), ...(samePrefix ? { prefix: a.prefix } : {}) });
      const name: Read<unknown> = (p) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { name: true }, cache: true });
      const both: Scene = { main: a, peers: [b], all: [a, b] };
      return { w, a, b, name, both };
    }

    it("a write through one, on the same prefix: the other's next read is new, from the database", async () => {
      const { w, a, b, name } = await twoInstances("local-pair", true);
      await warm({ main: a, peers: [], all: [a] }, name);
      await warm({ main: b, peers: [], all: [b] }, name);

      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Renamed" } });

      expect(await observe(b, name)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
      expect(await observe(a, name)).toEqual({ value: { name: "Renamed" }, fromDatabase: true });
    });

    it("the tag API and a transaction's commit reach the other instance too, and so does a write inside its request scope", async () => {
      const { w, a, b, name, both } = await twoInstances("local-api", true);
      await warm({ main: b, peers: [], all: [b] }, name);
      await a.prisma.$cache.invalidate({ models: ["User"] });
      expect((await observe(b, name)).fromDatabase, "invalidate({ models }) on A").toBe(true);

      await a.prisma.$transaction(async (tx) =>
        tx.user.update({ where: { id: w.users.carol }, data: { name: "Committed" } }),
      );
      expect(await observe(b, name)).toEqual({ value: { name: "Committed" }, fromDatabase: true });

      await b.prisma.$cache.scope(async () => {
        expect((await observe(b, name)).value).toEqual({ name: "Committed" });
        await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Scoped" } });
        expect(await observe(b, name), "B's scope does not keep what A's write changed").toEqual({
          value: { name: "Scoped" },
          fromDatabase: true,
        });
      });
      for (const instance of both.all) expect((await observe(instance, name)).value).toEqual({ name: "Scoped" });
    });

    it("a transaction still open when its instance closes: its commit invalidates the other instance", async () => {
      const { w, a, b, name } = await twoInstances("local-close", true);
      await warm({ main: b, peers: [], all: [b] }, name);
      await a.prisma.$transaction(async (tx) => {
        await tx.user.update({ where: { id: w.users.carol }, data: { name: "Committed" } });
        await a.prisma.$cache.close();
      });
      expect(await observe(b, name)).toEqual({ value: { name: "Committed" }, fromDatabase: true });
    });

    it("on different prefixes they are separate caches: a write through one leaves the other's entries (bounded by ttl)", async () => {
      const { w, a, b, name } = await twoInstances("local-apart", false);
      await warm({ main: b, peers: [], all: [b] }, name);

      await a.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Elsewhere" } });

      await expectStillCached({ main: b, peers: [], all: [b] }, name, { name: "Carol" });
    });
  });
}
