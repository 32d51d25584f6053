/**
 * Record-level against model-level tags: a findUnique by primary key depends
 * on that row only, so a write to another row leaves it cached; every other
 * read (lists, counts, lookups by another unique key) depends on the model.
 */
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import {
  expectFresh,
  expectStillCached,
  unique,
  unusedId,
  warm,
  type Harness,
  type Read,
} from "../../helpers/harness.js";

export function describeRecordLevel(env: Harness): void {
  describe("record-level and model-level dependencies", () => {
    const byId = (id: number) => (p: CachedPrisma) =>
      p.user.findUnique({ where: { id }, select: { name: true }, cache: true });

    it("updating user A by id re-reads A's findUnique, the list and the count; B's findUnique stays a hit", async () => {
      const w = await env.world("record");
      const scene = await env.scene();
      const list: Read<unknown> = (p) =>
        p.user.findMany({
          where: { tenantId: w.tenantId },
          select: { name: true },
          orderBy: { id: "asc" },
          cache: true,
        });
      const named: Read<number> = (p) =>
        p.user.count({ where: { tenantId: w.tenantId, name: { not: null } }, cache: true });
      const [a, b] = [byId(w.users.alice), byId(w.users.bob)];
      await warm(scene, a);
      await warm(scene, b);
      await warm(scene, list);
      expect(await warm(scene, named)).toBe(2);

      await scene.main.prisma.user.update({ where: { id: w.users.alice }, data: { name: null } });

      await expectFresh(scene, a, { name: null });
      await expectFresh(scene, list, [{ name: null }, { name: null }, { name: "Carol" }]);
      await expectFresh(scene, named, 1);
      await expectStillCached(scene, b, { name: null });
    });

    it("a findUnique by a compound unique key (tenantId_email) is re-read after a write to that row by id", async () => {
      const w = await env.world("by-unique");
      const scene = await env.scene();
      const byEmail =
        (email: string): Read<unknown> =>
        (p) =>
          p.user.findUnique({
            where: { tenantId_email: { tenantId: w.tenantId, email } },
            select: { name: true },
            cache: true,
          });
      expect(await warm(scene, byEmail("carol@example.test"))).toEqual({ name: "Carol" });

      await scene.main.prisma.user.update({ where: { id: w.users.carol }, data: { name: "Caroline" } });

      await expectFresh(scene, byEmail("carol@example.test"), { name: "Caroline" });
    });

    it("a write through a non-primary unique key re-reads the row's findUnique by id, also when it returns no id", async () => {
      const w = await env.world("write-by-unique");
      const scene = await env.scene();
      const [carol, bob] = [byId(w.users.carol), byId(w.users.bob)];
      await warm(scene, carol);
      await warm(scene, bob);

      // The write names no primary key, and its `select` returns none either: only `rs:User` can reach the row's entry.
      await scene.main.prisma.user.update({
        where: { tenantId_email: { tenantId: w.tenantId, email: "carol@example.test" } },
        data: { name: "Caroline" },
        select: { name: true },
      });
      await expectFresh(scene, carol, { name: "Caroline" });

      await scene.main.prisma.user.update({
        where: { tenantId_email: { tenantId: w.tenantId, email: "bob@example.test" } },
        data: { name: "Robert" },
      });
      await expectFresh(scene, bob, { name: "Robert" });
    });

    it("changing a primary key re-reads the findUnique of the old and of the new id", async () => {
      const w = await env.world("pk-change");
      const scene = await env.scene();
      const user = await env.bare.user.create({
        data: { tenantId: w.tenantId, email: `${unique("pk")}@example.test`, name: "Moving" },
      });
      const newId = unusedId();
      await warm(scene, byId(user.id));
      expect(await warm(scene, byId(newId))).toBeNull();

      await scene.main.prisma.user.update({ where: { id: user.id }, data: { id: newId } });

      await expectFresh(scene, byId(user.id), null);
      await expectFresh(scene, byId(newId), { name: "Moving" });
    });

    it("compound primary key (Membership userId_groupId): a write by that key re-reads its findUnique only; another membership stays a hit", async () => {
      const w = await env.world("compound");
      const scene = await env.scene();
      const membership =
        (userId: number, groupId: number): Read<unknown> =>
        (p) =>
          p.membership.findUnique({
            where: { userId_groupId: { userId, groupId } },
            select: { role: true },
            cache: true,
          });
      const bobs = membership(w.users.bob, w.groups.readers);
      const carols = membership(w.users.carol, w.groups.readers);
      const readers: Read<unknown> = (p) =>
        p.membership.count({ where: { groupId: w.groups.readers, role: "moderator" }, cache: true });
      await warm(scene, bobs);
      await warm(scene, carols);
      expect(await warm(scene, readers)).toBe(0);

      await scene.main.prisma.membership.update({
        where: { userId_groupId: { userId: w.users.bob, groupId: w.groups.readers } },
        data: { role: "moderator" },
      });

      await expectFresh(scene, bobs, { role: "moderator" });
      await expectFresh(scene, readers, 1);
      await expectStillCached(scene, carols, { role: "member" });

      // A write that names no key (updateMany) reaches every membership's entry.
      await scene.main.prisma.membership.updateMany({ where: { groupId: w.groups.readers }, data: { role: "reader" } });
      await expectFresh(scene, bobs, { role: "reader" });
      await expectFresh(scene, carols, { role: "reader" });
    });

    it("creating a row keeps other rows' findUnique by id cached", async () => {
      const w = await env.world("create-keeps");
      const scene = await env.scene();
      const alice = byId(w.users.alice);
      await warm(scene, alice);

      await scene.main.prisma.user.create({ data: { tenantId: w.tenantId, email: `${unique("other")}@example.test` } });

      await expectStillCached(scene, alice, { name: "Alice" });
    });
  });
}
