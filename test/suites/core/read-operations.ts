/**
 * Suite part 2: every read operation, with the argument shapes that change a
 * result (select, include, omit, _count, cursor, distinct, orderBy), returns
 * from every tier exactly what the uncached call returns.
 */
import { describe, expect, it } from "vitest";
import type { CacheArgs } from "../../../src/index.js";
import type { CachedPrisma } from "../../helpers/clients.js";
import { ALICE, type Fixture } from "../../helpers/fixture.js";
import { readThroughTiers, type Harness } from "../../helpers/harness.js";

interface ReadCase<T> {
  name: string;
  /** The read; `cache` is `{ cache: true }` through the cache, `{}` for the uncached oracle. */
  run(prisma: CachedPrisma, cache: CacheArgs, f: Fixture): PromiseLike<T>;
  /** What the fixture makes the uncached read return: proves the case exercises its feature. */
  check(result: T, f: Fixture): void;
}

function readCase<T>(name: string, run: ReadCase<T>["run"], check: ReadCase<T>["check"]): ReadCase<unknown> {
  return { name, run, check } as ReadCase<unknown>;
}

const cases: Array<ReadCase<unknown>> = [
  readCase(
    "findUnique by id",
    (p, cache, f) => p.user.findUnique({ where: { id: f.users.alice }, ...cache }),
    (user) => expect(user?.email).toBe(ALICE.email),
  ),
  readCase(
    "findUnique by a compound unique key",
    (p, cache, f) =>
      p.user.findUnique({ where: { tenantId_email: { tenantId: f.tenantId, email: "bob@example.test" } }, ...cache }),
    (user, f) => expect(user?.id).toBe(f.users.bob),
  ),
  readCase(
    "findUnique by a compound id (explicit m2m row)",
    (p, cache, f) =>
      p.membership.findUnique({
        where: { userId_groupId: { userId: f.users.alice, groupId: f.groups.admins } },
        ...cache,
      }),
    (membership) => expect(membership?.role).toBe("owner"),
  ),
  readCase(
    "findUniqueOrThrow",
    (p, cache, f) => p.post.findUniqueOrThrow({ where: { id: f.posts.welcome }, ...cache }),
    (post) => expect(post.title).toBe("Welcome"),
  ),
  readCase(
    "findFirst with a filter",
    (p, cache, f) => p.user.findFirst({ where: { tenantId: f.tenantId, role: "GUEST" }, ...cache }),
    (user, f) => expect(user?.id).toBe(f.users.carol),
  ),
  readCase(
    "findFirstOrThrow with orderBy",
    (p, cache, f) =>
      p.post.findFirstOrThrow({
        where: { tenantId: f.tenantId, published: true },
        orderBy: { views: "desc" },
        ...cache,
      }),
    (post, f) => expect(post.id).toBe(f.posts.welcome),
  ),
  readCase(
    "findMany with orderBy",
    (p, cache, f) =>
      p.user.findMany({
        where: { tenantId: f.tenantId, email: { endsWith: "@example.test" } },
        orderBy: { email: "asc" },
        ...cache,
      }),
    (users) => expect(users.map((u) => u.email)).toEqual([ALICE.email, "bob@example.test", "carol@example.test"]),
  ),
  readCase(
    "findMany ordered by several fields",
    (p, cache, f) =>
      p.post.findMany({
        where: { tenantId: f.tenantId },
        orderBy: [{ views: "desc" }, { slug: "asc" }],
        select: { slug: true },
        ...cache,
      }),
    (posts) => expect(posts.map((p) => p.slug)).toEqual(["welcome", "bobs", "orphan", "draft"]),
  ),
  readCase(
    "findMany filtered through relations (implicit m2m)",
    (p, cache, f) =>
      p.user.findMany({
        where: { tenantId: f.tenantId, posts: { some: { tags: { some: { name: f.tags.red } } } } },
        select: { id: true },
        ...cache,
      }),
    (users, f) => expect(users).toEqual([{ id: f.users.alice }]),
  ),
  readCase(
    "count",
    (p, cache, f) => p.post.count({ where: { tenantId: f.tenantId, published: true }, ...cache }),
    (count) => expect(count).toBe(3),
  ),
  readCase(
    "count with select",
    (p, cache, f) =>
      p.post.count({ where: { tenantId: f.tenantId }, select: { _all: true, rating: true, authorId: true }, ...cache }),
    (counts) => expect(counts).toEqual({ _all: 4, rating: 3, authorId: 3 }),
  ),
  readCase(
    "aggregate over Int, Float, DateTime",
    (p, cache, f) =>
      p.post.aggregate({
        where: { tenantId: f.tenantId },
        _count: { _all: true },
        _sum: { views: true },
        _avg: { rating: true },
        _min: { publishedAt: true, rating: true },
        _max: { views: true },
        ...cache,
      }),
    (result) => {
      expect(result._count._all).toBe(4);
      expect(result._sum.views).toBe(56);
      expect(result._min.publishedAt).toBeInstanceOf(Date);
    },
  ),
  readCase(
    "aggregate over Decimal and BigInt",
    (p, cache, f) =>
      p.user.aggregate({
        where: { tenantId: f.tenantId },
        _sum: { balance: true, visits: true },
        _max: { visits: true, createdAt: true },
        ...cache,
      }),
    (result) => {
      expect(typeof result._max.visits).toBe("bigint");
      expect(result._sum.balance).not.toBeNull();
    },
  ),
  readCase(
    "groupBy with aggregates, having and orderBy",
    (p, cache, f) =>
      p.post.groupBy({
        by: ["published"],
        where: { tenantId: f.tenantId },
        _count: { _all: true },
        _sum: { views: true },
        having: { views: { _sum: { gte: 0 } } },
        orderBy: { published: "asc" },
        ...cache,
      }),
    (groups) =>
      expect(groups.map((g) => [g.published, g._count._all, g._sum.views])).toEqual([
        [false, 1, 0],
        [true, 3, 56],
      ]),
  ),
  readCase(
    "select with a nested relation",
    (p, cache, f) =>
      p.user.findUnique({
        where: { id: f.users.carol },
        select: { email: true, role: true, profile: { select: { bio: true, birthday: true } } },
        ...cache,
      }),
    (user) =>
      expect(user).toEqual({
        email: "carol@example.test",
        role: "GUEST",
        profile: { bio: "Writes about caches.", birthday: new Date("1990-05-17T00:00:00.000Z") },
      }),
  ),
  readCase(
    "include: nested relations and the implicit m2m tags",
    (p, cache, f) =>
      p.post.findUnique({
        where: { id: f.posts.welcome },
        include: {
          author: { include: { profile: true } },
          tags: { orderBy: { name: "asc" } },
          comments: { orderBy: { createdAt: "asc" }, include: { author: { select: { email: true } } } },
        },
        ...cache,
      }),
    (post, f) => {
      expect(post?.tags.map((t) => t.name)).toEqual([f.tags.blue, f.tags.red]);
      expect(post?.comments.map((c) => c.author.email)).toEqual(["bob@example.test", "carol@example.test"]);
      expect(post?.author?.email).toBe(ALICE.email);
    },
  ),
  readCase(
    "include from the other side of the implicit m2m",
    (p, cache, f) =>
      p.tag.findUnique({
        where: { name: f.tags.red },
        include: { posts: { orderBy: { slug: "asc" }, select: { slug: true } } },
        ...cache,
      }),
    (tag) => expect(tag?.posts).toEqual([{ slug: "draft" }, { slug: "welcome" }]),
  ),
  readCase(
    "include the explicit m2m memberships and their groups",
    (p, cache, f) =>
      p.user.findMany({
        where: { tenantId: f.tenantId, memberships: { some: {} } },
        orderBy: { id: "asc" },
        include: { memberships: { include: { group: true } } },
        ...cache,
      }),
    (users, f) => {
      expect(users.map((u) => u.memberships.map((m) => [m.role, m.group.name]))).toEqual([
        [["owner", `admins-${f.suffix}`]],
        [["member", `readers-${f.suffix}`]],
        [["member", `readers-${f.suffix}`]],
      ]);
    },
  ),
  readCase(
    "include a self relation both ways",
    (p, cache, f) =>
      p.user.findUnique({
        where: { id: f.users.alice },
        include: { manager: true, reports: { orderBy: { id: "asc" } } },
        ...cache,
      }),
    (user, f) => {
      expect(user?.manager).toBeNull();
      expect(user?.reports.map((r) => r.id)).toEqual([f.users.bob, f.users.carol]);
    },
  ),
  readCase(
    "omit",
    (p, cache, f) =>
      p.user.findMany({
        where: { tenantId: f.tenantId, email: { endsWith: "@example.test" } },
        omit: { avatar: true, settings: true },
        orderBy: { id: "asc" },
        ...cache,
      }),
    (users) => {
      expect(users).toHaveLength(3);
      for (const user of users) expect(Object.keys(user)).not.toContain("avatar");
    },
  ),
  readCase(
    "_count of relations",
    (p, cache, f) =>
      p.user.findMany({
        where: { tenantId: f.tenantId, email: { endsWith: "@example.test" } },
        orderBy: { id: "asc" },
        select: { email: true, _count: { select: { posts: true, comments: true, memberships: true, reports: true } } },
        ...cache,
      }),
    (users) => expect(users[0]?._count).toEqual({ posts: 2, comments: 1, memberships: 1, reports: 2 }),
  ),
  readCase(
    "cursor, take and skip",
    (p, cache, f) =>
      p.post.findMany({
        where: { tenantId: f.tenantId },
        orderBy: { id: "asc" },
        cursor: { id: f.posts.draft },
        skip: 1,
        take: 2,
        select: { id: true },
        ...cache,
      }),
    (posts, f) => expect(posts).toEqual([{ id: f.posts.bobs }, { id: f.posts.orphan }]),
  ),
  readCase(
    "negative take",
    (p, cache, f) =>
      p.post.findMany({
        where: { tenantId: f.tenantId },
        orderBy: { id: "asc" },
        take: -2,
        select: { id: true },
        ...cache,
      }),
    (posts, f) => expect(posts).toEqual([{ id: f.posts.bobs }, { id: f.posts.orphan }]),
  ),
  readCase(
    "distinct",
    (p, cache, f) =>
      p.post.findMany({
        where: { tenantId: f.tenantId },
        distinct: ["views"],
        orderBy: { views: "asc" },
        select: { views: true },
        ...cache,
      }),
    (posts) => expect(posts).toEqual([{ views: 0 }, { views: 7 }, { views: 42 }]),
  ),
];

export function describeReadOperations(h: Harness): void {
  describe("every read operation returns what the uncached call returns", () => {
    for (const readCase of cases) {
      it(readCase.name, async () => {
        // The bare client has no `cache` argument; the case passes it none.
        const expected = await readCase.run(h.bare as unknown as CachedPrisma, {}, h.fixture);
        readCase.check(expected, h.fixture);

        const answers = await readThroughTiers(h, (prisma) => readCase.run(prisma, { cache: true }, h.fixture));
        for (const { tier, value } of answers) expect(value, `answer from the ${tier}`).toStrictEqual(expected);
      });
    }

    // A fluent call asks for the related rows, so it runs uncached; the types do not offer it on the extended client.
    it("the fluent relation API: findUnique(...).posts()", async () => {
      const where = { id: h.fixture.users.alice };
      const expected = await h.bare.user.findUnique({ where }).posts({ orderBy: { id: "asc" } });
      expect(expected).toHaveLength(2);
      const { prisma } = await h.client();
      type Fluent = { posts(args: object): Promise<unknown> };
      const read = () =>
        (prisma.user.findUnique({ where, cache: true }) as unknown as Fluent).posts({ orderBy: { id: "asc" } });
      expect(await read()).toStrictEqual(expected);
      expect(await read()).toStrictEqual(expected);
    });
  });
}
