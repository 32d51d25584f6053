/**
 * A link whose foreign key is part of the related rows' primary key (an
 * explicit many-to-many) moves those rows to new keys: reads by the new key
 * (a cached `null`) must be re-read. A failing expectFresh means the write no
 * longer bumps a tag the read depends on (a stale read).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { expectFresh, warm, Harness, type Read, type Scene } from "../helpers/harness.js";
import type { Fixture } from "../helpers/fixture.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "relation links that move a primary key", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  describe("explicit m-n whose foreign key is part of the primary key", () => {
    /** Each write moves a membership row to the key (alice, readers), which did not exist: Prisma updates a key field. */
    const moves: Array<{ name: string; move: (scene: Scene, w: Fixture) => Promise<unknown>; role: string }> = [
      {
        name: "group.update connecting (alice, admins) to readers",
        move: (scene, w) =>
          scene.main.prisma.group.update({
            where: { id: w.groups.readers },
            data: {
              memberships: { connect: { userId_groupId: { userId: w.users.alice, groupId: w.groups.admins } } },
            },
          }),
        role: "owner",
      },
      {
        name: "user.update connecting (bob, readers) to alice",
        move: (scene, w) =>
          scene.main.prisma.user.update({
            where: { id: w.users.alice },
            data: {
              memberships: { connect: { userId_groupId: { userId: w.users.bob, groupId: w.groups.readers } } },
            },
          }),
        role: "member",
      },
    ];

    for (const { name, move, role } of moves)
      it(`${name} moves a primary key: a cached null by the new key is re-read`, async () => {
        const w = await env.world("key-move");
        const scene = await env.scene();
        const aliceInReaders: Read<unknown> = (p) =>
          p.membership.findUnique({
            where: { userId_groupId: { userId: w.users.alice, groupId: w.groups.readers } },
            select: { role: true },
            cache: true,
          });
        expect(await warm(scene, aliceInReaders)).toBeNull();

        await move(scene, w);

        await expectFresh(scene, aliceInReaders, { role });
      });
  });

  describe("links that keep every key: self relation, one-to-one, many-to-many", () => {
    it("self relation: user.update connecting a report re-reads the manager's reports and the report's row", async () => {
      const w = await env.world("rv-self");
      const scene = await env.scene();
      const carolsReports: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { id: w.users.carol },
          select: { reports: { select: { email: true } } },
          cache: true,
        });
      const bobsManager: Read<unknown> = (p) =>
        p.user.findUnique({ where: { id: w.users.bob }, select: { managerId: true }, cache: true });
      const alicesReportCount: Read<unknown> = (p) =>
        p.user.findUnique({
          where: { id: w.users.alice },
          select: { _count: { select: { reports: true } } },
          cache: true,
        });
      expect(await warm(scene, carolsReports)).toEqual({ reports: [] });
      expect(await warm(scene, bobsManager)).toEqual({ managerId: w.users.alice });
      expect(await warm(scene, alicesReportCount)).toEqual({ _count: { reports: 2 } });
      await scene.main.prisma.user.update({
        where: { id: w.users.carol },
        data: { reports: { connect: { id: w.users.bob } } },
      });
      await expectFresh(scene, carolsReports, { reports: [{ email: "bob@example.test" }] });
      await expectFresh(scene, bobsManager, { managerId: w.users.carol });
      await expectFresh(scene, alicesReportCount, { _count: { reports: 1 } });
    });

    it("one-to-one from the side without the key: user.update connecting another user's profile", async () => {
      const w = await env.world("rv-1to1");
      const scene = await env.scene();
      const bobsProfile = await env.bare.profile.findUniqueOrThrow({ where: { userId: w.users.bob } });
      const bobWithProfile: Read<unknown> = (p) =>
        p.user.findUnique({ where: { id: w.users.bob }, select: { profile: { select: { id: true } } }, cache: true });
      const profileById: Read<unknown> = (p) =>
        p.profile.findUnique({ where: { id: bobsProfile.id }, select: { userId: true }, cache: true });
      const profileByUser: Read<unknown> = (p) =>
        p.profile.findUnique({ where: { userId: w.users.alice }, select: { id: true }, cache: true });
      expect(await warm(scene, bobWithProfile)).toEqual({ profile: { id: bobsProfile.id } });
      expect(await warm(scene, profileById)).toEqual({ userId: w.users.bob });
      expect(await warm(scene, profileByUser)).toBeNull();
      await scene.main.prisma.user.update({
        where: { id: w.users.alice },
        data: { profile: { connect: { id: bobsProfile.id } } },
      });
      await expectFresh(scene, bobWithProfile, { profile: null });
      await expectFresh(scene, profileById, { userId: w.users.alice });
      await expectFresh(scene, profileByUser, { id: bobsProfile.id });
    });

    it("implicit m-n set from the tag side re-reads the post's tag count", async () => {
      const w = await env.world("rv-set");
      const scene = await env.scene();
      const red = await env.bare.tag.findUniqueOrThrow({ where: { name: w.tags.red } });
      const welcomeTags: Read<unknown> = (p) =>
        p.post.findUnique({
          where: { id: w.posts.welcome },
          select: { _count: { select: { tags: true } } },
          cache: true,
        });
      const byTagCount: Read<unknown> = (p) =>
        p.post.findMany({
          where: { tenantId: w.tenantId },
          orderBy: [{ tags: { _count: "desc" } }, { id: "asc" }],
          select: { slug: true },
          take: 1,
          cache: true,
        });
      expect(await warm(scene, welcomeTags)).toEqual({ _count: { tags: 2 } });
      expect(await warm(scene, byTagCount)).toEqual([{ slug: "welcome" }]);
      await scene.main.prisma.tag.update({ where: { id: red.id }, data: { posts: { set: [{ id: w.posts.orphan }] } } });
      await expectFresh(scene, welcomeTags, { _count: { tags: 1 } });
      await expectFresh(scene, byTagCount, [{ slug: "welcome" }]);
    });

    it("nested several levels: user.update -> posts.update -> tags.connect re-reads the tag's posts", async () => {
      const w = await env.world("rv-deep");
      const scene = await env.scene();
      const blue = await env.bare.tag.findUniqueOrThrow({ where: { name: w.tags.blue } });
      const bluePosts: Read<unknown> = (p) =>
        p.tag.findUnique({
          where: { id: blue.id },
          select: { posts: { select: { slug: true }, orderBy: { slug: "asc" } } },
          cache: true,
        });
      expect(await warm(scene, bluePosts)).toEqual({ posts: [{ slug: "bobs" }, { slug: "welcome" }] });
      await scene.main.prisma.user.update({
        where: { id: w.users.alice },
        data: { posts: { update: { where: { id: w.posts.draft }, data: { tags: { connect: { id: blue.id } } } } } },
      });
      await expectFresh(scene, bluePosts, { posts: [{ slug: "bobs" }, { slug: "draft" }, { slug: "welcome" }] });
    });
  });
});
