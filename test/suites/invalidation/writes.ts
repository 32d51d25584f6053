/**
 * Consistency contract, item 1: every mutation kind made through the
 * extended client invalidates the cached reads it changed, so the next read
 * returns the new data, from the database.
 */
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import type { Fixture } from "../../helpers/fixture.js";
import { expectFresh, unique, unusedId, warm, type Harness, type Read, type Scene } from "../../helpers/harness.js";

/** Reads of a world's users that most writes change. */
function userReads(w: Fixture) {
  return {
    names: ((p: CachedPrisma) =>
      p.user.findMany({
        where: { tenantId: w.tenantId },
        select: { email: true, name: true },
        orderBy: { email: "asc" },
        cache: true,
      })) satisfies Read<unknown>,
    count: ((p: CachedPrisma) => p.user.count({ where: { tenantId: w.tenantId }, cache: true })) satisfies Read<number>,
    byId: (id: number) => (p: CachedPrisma) =>
      p.user.findUnique({ where: { id }, select: { email: true, name: true }, cache: true }),
  };
}

export function describeWrites(env: Harness): void {
  describe("every mutation kind invalidates what it changed (contract item 1)", () => {
    async function setUp(
      label: string,
    ): Promise<{ scene: Scene; w: Fixture; reads: ReturnType<typeof userReads>; write: CachedPrisma }> {
      const w = await env.world(label);
      const scene = await env.scene();
      return { scene, w, reads: userReads(w), write: scene.main.prisma };
    }

    it("create: a cached list, count and not-found lookups (by unique key, by the new id) see the new row", async () => {
      const { scene, w, reads, write } = await setUp("create");
      const email = `${unique("new")}@example.test`;
      const id = unusedId();
      const byEmail: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { tenantId_email: { tenantId: w.tenantId, email } },
          select: { name: true },
          cache: true,
        });
      const names = await warm(scene, reads.names);
      await warm(scene, reads.count);
      expect(await warm(scene, byEmail)).toBeNull();
      expect(await warm(scene, reads.byId(id))).toBeNull();

      await write.user.create({ data: { id, tenantId: w.tenantId, email, name: "New" } });

      await expectFresh(
        scene,
        reads.names,
        [...names, { email, name: "New" }].sort((a, b) => a.email.localeCompare(b.email)),
      );
      await expectFresh(scene, reads.count, 4);
      await expectFresh(scene, byEmail, { name: "New" });
      await expectFresh(scene, reads.byId(id), { email, name: "New" });
    });

    it("createMany: a cached count and list see the new rows", async () => {
      const { scene, w, reads, write } = await setUp("create-many");
      await warm(scene, reads.count);
      const names = await warm(scene, reads.names);
      const emails = [`${unique("m1")}@example.test`, `${unique("m2")}@example.test`];

      await write.user.createMany({ data: emails.map((email) => ({ tenantId: w.tenantId, email, name: "Many" })) });

      await expectFresh(scene, reads.count, 5);
      await expectFresh(
        scene,
        reads.names,
        [...names, ...emails.map((email) => ({ email, name: "Many" }))].sort((a, b) => a.email.localeCompare(b.email)),
      );
    });

    it("createManyAndReturn: a cached list sees the new rows", async () => {
      const { scene, w, write } = await setUp("create-many-return");
      const posts: Read<unknown> = (p) =>
        p.post.findMany({
          where: { tenantId: w.tenantId, published: false },
          select: { slug: true },
          orderBy: { slug: "asc" },
          cache: true,
        });
      expect(await warm(scene, posts)).toEqual([{ slug: "draft" }]);

      const created = await write.post.createManyAndReturn({
        data: [
          { tenantId: w.tenantId, slug: "a-new", title: "A" },
          { tenantId: w.tenantId, slug: "b-new", title: "B" },
        ],
      });
      expect(created).toHaveLength(2);

      await expectFresh(scene, posts, [{ slug: "a-new" }, { slug: "b-new" }, { slug: "draft" }]);
    });

    it("update: a cached findUnique by id, list and count see the change", async () => {
      const { scene, w, reads, write } = await setUp("update");
      const carol = reads.byId(w.users.carol);
      const filtered: Read<number> = (p) =>
        p.user.count({ where: { tenantId: w.tenantId, name: "Caroline" }, cache: true });
      expect(await warm(scene, carol)).toEqual({ email: "carol@example.test", name: "Carol" });
      await warm(scene, reads.names);
      expect(await warm(scene, filtered)).toBe(0);

      await write.user.update({ where: { id: w.users.carol }, data: { name: "Caroline" } });

      await expectFresh(scene, carol, { email: "carol@example.test", name: "Caroline" });
      await expectFresh(scene, reads.names, [
        { email: "alice@example.test", name: "Alice" },
        { email: "bob@example.test", name: null },
        { email: "carol@example.test", name: "Caroline" },
      ]);
      await expectFresh(scene, filtered, 1);
    });

    it("updateMany: a cached list and the findUnique of each changed row see the change", async () => {
      const { scene, w, reads, write } = await setUp("update-many");
      const bob = reads.byId(w.users.bob);
      await warm(scene, reads.names);
      expect(await warm(scene, bob)).toEqual({ email: "bob@example.test", name: null });

      const { count } = await write.user.updateMany({ where: { tenantId: w.tenantId }, data: { name: "Everyone" } });
      expect(count).toBe(3);

      await expectFresh(scene, bob, { email: "bob@example.test", name: "Everyone" });
      await expectFresh(
        scene,
        reads.names,
        ["alice", "bob", "carol"].map((n) => ({ email: `${n}@example.test`, name: "Everyone" })),
      );
    });

    it("updateManyAndReturn: a cached list and the findUnique of each changed row see the change", async () => {
      const { scene, w, write } = await setUp("update-many-return");
      const welcome: Read<unknown> = (p) =>
        p.post.findUnique({ where: { id: w.posts.welcome }, select: { views: true }, cache: true });
      const total: Read<unknown> = (p) =>
        p.post.aggregate({ where: { tenantId: w.tenantId }, _sum: { views: true }, cache: true });
      expect(await warm(scene, welcome)).toEqual({ views: 42 });
      expect(await warm(scene, total)).toEqual({ _sum: { views: 56 } });

      const returned = await write.post.updateManyAndReturn({
        where: { tenantId: w.tenantId, published: true },
        data: { views: 100 },
      });
      expect(returned).toHaveLength(3);

      await expectFresh(scene, welcome, { views: 100 });
      await expectFresh(scene, total, { _sum: { views: 300 } });
    });

    it("upsert that updates: the cached row and list see the change", async () => {
      const { scene, w, reads, write } = await setUp("upsert-update");
      const bob = reads.byId(w.users.bob);
      await warm(scene, bob);
      await warm(scene, reads.names);

      await write.user.upsert({
        where: { id: w.users.bob },
        update: { name: "Robert" },
        create: { tenantId: w.tenantId, email: "unused@example.test" },
      });

      await expectFresh(scene, bob, { email: "bob@example.test", name: "Robert" });
      await expectFresh(scene, reads.names, [
        { email: "alice@example.test", name: "Alice" },
        { email: "bob@example.test", name: "Robert" },
        { email: "carol@example.test", name: "Carol" },
      ]);
    });

    it("upsert that creates: a cached count and not-found lookups (by the unique key it names, by the new row's id) see the new row", async () => {
      const { scene, w, reads, write } = await setUp("upsert-create");
      const email = `${unique("upserted")}@example.test`;
      const id = unusedId();
      const byEmail: Read<unknown> = (p) =>
        p.user.findFirst({ where: { tenantId: w.tenantId, email }, select: { name: true }, cache: true });
      const byKey: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { tenantId_email: { tenantId: w.tenantId, email } },
          select: { name: true },
          cache: true,
        });
      await warm(scene, reads.count);
      expect(await warm(scene, byEmail)).toBeNull();
      expect(await warm(scene, byKey)).toBeNull();
      expect(await warm(scene, reads.byId(id))).toBeNull();

      // Named by a non-primary unique key: only the row it returns tells which id it created.
      await write.user.upsert({
        where: { tenantId_email: { tenantId: w.tenantId, email } },
        update: { name: "Updated" },
        create: { id, tenantId: w.tenantId, email, name: "Created" },
      });

      await expectFresh(scene, reads.count, 4);
      await expectFresh(scene, byEmail, { name: "Created" });
      await expectFresh(scene, byKey, { name: "Created" });
      await expectFresh(scene, reads.byId(id), { email, name: "Created" });
    });

    it("delete: the cached row becomes null, the count drops", async () => {
      const { scene, w, write } = await setUp("delete");
      const post: Read<unknown> = (p) =>
        p.post.findUnique({ where: { id: w.posts.orphan }, select: { slug: true }, cache: true });
      const posts: Read<number> = (p) => p.post.count({ where: { tenantId: w.tenantId }, cache: true });
      expect(await warm(scene, post)).toEqual({ slug: "orphan" });
      expect(await warm(scene, posts)).toBe(4);

      await write.post.delete({ where: { id: w.posts.orphan } });

      await expectFresh(scene, post, null);
      await expectFresh(scene, posts, 3);
    });

    it("deleteMany: the cached rows become null, the list empties", async () => {
      const { scene, w, write } = await setUp("delete-many");
      const comments: Read<unknown> = (p) =>
        p.comment.findMany({
          where: { post: { tenantId: w.tenantId } },
          select: { body: true },
          orderBy: { body: "asc" },
          cache: true,
        });
      const first = await env.bare.comment.findFirstOrThrow({
        where: { postId: w.posts.welcome },
        orderBy: { id: "asc" },
      });
      const comment: Read<unknown> = (p) =>
        p.comment.findUnique({ where: { id: first.id }, select: { body: true }, cache: true });
      expect(await warm(scene, comments)).toHaveLength(3);
      expect(await warm(scene, comment)).toEqual({ body: "Nice" });

      const { count } = await write.comment.deleteMany({ where: { post: { tenantId: w.tenantId } } });
      expect(count).toBe(3);

      await expectFresh(scene, comments, []);
      await expectFresh(scene, comment, null);
    });
  });
}
