/**
 * Precise relation tags: linking rows (connect, disconnect, set) changes only
 * the side that holds the relation, so a write bumps a model only when rows
 * of that model change. Each narrowing is tested from both directions: every
 * read that looks at the relation is re-read (an under-invalidation fails
 * here), and reads of the model whose rows did not change stay cached (the
 * point of narrowing).
 */
import { describe, expect, it } from "vitest";
import { expectFresh, expectStillCached, warm, type Harness, type Read } from "../../helpers/harness.js";

export function describeRelationLinks(env: Harness): void {
  describe("relation links: a write bumps a model only when its rows change", () => {
    it("comment.create connecting an author re-reads the reads of that user's comments and leaves the user's row cached", async () => {
      const w = await env.world("link-comment");
      const scene = await env.scene();
      const carolsComments: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { id: w.users.carol },
          select: { comments: { select: { body: true }, orderBy: { body: "asc" } } },
          cache: true,
        });
      const carolsCount: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { id: w.users.carol },
          select: { _count: { select: { comments: true } } },
          cache: true,
        });
      const commenters: Read<unknown> = (p) =>
        p.user.findMany({
          where: { tenantId: w.tenantId, comments: { some: { body: "Me too" } } },
          select: { email: true },
          cache: true,
        });
      const carol: Read<unknown> = (p) =>
        p.user.findUnique({ where: { id: w.users.carol }, select: { email: true }, cache: true });
      const users: Read<unknown> = (p) =>
        p.user.findMany({
          where: { tenantId: w.tenantId },
          select: { email: true },
          orderBy: { id: "asc" },
          cache: true,
        });
      expect(await warm(scene, carolsComments)).toEqual({ comments: [{ body: "Agreed" }] });
      expect(await warm(scene, carolsCount)).toEqual({ _count: { comments: 1 } });
      expect(await warm(scene, commenters)).toEqual([]);
      const carolRow = await warm(scene, carol);
      const userRows = await warm(scene, users);

      await scene.main.prisma.comment.create({
        data: { body: "Me too", post: { connect: { id: w.posts.bobs } }, author: { connect: { id: w.users.carol } } },
      });

      await expectFresh(scene, carolsComments, { comments: [{ body: "Agreed" }, { body: "Me too" }] });
      await expectFresh(scene, carolsCount, { _count: { comments: 2 } });
      await expectFresh(scene, commenters, [{ email: "carol@example.test" }]);
      await expectStillCached(scene, carol, carolRow);
      await expectStillCached(scene, users, userRows);
    });

    it("implicit many-to-many: post.update connecting a tag re-reads both sides' reads of the link and leaves rows of both models cached", async () => {
      const w = await env.world("link-m2m");
      const scene = await env.scene();
      const red = await env.bare.tag.findUniqueOrThrow({ where: { name: w.tags.red } });
      const orphanTags: Read<unknown> = (p) =>
        p.post.findUnique({ where: { id: w.posts.orphan }, select: { tags: { select: { name: true } } }, cache: true });
      const redPosts: Read<unknown> = (p) =>
        p.post.findMany({
          where: { tenantId: w.tenantId, tags: { some: { name: w.tags.red } } },
          select: { slug: true },
          orderBy: { slug: "asc" },
          cache: true,
        });
      const redCount: Read<unknown> = (p) =>
        p.tag.findUnique({ where: { id: red.id }, select: { _count: { select: { posts: true } } }, cache: true });
      const orphan: Read<unknown> = (p) =>
        p.post.findUnique({ where: { id: w.posts.orphan }, select: { title: true }, cache: true });
      const posts: Read<unknown> = (p) =>
        p.post.findMany({
          where: { tenantId: w.tenantId },
          select: { slug: true },
          orderBy: { slug: "asc" },
          cache: true,
        });
      const redRow: Read<unknown> = (p) =>
        p.tag.findUnique({ where: { id: red.id }, select: { name: true }, cache: true });
      expect(await warm(scene, orphanTags)).toEqual({ tags: [] });
      expect(await warm(scene, redPosts)).toEqual([{ slug: "draft" }, { slug: "welcome" }]);
      expect(await warm(scene, redCount)).toEqual({ _count: { posts: 2 } });
      const untouched: Array<[Read<unknown>, unknown]> = [];
      for (const read of [orphan, posts, redRow]) untouched.push([read, await warm(scene, read)]);

      await scene.main.prisma.post.update({
        where: { id: w.posts.orphan },
        data: { tags: { connect: { id: red.id } } },
      });

      await expectFresh(scene, orphanTags, { tags: [{ name: w.tags.red }] });
      await expectFresh(scene, redPosts, [{ slug: "draft" }, { slug: "orphan" }, { slug: "welcome" }]);
      await expectFresh(scene, redCount, { _count: { posts: 3 } });
      for (const [read, value] of untouched) await expectStillCached(scene, read, value);

      await scene.main.prisma.tag.update({ where: { id: red.id }, data: { posts: { set: [] } } });

      await expectFresh(scene, orphanTags, { tags: [] });
      await expectFresh(scene, redPosts, []);
      await expectFresh(scene, redCount, { _count: { posts: 0 } });
      for (const [read, value] of untouched) await expectStillCached(scene, read, value);
    });

    it("user.update connecting a comment (its foreign key is on Comment) re-reads that comment by primary key, with its author, and both users' comment lists", async () => {
      const w = await env.world("link-move");
      const scene = await env.scene();
      const comment = await env.bare.comment.findFirstOrThrow({ where: { authorId: w.users.bob } });
      const byKey: Read<unknown> = (p) =>
        p.comment.findUnique({
          where: { id: comment.id },
          select: { body: true, author: { select: { email: true } } },
          cache: true,
        });
      const commentsOf =
        (id: number): Read<unknown> =>
        (p) =>
          p.comment.findMany({
            where: { authorId: id },
            select: { body: true },
            orderBy: { body: "asc" },
            cache: true,
          });
      const alice: Read<unknown> = (p) =>
        p.user.findUnique({ where: { id: w.users.alice }, select: { email: true }, cache: true });
      expect(await warm(scene, byKey)).toEqual({ body: "Nice", author: { email: "bob@example.test" } });
      expect(await warm(scene, commentsOf(w.users.bob))).toEqual([{ body: "Nice" }]);
      expect(await warm(scene, commentsOf(w.users.alice))).toEqual([{ body: "Thanks Bob" }]);
      const aliceRow = await warm(scene, alice);

      await scene.main.prisma.user.update({
        where: { id: w.users.alice },
        data: { comments: { connect: { id: comment.id } } },
      });

      await expectFresh(scene, byKey, { body: "Nice", author: { email: "alice@example.test" } });
      await expectFresh(scene, commentsOf(w.users.bob), []);
      await expectFresh(scene, commentsOf(w.users.alice), [{ body: "Nice" }, { body: "Thanks Bob" }]);
      await expectStillCached(scene, alice, aliceRow);
    });

    it("one-to-one, foreign key on the other side: user.update connecting a profile re-reads that profile by primary key and both users' include: { profile }", async () => {
      const w = await env.world("link-profile");
      const scene = await env.scene();
      const bobsProfile = await env.bare.profile.findUniqueOrThrow({ where: { userId: w.users.bob } });
      const profileByKey: Read<unknown> = (p) =>
        p.profile.findUnique({ where: { id: bobsProfile.id }, select: { userId: true }, cache: true });
      const withProfile =
        (id: number): Read<unknown> =>
        (p) =>
          p.user.findUnique({ where: { id }, select: { profile: { select: { id: true } } }, cache: true });
      expect(await warm(scene, profileByKey)).toEqual({ userId: w.users.bob });
      expect(await warm(scene, withProfile(w.users.bob))).toEqual({ profile: { id: bobsProfile.id } });
      expect(await warm(scene, withProfile(w.users.alice))).toEqual({ profile: null });

      await scene.main.prisma.user.update({
        where: { id: w.users.alice },
        data: { profile: { connect: { id: bobsProfile.id } } },
      });

      await expectFresh(scene, profileByKey, { userId: w.users.alice });
      await expectFresh(scene, withProfile(w.users.bob), { profile: null });
      await expectFresh(scene, withProfile(w.users.alice), { profile: { id: bobsProfile.id } });
    });

    it("one-to-one, foreign key on the written side: profile.update connecting another user re-reads both users' include: { profile }", async () => {
      const w = await env.world("link-profile-owner");
      const scene = await env.scene();
      const bobsProfile = await env.bare.profile.findUniqueOrThrow({ where: { userId: w.users.bob } });
      const withProfile =
        (id: number): Read<unknown> =>
        (p) =>
          p.user.findUnique({ where: { id }, select: { profile: { select: { id: true } } }, cache: true });
      const byUser =
        (id: number): Read<unknown> =>
        (p) =>
          p.profile.findUnique({ where: { userId: id }, select: { id: true }, cache: true });
      expect(await warm(scene, withProfile(w.users.bob))).toEqual({ profile: { id: bobsProfile.id } });
      expect(await warm(scene, withProfile(w.users.alice))).toEqual({ profile: null });
      expect(await warm(scene, byUser(w.users.alice))).toBeNull();

      await scene.main.prisma.profile.update({
        where: { id: bobsProfile.id },
        data: { user: { connect: { id: w.users.alice } } },
      });

      await expectFresh(scene, withProfile(w.users.bob), { profile: null });
      await expectFresh(scene, withProfile(w.users.alice), { profile: { id: bobsProfile.id } });
      await expectFresh(scene, byUser(w.users.alice), { id: bobsProfile.id });
    });
  });
}
