/**
 * Relations: a read depends on every model it reaches (include, `_count`,
 * relation filters, implicit many-to-many); nested writes invalidate the
 * models they write; deletes invalidate what the database's referential
 * actions (Cascade, SetNull) change.
 */
import { describe, expect, it } from "vitest";
import { expectFresh, expectStillCached, unusedId, warm, type Harness, type Read } from "../../helpers/harness.js";

export function describeRelations(env: Harness): void {
  describe("relations", () => {
    const postById =
      (id: number): Read<unknown> =>
      (p) =>
        p.post.findUnique({ where: { id }, select: { title: true, authorId: true }, cache: true });

    it("a user read with include: { posts } is re-read after a write to one of the posts", async () => {
      const w = await env.world("include");
      const scene = await env.scene();
      const bobWithPosts: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { id: w.users.bob },
          select: { email: true, posts: { select: { title: true } } },
          cache: true,
        });
      expect(await warm(scene, bobWithPosts)).toEqual({ email: "bob@example.test", posts: [{ title: "Bob's post" }] });

      await scene.main.prisma.post.update({ where: { id: w.posts.bobs }, data: { title: "Renamed" } });

      await expectFresh(scene, bobWithPosts, { email: "bob@example.test", posts: [{ title: "Renamed" }] });
    });

    it("_count of a relation is re-read after a row of the related model is created", async () => {
      const w = await env.world("count");
      const scene = await env.scene();
      const counted: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { id: w.users.bob },
          select: { _count: { select: { posts: true, comments: true } } },
          cache: true,
        });
      expect(await warm(scene, counted)).toEqual({ _count: { posts: 1, comments: 1 } });

      await scene.main.prisma.post.create({
        data: { tenantId: w.tenantId, authorId: w.users.bob, slug: "bob-2", title: "Bob again" },
      });

      await expectFresh(scene, counted, { _count: { posts: 2, comments: 1 } });
    });

    it("a relation filter in where (posts: { some }) is re-read after a write to the related model", async () => {
      const w = await env.world("filter");
      const scene = await env.scene();
      const withDrafts: Read<unknown> = (p) =>
        p.user.findMany({
          where: { tenantId: w.tenantId, posts: { some: { published: false } } },
          select: { email: true },
          // Without an order Postgres returns rows as they lie on disk, which another test's writes can change.
          orderBy: { email: "asc" },
          cache: true,
        });
      expect(await warm(scene, withDrafts)).toEqual([{ email: "alice@example.test" }]);

      await scene.main.prisma.post.update({ where: { id: w.posts.bobs }, data: { published: false } });

      await expectFresh(scene, withDrafts, [{ email: "alice@example.test" }, { email: "bob@example.test" }]);
    });

    it("implicit many-to-many: connecting and disconnecting a tag through post.update re-reads tag.findUnique({ include: { posts } })", async () => {
      const w = await env.world("m2m");
      const scene = await env.scene();
      const blue = await env.bare.tag.findUniqueOrThrow({ where: { name: w.tags.blue } });
      const blueWithPosts: Read<unknown> = (p) =>
        p.tag.findUnique({
          where: { id: blue.id },
          select: { posts: { select: { slug: true }, orderBy: { slug: "asc" } } },
          cache: true,
        });
      const blueCount: Read<unknown> = (p) =>
        p.tag.findUnique({ where: { id: blue.id }, select: { _count: { select: { posts: true } } }, cache: true });
      expect(await warm(scene, blueWithPosts)).toEqual({ posts: [{ slug: "bobs" }, { slug: "welcome" }] });
      expect(await warm(scene, blueCount)).toEqual({ _count: { posts: 2 } });

      await scene.main.prisma.post.update({
        where: { id: w.posts.draft },
        data: { tags: { connect: { id: blue.id } } },
      });
      await expectFresh(scene, blueWithPosts, { posts: [{ slug: "bobs" }, { slug: "draft" }, { slug: "welcome" }] });
      await expectFresh(scene, blueCount, { _count: { posts: 3 } });

      await scene.main.prisma.post.update({
        where: { id: w.posts.welcome },
        data: { tags: { disconnect: { id: blue.id } } },
      });
      await expectFresh(scene, blueWithPosts, { posts: [{ slug: "bobs" }, { slug: "draft" }] });
      await expectFresh(scene, blueCount, { _count: { posts: 2 } });
    });

    it("implicit many-to-many, the other side: tag.update connecting a post re-reads post.findUnique({ include: { tags } })", async () => {
      const w = await env.world("m2m-other");
      const scene = await env.scene();
      const orphanTags: Read<unknown> = (p) =>
        p.post.findUnique({ where: { id: w.posts.orphan }, select: { tags: { select: { name: true } } }, cache: true });
      expect(await warm(scene, orphanTags)).toEqual({ tags: [] });

      await scene.main.prisma.tag.update({
        where: { name: w.tags.red },
        data: { posts: { connect: { id: w.posts.orphan } } },
      });

      await expectFresh(scene, orphanTags, { tags: [{ name: w.tags.red }] });
    });

    describe("nested writes through user.update re-read cached Post reads", () => {
      it("posts: { create }", async () => {
        const w = await env.world("nested-create");
        const scene = await env.scene();
        const carolsPosts: Read<unknown> = (p) =>
          p.post.findMany({ where: { authorId: w.users.carol }, select: { slug: true }, cache: true });
        expect(await warm(scene, carolsPosts)).toEqual([]);

        await scene.main.prisma.user.update({
          where: { id: w.users.carol },
          data: { posts: { create: { tenantId: w.tenantId, slug: "carols", title: "Carol's" } } },
        });

        await expectFresh(scene, carolsPosts, [{ slug: "carols" }]);
      });

      it("posts: { update }", async () => {
        const w = await env.world("nested-update");
        const scene = await env.scene();
        await warm(scene, postById(w.posts.bobs));

        await scene.main.prisma.user.update({
          where: { id: w.users.bob },
          data: { posts: { update: { where: { id: w.posts.bobs }, data: { title: "Edited" } } } },
        });

        await expectFresh(scene, postById(w.posts.bobs), { title: "Edited", authorId: w.users.bob });
      });

      it("posts: { delete }", async () => {
        const w = await env.world("nested-delete");
        const scene = await env.scene();
        await warm(scene, postById(w.posts.bobs));

        await scene.main.prisma.user.update({
          where: { id: w.users.bob },
          data: { posts: { delete: { id: w.posts.bobs } } },
        });

        await expectFresh(scene, postById(w.posts.bobs), null);
      });

      it("posts: { connect }", async () => {
        const w = await env.world("nested-connect");
        const scene = await env.scene();
        expect(await warm(scene, postById(w.posts.orphan))).toEqual({ title: "Orphan", authorId: null });

        await scene.main.prisma.user.update({
          where: { id: w.users.carol },
          data: { posts: { connect: { id: w.posts.orphan } } },
        });

        await expectFresh(scene, postById(w.posts.orphan), { title: "Orphan", authorId: w.users.carol });
      });

      it("profile: { upsert } re-reads a cached Profile lookup", async () => {
        const w = await env.world("nested-profile");
        const scene = await env.scene();
        const profile: Read<unknown> = (p) =>
          p.profile.findUnique({ where: { userId: w.users.alice }, select: { bio: true }, cache: true });
        expect(await warm(scene, profile)).toBeNull();

        await scene.main.prisma.user.update({
          where: { id: w.users.alice },
          data: { profile: { upsert: { create: { bio: "Hello" }, update: { bio: "Hello" } } } },
        });

        await expectFresh(scene, profile, { bio: "Hello" });
      });
    });

    describe("referential actions", () => {
      it("deleting a user re-reads its cached Profile, Comment and Membership (Cascade) and its Post (SetNull authorId)", async () => {
        const w = await env.world("cascade-user");
        const scene = await env.scene();
        const comment = await env.bare.comment.findFirstOrThrow({ where: { authorId: w.users.bob } });
        const profile = await env.bare.profile.findUniqueOrThrow({ where: { userId: w.users.bob } });
        const reads: Array<[Read<unknown>, unknown]> = [
          [(p) => p.profile.findUnique({ where: { id: profile.id }, select: { userId: true }, cache: true }), null],
          [(p) => p.comment.findUnique({ where: { id: comment.id }, select: { body: true }, cache: true }), null],
          [
            (p) =>
              p.membership.findUnique({
                where: { userId_groupId: { userId: w.users.bob, groupId: w.groups.readers } },
                select: { role: true },
                cache: true,
              }),
            null,
          ],
          [postById(w.posts.bobs), { title: "Bob's post", authorId: null }],
          [(p) => p.comment.count({ where: { postId: w.posts.bobs }, cache: true }), 1],
        ];
        for (const [read] of reads) await warm(scene, read);
        const aliceComment: Read<unknown> = (p) =>
          p.comment.findFirst({ where: { authorId: w.users.alice }, select: { body: true }, cache: true });
        await warm(scene, aliceComment);

        await scene.main.prisma.user.delete({ where: { id: w.users.bob } });

        for (const [read, expected] of reads) await expectFresh(scene, read, expected);
        // Comments are re-read too (model level), and still hold Alice's.
        await expectFresh(scene, aliceComment, { body: "Thanks Bob" });
      });

      it("deleting a tenant re-reads the cached rows of every model below it", async () => {
        const w = await env.world("cascade-tenant");
        const scene = await env.scene();
        const comment = await env.bare.comment.findFirstOrThrow({ where: { postId: w.posts.welcome } });
        const profile = await env.bare.profile.findUniqueOrThrow({ where: { userId: w.users.carol } });
        const reads: Read<unknown>[] = [
          (p) => p.user.findUnique({ where: { id: w.users.alice }, select: { id: true }, cache: true }),
          postById(w.posts.orphan),
          (p) => p.profile.findUnique({ where: { id: profile.id }, select: { id: true }, cache: true }),
          (p) => p.comment.findUnique({ where: { id: comment.id }, select: { id: true }, cache: true }),
          (p) =>
            p.membership.findUnique({
              where: { userId_groupId: { userId: w.users.alice, groupId: w.groups.admins } },
              select: { role: true },
              cache: true,
            }),
          (p) =>
            p.group.findUnique({
              where: { id: w.groups.readers },
              select: { _count: { select: { memberships: true } } },
              cache: true,
            }),
          (p) =>
            p.tag.findUnique({ where: { name: w.tags.red }, select: { posts: { select: { id: true } } }, cache: true }),
        ];
        for (const read of reads) await warm(scene, read);

        await scene.main.prisma.tenant.delete({ where: { id: w.tenantId } });

        const expected = [null, null, null, null, null, { _count: { memberships: 0 } }, { posts: [] }];
        for (const [i, read] of reads.entries()) await expectFresh(scene, read, expected[i]);
      });

      it("self relation, SetNull: deleting a manager re-reads the cached reports' managerId", async () => {
        const w = await env.world("self");
        const scene = await env.scene();
        const managerOf =
          (id: number): Read<unknown> =>
          (p) =>
            p.user.findUnique({ where: { id }, select: { managerId: true }, cache: true });
        const reports: Read<unknown> = (p) =>
          p.user.count({ where: { tenantId: w.tenantId, managerId: { not: null } }, cache: true });
        expect(await warm(scene, managerOf(w.users.bob))).toEqual({ managerId: w.users.alice });
        expect(await warm(scene, managerOf(w.users.carol))).toEqual({ managerId: w.users.alice });
        expect(await warm(scene, reports)).toBe(2);

        await scene.main.prisma.user.delete({ where: { id: w.users.alice } });

        await expectFresh(scene, managerOf(w.users.bob), { managerId: null });
        await expectFresh(scene, managerOf(w.users.carol), { managerId: null });
        await expectFresh(scene, reports, 0);
      });

      it("onUpdate Cascade: changing a tenant's id re-reads the cached tenantId of its users and posts", async () => {
        const w = await env.world("on-update");
        const scene = await env.scene();
        const userTenant: Read<unknown> = (p) =>
          p.user.findUnique({ where: { id: w.users.carol }, select: { tenantId: true }, cache: true });
        const postTenant: Read<unknown> = (p) =>
          p.post.findUnique({ where: { id: w.posts.orphan }, select: { tenantId: true }, cache: true });
        await warm(scene, userTenant);
        await warm(scene, postTenant);
        const newId = unusedId();

        await scene.main.prisma.tenant.update({ where: { id: w.tenantId }, data: { id: newId } });
        w.tenantId = newId; // so that the clean-up finds it

        await expectFresh(scene, userTenant, { tenantId: newId });
        await expectFresh(scene, postTenant, { tenantId: newId });
      });

      it("a write to an unrelated model leaves relation reads cached", async () => {
        const w = await env.world("unrelated");
        const scene = await env.scene();
        const bobWithPosts: Read<unknown> = (p) =>
          p.user.findUnique({ where: { id: w.users.bob }, select: { posts: { select: { id: true } } }, cache: true });
        const value = await warm(scene, bobWithPosts);

        await scene.main.prisma.group.update({
          where: { id: w.groups.admins },
          data: { name: `${w.groups.admins}-renamed-${w.suffix}` },
        });

        await expectStillCached(scene, bobWithPosts, value);
      });
    });
  });
}
