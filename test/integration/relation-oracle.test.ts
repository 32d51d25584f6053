/**
 * An oracle for precise relation tags: for each write, a fresh world, a
 * battery of cached reads (by primary key and not, with include/select/_count/
 * relation filters/orderBy by relation count) warmed in both tiers, then the
 * write through the cached client, then every read compared with the bare
 * client's answer. A difference is a stale read the write's tags missed.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import type { Fixture } from "../helpers/fixture.js";
import { Harness } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Ids {
  w: Fixture;
  red: number;
  blue: number;
  profiles: { bob: number; carol: number };
  comments: number[];
  other: number; // a user of the other tenant
}
type ReadSpec = [model: string, op: string, args: (ids: Ids) => Record<string, unknown>];

const reads: Record<string, ReadSpec> = {
  aliceRow: ["user", "findUnique", ({ w }) => ({ where: { id: w.users.alice } })],
  bobRow: ["user", "findUnique", ({ w }) => ({ where: { id: w.users.bob } })],
  carolRow: ["user", "findUnique", ({ w }) => ({ where: { id: w.users.carol } })],
  aliceFull: [
    "user",
    "findUnique",
    ({ w }) => ({
      where: { id: w.users.alice },
      include: {
        profile: true,
        manager: true,
        reports: { orderBy: { id: "asc" } },
        posts: { orderBy: { id: "asc" }, include: { tags: { orderBy: { id: "asc" } } } },
        memberships: { orderBy: { groupId: "asc" } },
        _count: true,
      },
    }),
  ],
  bobFull: [
    "user",
    "findUnique",
    ({ w }) => ({
      where: { id: w.users.bob },
      include: {
        profile: true,
        manager: true,
        reports: true,
        posts: { orderBy: { id: "asc" } },
        memberships: true,
        comments: { orderBy: { id: "asc" } },
        _count: true,
      },
    }),
  ],
  carolFull: [
    "user",
    "findUnique",
    ({ w }) => ({
      where: { id: w.users.carol },
      include: {
        profile: true,
        manager: true,
        reports: true,
        posts: { orderBy: { id: "asc" } },
        memberships: true,
        _count: true,
      },
    }),
  ],
  usersList: ["user", "findMany", ({ w }) => ({ where: { tenantId: w.tenantId }, orderBy: { id: "asc" } })],
  usersByPostCount: [
    "user",
    "findMany",
    ({ w }) => ({
      where: { tenantId: w.tenantId },
      orderBy: [{ posts: { _count: "desc" } }, { id: "asc" }],
      select: { id: true },
    }),
  ],
  usersWithManagerName: [
    "user",
    "findMany",
    ({ w }) => ({
      where: { tenantId: w.tenantId, manager: { is: { name: "Alice" } } },
      select: { id: true },
      orderBy: { id: "asc" },
    }),
  ],
  usersWithoutProfile: [
    "user",
    "findMany",
    ({ w }) => ({
      where: { tenantId: w.tenantId, profile: { is: null } },
      select: { id: true },
      orderBy: { id: "asc" },
    }),
  ],
  userCount: ["user", "count", ({ w }) => ({ where: { tenantId: w.tenantId, posts: { some: {} } } })],
  postsList: [
    "post",
    "findMany",
    ({ w }) => ({
      where: { tenantId: w.tenantId },
      orderBy: { id: "asc" },
      include: { author: true, tags: { orderBy: { id: "asc" } }, _count: true },
    }),
  ],
  postsByTagCount: [
    "post",
    "findMany",
    ({ w }) => ({
      where: { tenantId: w.tenantId },
      orderBy: [{ tags: { _count: "desc" } }, { id: "asc" }],
      select: { id: true },
    }),
  ],
  postsOrderedByAuthor: [
    "post",
    "findMany",
    ({ w }) => ({
      where: { tenantId: w.tenantId },
      orderBy: [{ author: { email: "asc" } }, { id: "asc" }],
      select: { id: true, authorId: true },
    }),
  ],
  welcomeRow: ["post", "findUnique", ({ w }) => ({ where: { id: w.posts.welcome } })],
  orphanRow: ["post", "findUnique", ({ w }) => ({ where: { id: w.posts.orphan } })],
  bobsRow: ["post", "findUnique", ({ w }) => ({ where: { id: w.posts.bobs } })],
  welcomeFull: [
    "post",
    "findUnique",
    ({ w }) => ({
      where: { id: w.posts.welcome },
      include: {
        author: { include: { profile: true } },
        tags: { orderBy: { id: "asc" } },
        comments: { orderBy: { id: "asc" } },
      },
    }),
  ],
  orphanFull: [
    "post",
    "findUnique",
    ({ w }) => ({
      where: { id: w.posts.orphan },
      include: { author: true, tags: true, _count: { select: { tags: true, comments: true } } },
    }),
  ],
  redRow: ["tag", "findUnique", ({ red }) => ({ where: { id: red } })],
  redFull: [
    "tag",
    "findUnique",
    ({ red }) => ({ where: { id: red }, include: { posts: { orderBy: { id: "asc" } }, _count: true } }),
  ],
  blueFull: [
    "tag",
    "findUnique",
    ({ blue }) => ({
      where: { id: blue },
      include: { posts: { orderBy: { id: "asc" }, select: { id: true, author: { select: { email: true } } } } },
    }),
  ],
  tagsOfAlice: [
    "tag",
    "findMany",
    ({ w }) => ({
      where: { posts: { some: { author: { id: w.users.alice } } } },
      orderBy: { id: "asc" },
      select: { id: true },
    }),
  ],
  bobProfile: ["profile", "findUnique", ({ profiles }) => ({ where: { id: profiles.bob }, include: { user: true } })],
  carolProfile: ["profile", "findUnique", ({ profiles }) => ({ where: { id: profiles.carol } })],
  aliceProfileByUser: ["profile", "findUnique", ({ w }) => ({ where: { userId: w.users.alice } })],
  bobProfileByUser: ["profile", "findUnique", ({ w }) => ({ where: { userId: w.users.bob } })],
  profilesList: [
    "profile",
    "findMany",
    ({ w }) => ({ where: { user: { tenantId: w.tenantId } }, orderBy: { id: "asc" } }),
  ],
  mAliceAdmins: [
    "membership",
    "findUnique",
    ({ w }) => ({ where: { userId_groupId: { userId: w.users.alice, groupId: w.groups.admins } } }),
  ],
  mAliceReaders: [
    "membership",
    "findUnique",
    ({ w }) => ({ where: { userId_groupId: { userId: w.users.alice, groupId: w.groups.readers } } }),
  ],
  mBobReaders: [
    "membership",
    "findUnique",
    ({ w }) => ({ where: { userId_groupId: { userId: w.users.bob, groupId: w.groups.readers } } }),
  ],
  mBobAdmins: [
    "membership",
    "findUnique",
    ({ w }) => ({ where: { userId_groupId: { userId: w.users.bob, groupId: w.groups.admins } } }),
  ],
  readersFull: [
    "group",
    "findUnique",
    ({ w }) => ({
      where: { id: w.groups.readers },
      include: {
        memberships: { orderBy: { userId: "asc" }, include: { user: { select: { email: true } } } },
        _count: true,
      },
    }),
  ],
  adminsRow: ["group", "findUnique", ({ w }) => ({ where: { id: w.groups.admins } })],
  groupsByMembers: [
    "group",
    "findMany",
    ({ w }) => ({
      where: { id: { in: [w.groups.admins, w.groups.readers] } },
      orderBy: [{ memberships: { _count: "desc" } }, { id: "asc" }],
      select: { id: true },
    }),
  ],
  comment0: [
    "comment",
    "findUnique",
    ({ comments }) => ({ where: { id: comments[0] }, include: { post: true, author: true } }),
  ],
  comment2Row: ["comment", "findUnique", ({ comments }) => ({ where: { id: comments[2] } })],
  commentsOfBobsPost: [
    "comment",
    "findMany",
    ({ w }) => ({ where: { post: { id: w.posts.bobs } }, orderBy: { id: "asc" } }),
  ],
  tenantFull: [
    "tenant",
    "findUnique",
    ({ w }) => ({
      where: { id: w.tenantId },
      include: { _count: true, users: { orderBy: { id: "asc" }, select: { id: true } } },
    }),
  ],
  otherRow: ["user", "findUnique", ({ other }) => ({ where: { id: other } })],
  groupAgg: [
    "membership",
    "groupBy",
    ({ w }) => ({
      by: ["groupId"],
      where: { groupId: { in: [w.groups.admins, w.groups.readers] } },
      _count: { _all: true },
      orderBy: { groupId: "asc" },
    }),
  ],
};

type Write = (p: Any, ids: Ids) => Promise<unknown>;
const writes: Record<string, Write> = {
  "group.update connect membership (pk move)": (p, { w }) =>
    p.group.update({
      where: { id: w.groups.readers },
      data: { memberships: { connect: { userId_groupId: { userId: w.users.alice, groupId: w.groups.admins } } } },
    }),
  "user.update connect membership (pk move)": (p, { w }) =>
    p.user.update({
      where: { id: w.users.alice },
      data: { memberships: { connect: [{ userId_groupId: { userId: w.users.bob, groupId: w.groups.readers } }] } },
    }),
  "user.update reports connect": (p, { w }) =>
    p.user.update({ where: { id: w.users.bob }, data: { reports: { connect: { id: w.users.carol } } } }),
  "user.update reports set []": (p, { w }) =>
    p.user.update({ where: { id: w.users.alice }, data: { reports: { set: [] } } }),
  "user.update reports disconnect": (p, { w }) =>
    p.user.update({ where: { id: w.users.alice }, data: { reports: { disconnect: [{ id: w.users.bob }] } } }),
  "user.update manager connect": (p, { w }) =>
    p.user.update({ where: { id: w.users.alice }, data: { manager: { connect: { id: w.users.carol } } } }),
  "user.update manager disconnect": (p, { w }) =>
    p.user.update({ where: { id: w.users.bob }, data: { manager: { disconnect: true } } }),
  "user.update profile connect (moves bob's)": (p, { w, profiles }) =>
    p.user.update({ where: { id: w.users.alice }, data: { profile: { connect: { id: profiles.bob } } } }),
  "profile.update user connect": (p, { w, profiles }) =>
    p.profile.update({ where: { id: profiles.carol }, data: { user: { connect: { id: w.users.alice } } } }),
  "user.update profile connectOrCreate (creates)": (p, { w }) =>
    p.user.update({
      where: { id: w.users.alice },
      data: { profile: { connectOrCreate: { where: { userId: w.users.alice }, create: { bio: "new" } } } },
    }),
  "user.update profile upsert": (p, { w }) =>
    p.user.update({
      where: { id: w.users.bob },
      data: { profile: { upsert: { create: { bio: "c" }, update: { bio: "u" } } } },
    }),
  "user.update profile delete": (p, { w }) =>
    p.user.update({ where: { id: w.users.carol }, data: { profile: { delete: true } } }),
  "user.update posts connect": (p, { w }) =>
    p.user.update({
      where: { id: w.users.bob },
      data: { posts: { connect: [{ id: w.posts.orphan }, { id: w.posts.welcome }] } },
    }),
  "user.update posts set": (p, { w }) =>
    p.user.update({ where: { id: w.users.alice }, data: { posts: { set: [{ id: w.posts.orphan }] } } }),
  "user.update posts disconnect": (p, { w }) =>
    p.user.update({ where: { id: w.users.alice }, data: { posts: { disconnect: { id: w.posts.draft } } } }),
  "user.update posts connect by compound unique": (p, { w }) =>
    p.user.update({
      where: { id: w.users.carol },
      data: { posts: { connect: { tenantId_slug: { tenantId: w.tenantId, slug: "orphan" } } } },
    }),
  "post.update author connect": (p, { w }) =>
    p.post.update({ where: { id: w.posts.orphan }, data: { author: { connect: { id: w.users.carol } } } }),
  "post.update author disconnect": (p, { w }) =>
    p.post.update({ where: { id: w.posts.welcome }, data: { author: { disconnect: true } } }),
  "post.update author update": (p, { w }) =>
    p.post.update({ where: { id: w.posts.welcome }, data: { author: { update: { name: "Alicia" } } } }),
  "post.update author connectOrCreate": (p, { w }) =>
    p.post.update({
      where: { id: w.posts.orphan },
      data: {
        author: { connectOrCreate: { where: { id: w.users.bob }, create: { email: "x@x", tenantId: w.tenantId } } },
      },
    }),
  "post.update tags connect": (p, { w, red }) =>
    p.post.update({ where: { id: w.posts.orphan }, data: { tags: { connect: { id: red } } } }),
  "post.update tags set": (p, { w, blue }) =>
    p.post.update({ where: { id: w.posts.welcome }, data: { tags: { set: [{ id: blue }] } } }),
  "post.update tags disconnect": (p, { w, red }) =>
    p.post.update({ where: { id: w.posts.draft }, data: { tags: { disconnect: { id: red } } } }),
  "post.update tags create": (p, { w }) =>
    p.post.update({ where: { id: w.posts.orphan }, data: { tags: { create: { name: `t-${w.suffix}` } } } }),
  "tag.update posts connect": (p, { w, blue }) =>
    p.tag.update({
      where: { id: blue },
      data: { posts: { connect: [{ id: w.posts.orphan }, { id: w.posts.draft }] } },
    }),
  "tag.update posts set": (p, { w, red }) =>
    p.tag.update({ where: { id: red }, data: { posts: { set: [{ id: w.posts.bobs }] } } }),
  "tag.update posts connectOrCreate": (p, { w, red }) =>
    p.tag.update({
      where: { id: red },
      data: {
        posts: {
          connectOrCreate: { where: { id: w.posts.bobs }, create: { slug: "x", title: "x", tenantId: w.tenantId } },
        },
      },
    }),
  "tag.delete": (p, { red }) => p.tag.delete({ where: { id: red } }),
  "tag.update name": (p, { red }) => p.tag.update({ where: { id: red }, data: { name: `renamed-${red}` } }),
  "post.delete": (p, { w }) => p.post.delete({ where: { id: w.posts.welcome } }),
  "user.delete alice (cascades, set null)": (p, { w }) => p.user.delete({ where: { id: w.users.alice } }),
  "group.update memberships create": (p, { w }) =>
    p.group.update({ where: { id: w.groups.admins }, data: { memberships: { create: { userId: w.users.bob } } } }),
  "group.update memberships update": (p, { w }) =>
    p.group.update({
      where: { id: w.groups.readers },
      data: {
        memberships: {
          update: {
            where: { userId_groupId: { userId: w.users.bob, groupId: w.groups.readers } },
            data: { role: "lead" },
          },
        },
      },
    }),
  "membership.update group connect": (p, { w }) =>
    p.membership.update({
      where: { userId_groupId: { userId: w.users.bob, groupId: w.groups.readers } },
      data: { group: { connect: { id: w.groups.admins } } },
    }),
  "membership.update userId scalar": (p, { w }) =>
    p.membership.update({
      where: { userId_groupId: { userId: w.users.carol, groupId: w.groups.readers } },
      data: { userId: w.users.alice },
    }),
  "membership.upsert creates": (p, { w }) =>
    p.membership.upsert({
      where: { userId_groupId: { userId: w.users.carol, groupId: w.groups.admins } },
      create: { userId: w.users.carol, groupId: w.groups.admins },
      update: {},
    }),
  "membership.deleteMany by relation filter": (p, { w }) =>
    p.membership.deleteMany({ where: { user: { email: "bob@example.test", tenantId: w.tenantId } } }),
  "post.updateMany by relation filter": (p, { w }) =>
    p.post.updateMany({ where: { author: { id: w.users.alice } }, data: { title: "T" } }),
  "user.update deep nested": (p, { w, blue }) =>
    p.user.update({
      where: { id: w.users.alice },
      data: {
        posts: {
          update: {
            where: { id: w.posts.draft },
            data: { tags: { connect: { id: blue } }, comments: { create: { body: "c", authorId: w.users.carol } } },
          },
        },
      },
    }),
  "tenant.update users connect (cross tenant)": (p, { w, other }) =>
    p.tenant.update({ where: { id: w.tenantId }, data: { users: { connect: { id: other } } } }),
  "post.update comments connect": (p, { w, comments }) =>
    p.post.update({ where: { id: w.posts.bobs }, data: { comments: { connect: { id: comments[0] } } } }),
  "comment.update post connect": (p, { w, comments }) =>
    p.comment.update({ where: { id: comments[2] }, data: { post: { connect: { id: w.posts.welcome } } } }),
  "user.upsert update branch links": (p, { w }) =>
    p.user.upsert({
      where: { id: w.users.carol },
      create: { email: "n@n", tenantId: w.tenantId },
      update: { posts: { connect: { id: w.posts.orphan } } },
    }),
  "user.create connecting reports and posts": (p, { w }) =>
    p.user.create({
      data: {
        email: `new-${w.suffix}@x`,
        tenantId: w.tenantId,
        reports: { connect: { id: w.users.bob } },
        posts: { connect: { id: w.posts.orphan } },
      },
    }),
  "profile.create for alice": (p, { w }) =>
    p.profile.create({ data: { user: { connect: { id: w.users.alice } }, bio: "p" } }),
  "fluent update posts": (p, { w }) =>
    p.user.update({ where: { id: w.users.bob }, data: { posts: { connect: { id: w.posts.orphan } } } }).posts(),
  "$transaction batch": (p, { w, red }) =>
    p.$transaction([
      p.post.update({ where: { id: w.posts.orphan }, data: { tags: { connect: { id: red } } } }),
      p.user.update({ where: { id: w.users.carol }, data: { reports: { connect: { id: w.users.bob } } } }),
    ]),
  "interactive transaction": (p, { w }) =>
    p.$transaction(async (tx: Any) => {
      await tx.group.update({
        where: { id: w.groups.readers },
        data: { memberships: { connect: { userId_groupId: { userId: w.users.alice, groupId: w.groups.admins } } } },
      });
    }),
};

describeWith(["postgres", "redis"], "relation oracle: every cached read matches the database after each write", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  async function idsOf(w: Fixture): Promise<Ids> {
    const b = env.bare;
    const red = (await b.tag.findUniqueOrThrow({ where: { name: w.tags.red } })).id;
    const blue = (await b.tag.findUniqueOrThrow({ where: { name: w.tags.blue } })).id;
    const bob = (await b.profile.findUniqueOrThrow({ where: { userId: w.users.bob } })).id;
    const carol = (await b.profile.findUniqueOrThrow({ where: { userId: w.users.carol } })).id;
    const comments = (
      await b.comment.findMany({ where: { post: { tenantId: w.tenantId } }, orderBy: { id: "asc" } })
    ).map((c) => c.id);
    const other = (await b.user.findFirstOrThrow({ where: { tenantId: w.otherTenantId } })).id;
    return { w, red, blue, profiles: { bob, carol }, comments, other };
  }

  for (const [writeName, write] of Object.entries(writes)) {
    it(`${writeName}: every cached read matches the database after the write`, async () => {
      const w = await env.world("rv-oracle");
      const ids = await idsOf(w);
      const scene = await env.scene();
      const call = (p: Any, [model, op, args]: ReadSpec, cache: boolean) =>
        p[model][op](cache ? { ...args(ids), cache: true } : args(ids));
      for (const spec of Object.values(reads)) {
        await call(scene.main.prisma, spec, true);
      }
      await scene.main.prisma.$cache.settled();
      for (const peer of scene.peers) for (const spec of Object.values(reads)) await call(peer.prisma, spec, true);

      try {
        await write(scene.main.prisma, ids);
      } catch (error) {
        // A write Prisma refuses changes nothing: report it, the reads must still match.
        console.log(`${writeName}: write failed: ${(error as Error).message.split("\n").slice(-3).join(" ")}`);
      }

      const stale: string[] = [];
      for (const [name, spec] of Object.entries(reads)) {
        const truth = JSON.stringify(await call(env.bare, spec, false), (_k, v) =>
          typeof v === "bigint" ? `${v}n` : v,
        );
        for (const instance of scene.all) {
          const got = JSON.stringify(await call(instance.prisma, spec, true), (_k, v) =>
            typeof v === "bigint" ? `${v}n` : v,
          );
          if (got !== truth) stale.push(`${name} (${instance === scene.main ? "main" : "peer"})`);
        }
      }
      expect(stale, `stale reads after ${writeName}`).toEqual([]);
    });
  }
});
