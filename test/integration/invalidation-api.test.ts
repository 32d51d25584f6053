/**
 * The tag API (`prisma.$cache.invalidate`, `invalidateModels`,
 * `invalidateQuery`, `cache: { tags }` on reads and `cache: { invalidates }`
 * on writes), its validation, and raw SQL (consistency contract item 5:
 * `$executeRaw` invalidates every model unless `rawWrites` declares what it
 * writes; `$cache.queryRaw` is cached under the tags it names).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import type { CachedPrisma } from "../helpers/clients.js";
import type { Fixture } from "../helpers/fixture.js";
import {
  expectFresh,
  expectStillCached,
  Harness,
  observe,
  unique,
  warm,
  type Read,
  type Scene,
} from "../helpers/harness.js";
import { expectCacheError } from "../helpers/cache-errors.js";
import { postgresTarget } from "../helpers/targets.js";
import { Prisma } from "../generated/postgres/client.ts";

describeWith(["postgres", "redis"], "the tag API and raw SQL: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  /** A world, a scene, and reads of it on three models, each warmed in every tier. */
  async function warmed(label: string) {
    const w = await env.world(label);
    const scene = await env.scene();
    const tag = unique("app:front-page");
    const reads = {
      /** Tagged with `tag`. */
      frontPage: ((p: CachedPrisma) =>
        p.post.findMany({
          where: { tenantId: w.tenantId, published: true },
          select: { title: true },
          orderBy: { id: "asc" },
          cache: { tags: [tag] },
        })) as Read<unknown>,
      post: ((p: CachedPrisma) =>
        p.post.findUnique({ where: { id: w.posts.welcome }, select: { views: true }, cache: true })) as Read<unknown>,
      user: ((p: CachedPrisma) =>
        p.user.findUnique({ where: { id: w.users.alice }, select: { name: true }, cache: true })) as Read<unknown>,
      users: ((p: CachedPrisma) =>
        p.user.findMany({
          where: { tenantId: w.tenantId },
          select: { name: true },
          orderBy: { id: "asc" },
          cache: true,
        })) as Read<unknown>,
      userWithPosts: ((p: CachedPrisma) =>
        p.user.findUnique({
          where: { id: w.users.bob },
          select: { posts: { select: { views: true } } },
          cache: true,
        })) as Read<unknown>,
      comments: ((p: CachedPrisma) =>
        p.comment.count({ where: { postId: w.posts.welcome }, cache: true })) as Read<unknown>,
      group: ((p: CachedPrisma) =>
        p.group.findUnique({ where: { id: w.groups.admins }, select: { name: true }, cache: true })) as Read<unknown>,
    };
    const values = {} as Record<keyof typeof reads, unknown>;
    for (const [name, read] of Object.entries(reads)) values[name as keyof typeof reads] = await warm(scene, read);
    return { w, scene, tag, reads, values, prisma: scene.main.prisma };
  }

  /**
   * Changes rows behind the cache's back (as another service would): only an invalidation can make a cached read see
   * it.
   */
  async function changeBehindTheCache(w: Fixture): Promise<void> {
    await env.bare.post.updateMany({ where: { tenantId: w.tenantId }, data: { views: { increment: 1000 } } });
    await env.bare.post.update({ where: { id: w.posts.orphan }, data: { published: false } });
    await env.bare.user.update({ where: { id: w.users.alice }, data: { name: "Changed" } });
    await env.bare.comment.deleteMany({ where: { postId: w.posts.welcome } });
  }

  /** The reads' values after {@link changeBehindTheCache}. */
  function changed(values: Record<string, unknown>) {
    return {
      frontPage: [{ title: "Welcome" }, { title: "Bob's post" }],
      post: { views: 1042 },
      user: { name: "Changed" },
      users: [{ name: "Changed" }, { name: null }, { name: "Carol" }],
      userWithPosts: { posts: [{ views: 1007 }] },
      comments: 0,
      group: values.group,
    };
  }

  /** The reads named in `fresh` re-read the changed data (`now`); every other read still serves its cached value. */
  async function expectOnly(
    scene: Scene,
    reads: Record<string, Read<unknown>>,
    values: Record<string, unknown>,
    fresh: string[],
    now: Record<string, unknown> = changed(values),
  ): Promise<void> {
    for (const [name, read] of Object.entries(reads)) {
      if (fresh.includes(name)) await expectFresh(scene, read, now[name]);
      else await expectStillCached(scene, read, values[name]);
    }
  }

  describe("invalidation by tag, model and query", () => {
    it("invalidate({ tags }) re-reads only the reads carrying the tag", async () => {
      const { w, scene, tag, reads, values, prisma } = await warmed("api-tags");
      await changeBehindTheCache(w);
      await prisma.$cache.invalidate({ tags: [tag] });
      await expectOnly(scene, reads, values, ["frontPage"]);
    });

    it("invalidate({ models: [Post] }) re-reads every read touching Post (also by id, also through a relation), and nothing else", async () => {
      const { w, scene, reads, values, prisma } = await warmed("api-models");
      await changeBehindTheCache(w);
      await prisma.$cache.invalidate({ models: ["Post"] });
      await expectOnly(scene, reads, values, ["frontPage", "post", "userWithPosts"]);
    });

    it("invalidateModels([Post, Comment])", async () => {
      const { w, scene, reads, values, prisma } = await warmed("api-invalidate-models");
      await changeBehindTheCache(w);
      await prisma.$cache.invalidateModels(["Post", "Comment"]);
      await expectOnly(scene, reads, values, ["frontPage", "post", "userWithPosts", "comments"]);
    });

    it("invalidateQuery re-reads that query's entry and its bucket's only; another query on the same model stays a hit", async () => {
      const { w, scene, reads, values, prisma } = await warmed("api-query");
      const args = { where: { id: w.users.alice }, select: { name: true } };
      const bucket = prisma.$cache.tagsOf("User", "findUnique", args)?.[0];
      expect(bucket).toMatch(/^q:\d{1,3}$/);
      // Which reads share that bucket (1 in 256 queries does): each read is called on a recorder instead of a client.
      const sameBucket = Object.keys(reads).filter((name) => {
        let tags: string[] | undefined;
        const recorder = new Proxy({} as Record<string, unknown>, {
          get: (_, property: string) => ({
            ...Object.fromEntries(
              (["findMany", "findUnique", "count"] as const).map((operation) => [
                operation,
                (a: Record<string, unknown>) =>
                  (tags = prisma.$cache.tagsOf(property[0]!.toUpperCase() + property.slice(1), operation, a)),
              ]),
            ),
          }),
        });
        void reads[name as keyof typeof reads](recorder as unknown as CachedPrisma);
        if (tags === undefined) throw new Error(`read ${name} was not recorded`);
        return tags[0] === bucket;
      });
      expect(sameBucket).toContain("user");
      expect(sameBucket.length, "the other reads are spread over 256 buckets").toBeLessThan(Object.keys(reads).length);
      await changeBehindTheCache(w);
      await prisma.$cache.invalidateQuery("User", "findUnique", args);
      await expectOnly(scene, reads, values, sameBucket);
    });

    it("tagsOf: the query tag, then the data model's tags, then the custom tags; equal queries, equal tags", async () => {
      const { prisma } = await env.instance();
      const byId = prisma.$cache.tagsOf("User", "findUnique", { where: { id: 7 }, select: { name: true } });
      expect(byId).toEqual([expect.stringMatching(/^q:\d{1,3}$/), expect.stringMatching(/^r:User:/), "rs:User"]);
      const list = prisma.$cache.tagsOf("Post", "findMany", {
        where: { published: true },
        include: { author: true },
        cache: { tags: ["app:front"] },
      });
      expect(list?.[0]).toMatch(/^q:/);
      expect(list).toEqual(expect.arrayContaining(["m:Post", "m:User", "app:front"]));
      expect(list?.at(-1)).toBe("app:front");
      // The key ignores argument order and the rest of `cache`; so does the bucket.
      expect(
        prisma.$cache.tagsOf("Post", "findMany", {
          include: { author: true },
          cache: { tags: ["app:front"], ttl: 5 },
          where: { published: true },
        }),
      ).toEqual(list);
      expect(() => prisma.$cache.tagsOf("Nope", "findMany", {})).toThrow(/tagsOf/);
      expect(() => prisma.$cache.tagsOf("User", "update" as "findMany", {})).toThrow(/not a cacheable operation/);
    });

    it("a write with cache: { invalidates } also re-reads the reads carrying those tags", async () => {
      const { w, scene, tag, reads, values, prisma } = await warmed("api-write-invalidates");
      await changeBehindTheCache(w);
      // A write to Group: on its own it would invalidate no read here but the group's.
      await prisma.group.update({
        where: { id: w.groups.admins },
        data: { name: `renamed-${w.suffix}` },
        cache: { invalidates: [tag] },
      });
      await expectOnly(scene, reads, values, ["frontPage", "group"], {
        ...changed(values),
        group: { name: `renamed-${w.suffix}` },
      });
    });
  });

  describe("bad input: CacheError E_INVALID_TAG naming the problem", () => {
    const bad = [
      ["an empty tag", "", /tag "" is empty/],
      ["a tag with a space", "front page", /contains whitespace/],
      ["a tag that is not a string", 42, /is not a string/],
      ["a reserved prefix", "m:User", /starts with "m:", which is reserved/],
      ["another reserved prefix", "q:anything", /starts with "q:", which is reserved/],
    ] as const;

    for (const [name, tag, message] of bad) {
      it(`${name}: invalidate({ tags }), cache: { tags } on a read, cache: { invalidates } on a write`, async () => {
        const { prisma } = await env.instance();
        await expectCacheError(prisma.$cache.invalidate({ tags: [tag as string] }), "E_INVALID_TAG", message);
        await expectCacheError(prisma.user.findMany({ cache: { tags: [tag as string] } }), "E_INVALID_TAG", message);
        await expectCacheError(
          prisma.user.updateMany({ where: { id: -1 }, data: { name: "x" }, cache: { invalidates: [tag as string] } }),
          "E_INVALID_TAG",
          message,
        );
      });
    }

    it("an unknown model in invalidateModels, invalidate({ models }) and invalidateQuery (E_INVALID_OPTION)", async () => {
      const { prisma } = await env.instance();
      await expectCacheError(prisma.$cache.invalidateModels(["Nope"]), "E_INVALID_OPTION", /`Nope`, which is no model/);
      await expectCacheError(
        prisma.$cache.invalidate({ models: ["user"] }),
        "E_INVALID_OPTION",
        /`user`, which is no model.*Known models: .*User/,
      );
      await expectCacheError(
        prisma.$cache.invalidateQuery("Nope", "findMany", {}),
        "E_INVALID_OPTION",
        /`Nope`, which is no model/,
      );
      await expectCacheError(
        prisma.$cache.invalidateQuery("User", "update" as "findMany", {}),
        "E_INVALID_OPTION",
        /`update` is not a cacheable operation/,
      );
    });

    it("cache.tags that is not an array", async () => {
      const { prisma } = await env.instance();
      await expectCacheError(
        prisma.user.findMany({ cache: { tags: "front-page" as unknown as string[] } }),
        "E_INVALID_TAG",
        /cache\.tags must be an array/,
      );
      await expectCacheError(
        prisma.$cache.invalidate({ tags: "front-page" as unknown as string[] }),
        "E_INVALID_TAG",
        /must be an array/,
      );
    });

    it("an invalid `cache` on a write rejects with E_INVALID_QUERY_OPTION (or E_INVALID_TAG) and does not perform the write", async () => {
      const w = await env.world("api-bad-write");
      const instance = await env.instance();
      const invalid: Array<[unknown, string, RegExp]> = [
        [true, "E_INVALID_QUERY_OPTION", /`cache` on a write is true/],
        [{ ttl: 30 }, "E_INVALID_QUERY_OPTION", /ttl/],
        [{ invalidates: "front-page" }, "E_INVALID_TAG", /cache\.invalidates must be an array/],
        [{ invalidates: [""] }, "E_INVALID_TAG", /is empty/],
      ];
      for (const [cache, code, message] of invalid) {
        await expectCacheError(
          instance.prisma.user.update({
            where: { id: w.users.carol },
            data: { name: "Written" },
            cache: cache as { invalidates: string[] },
          }),
          code,
          message,
        );
        await expectCacheError(
          instance.prisma.user.deleteMany({
            where: { tenantId: w.tenantId },
            cache: cache as { invalidates: string[] },
          }),
          code,
          message,
        );
        // Checked in the database itself: the instance's counter sits above the write side, so it sees the call either
        // way.
        expect(
          await env.bare.user.findUniqueOrThrow({ where: { id: w.users.carol } }),
          `cache: ${JSON.stringify(cache)}`,
        ).toMatchObject({ name: "Carol" });
        expect(await env.bare.user.count({ where: { tenantId: w.tenantId } })).toBe(3);
      }
    });
  });

  describe("raw SQL (contract item 5)", () => {
    it("$executeRaw invalidates every model: a read of a model it did not touch is re-read", async () => {
      const { w, scene, reads, prisma } = await warmed("raw-every");
      const updated = await prisma.$executeRaw`UPDATE "Post" SET views = views + 1 WHERE id = ${w.posts.welcome}`;
      expect(updated).toBe(1);
      await expectFresh(scene, reads.post, { views: 43 });
      await expectFresh(scene, reads.group, { name: `admins-${w.suffix}` });
      await expectFresh(scene, reads.user, { name: "Alice" });
    });

    it("$executeRawUnsafe invalidates every model too", async () => {
      const { w, scene, reads, prisma } = await warmed("raw-unsafe");
      await prisma.$executeRawUnsafe(`UPDATE "Post" SET views = views + 1 WHERE id = $1`, w.posts.welcome);
      await expectFresh(scene, reads.post, { views: 43 });
      await expectFresh(scene, reads.group, { name: `admins-${w.suffix}` });
    });

    it("$executeRaw into an implicit many-to-many join table, bare or declared with rawWrites({ models: [Tag] }), re-reads the reads of the link", async () => {
      const { w, scene, prisma } = await warmed("raw-join");
      const red = await prisma.tag.findUniqueOrThrow({ where: { name: w.tags.red } });
      const blue = await prisma.tag.findUniqueOrThrow({ where: { name: w.tags.blue } });
      const orphanTags: Read<unknown> = (p) =>
        p.post.findUnique({
          where: { id: w.posts.orphan },
          select: { tags: { select: { name: true }, orderBy: { name: "asc" } } },
          cache: true,
        });
      expect(await warm(scene, orphanTags)).toEqual({ tags: [] });
      await prisma.$executeRaw`INSERT INTO "_PostToTag" ("A", "B") VALUES (${w.posts.orphan}, ${red.id})`;
      await expectFresh(scene, orphanTags, { tags: [{ name: w.tags.red }] });
      await prisma.$cache.rawWrites({ models: ["Tag"] }, async () => {
        await prisma.$executeRaw`INSERT INTO "_PostToTag" ("A", "B") VALUES (${w.posts.orphan}, ${blue.id})`;
      });
      await expectFresh(scene, orphanTags, { tags: [{ name: w.tags.blue }, { name: w.tags.red }] });
    });

    it("inside $cache.rawWrites({ models: [Post] }, fn), an awaited $executeRaw invalidates only Post reads", async () => {
      const { w, scene, reads, values, prisma } = await warmed("raw-declared");
      await prisma.$cache.rawWrites({ models: ["Post"] }, async () => {
        await prisma.$executeRaw`UPDATE "Post" SET views = views + 1 WHERE id = ${w.posts.welcome}`;
      });
      await expectFresh(scene, reads.post, { views: 43 });
      await expectStillCached(scene, reads.user, values.user);
      await expectStillCached(scene, reads.group, values.group);
    });

    it("inside $cache.rawWrites({ models: [Post] }, () => prisma.$executeRaw`...`), as the docs write it, only Post reads are invalidated", async () => {
      const { w, scene, reads, values, prisma } = await warmed("raw-declared-lazy");
      await prisma.$cache.rawWrites(
        { models: ["Post"] },
        () => prisma.$executeRaw`UPDATE "Post" SET views = views + 1 WHERE id = ${w.posts.welcome}`,
      );
      await expectFresh(scene, reads.post, { views: 43 });
      await expectStillCached(scene, reads.user, values.user);
    });

    it("$cache.queryRaw is cached (the repeat reaches no database), and a write to a model it names invalidates it", async () => {
      const w = await env.world("query-raw");
      const scene = await env.scene();
      const count = (p: CachedPrisma) =>
        p.$cache.queryRaw<Array<{ n: number }>>(
          Prisma.sql`SELECT count(*)::int AS n FROM "Post" WHERE "tenantId" = ${w.tenantId}`,
          { models: ["Post"] },
        );
      expect(await warm(scene, count)).toEqual([{ n: 4 }]);

      await scene.main.prisma.user.update({ where: { id: w.users.alice }, data: { name: "Other model" } });
      await expectStillCached(scene, count, [{ n: 4 }]);

      await scene.main.prisma.post.create({ data: { tenantId: w.tenantId, slug: "raw", title: "Raw" } });
      await expectFresh(scene, count, [{ n: 5 }]);
    });

    it("$cache.queryRaw with custom tags is invalidated by those tags", async () => {
      const w = await env.world("query-raw-tags");
      const scene = await env.scene();
      const tag = unique("app:stats");
      const views = (p: CachedPrisma) =>
        p.$cache.queryRaw<Array<{ v: number }>>(
          Prisma.sql`SELECT sum(views)::int AS v FROM "Post" WHERE "tenantId" = ${w.tenantId}`,
          { tags: [tag], ttl: "1m" },
        );
      expect(await warm(scene, views)).toEqual([{ v: 56 }]);
      await env.bare.post.update({ where: { id: w.posts.welcome }, data: { views: 0 } });
      await scene.main.prisma.$cache.invalidate({ tags: [tag] });
      await expectFresh(scene, views, [{ v: 14 }]);
    });

    it("$cache.queryRaw without tags or models rejects with E_INVALID_TAG, with an unknown model E_INVALID_OPTION", async () => {
      const { prisma, database } = await env.instance();
      await expectCacheError(
        prisma.$cache.queryRaw(Prisma.sql`SELECT 1`, {}),
        "E_INVALID_TAG",
        /needs at least one tag or model/,
      );
      await expectCacheError(
        prisma.$cache.queryRaw(Prisma.sql`SELECT 1`, { tags: [], models: [] }),
        "E_INVALID_TAG",
        /needs at least one tag or model/,
      );
      await expectCacheError(
        prisma.$cache.queryRaw(Prisma.sql`SELECT 1`, { models: ["Nope"] }),
        "E_INVALID_OPTION",
        /`Nope`/,
      );
      expect(database.queries).toBe(0);
    });

    it("$queryRaw by itself is never cached", async () => {
      const instance = await env.instance();
      await instance.prisma.$queryRaw`SELECT 1 AS one`;
      expect(await observe(instance, (p) => p.$queryRaw`SELECT 1 AS one`)).toEqual({
        value: [{ one: 1 }],
        fromDatabase: true,
      });
    });
  });
});
