/**
 * getOrSet and $cache.queryRaw depend on the rows of the models they declare. Linking rows of an implicit
 * many-to-many changes no row of either model, only its join table (`j:Relation`, a reserved prefix `tags` refuses):
 * a declared model therefore stands for its join tables too. A link kept in a foreign key changes the rows of the
 * model that holds it, which is what a value reading those rows declares.
 */
import { Prisma } from "../generated/postgres/client.ts";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, observe } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";

describeWith(["postgres", "redis"], "declared model dependencies and relation links", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  beforeAll(() => env.start());
  afterAll(() => env.stop());

  it("getOrSet declaring models Post and Tag is not invalidated by post.update connecting a tag", async () => {
    const w = await env.world("rv-getorset-m2m");
    const scene = await env.scene();
    const blue = await env.bare.tag.findUniqueOrThrow({ where: { name: w.tags.blue } });
    const tagNames = (p: typeof scene.main.prisma) =>
      p.$cache.getOrSet(
        `rv-tags-of-${w.posts.orphan}`,
        async () =>
          (
            await env.bare.post.findUniqueOrThrow({
              where: { id: w.posts.orphan },
              select: { tags: { select: { name: true } } },
            })
          ).tags.map((t) => t.name),
        { models: ["Post", "Tag"] },
      );
    expect(await tagNames(scene.main.prisma)).toEqual([]);
    expect(await tagNames(scene.main.prisma)).toEqual([]); // from the cache
    await scene.main.prisma.$cache.settled();

    await scene.main.prisma.post.update({
      where: { id: w.posts.orphan },
      data: { tags: { connect: { id: blue.id } } },
    });

    for (const instance of scene.all)
      expect(await tagNames(instance.prisma), "after a write to Post's tags").toEqual([w.tags.blue]);
  });

  it("$cache.queryRaw declaring models Post and Tag is not invalidated by tag.update connecting a post", async () => {
    const w = await env.world("rv-queryraw-m2m");
    const scene = await env.scene();
    const red = await env.bare.tag.findUniqueOrThrow({ where: { name: w.tags.red } });
    const count = (p: typeof scene.main.prisma) =>
      p.$cache.queryRaw<Array<{ n: number }>>(
        Prisma.sql`SELECT count(*)::int AS n FROM "_PostToTag" WHERE "B" = ${red.id}`,
        { models: ["Post", "Tag"] },
      );
    expect(await count(scene.main.prisma)).toEqual([{ n: 2 }]);
    expect(await observe(scene.main, count)).toMatchObject({ fromDatabase: false });
    await scene.main.prisma.$cache.settled();

    await scene.main.prisma.tag.update({ where: { id: red.id }, data: { posts: { connect: { id: w.posts.orphan } } } });

    for (const instance of scene.all)
      expect(await count(instance.prisma), "after linking a post to the tag").toEqual([{ n: 3 }]);
  });

  it("getOrSet declaring the model whose rows it reads (Post) is invalidated by user.update connecting a post (the foreign key is on Post)", async () => {
    const w = await env.world("rv-getorset-1n");
    const scene = await env.scene();
    const postCount = (p: typeof scene.main.prisma) =>
      p.$cache.getOrSet(
        `rv-post-count-${w.users.carol}`,
        async () => env.bare.post.count({ where: { authorId: w.users.carol } }),
        { models: ["Post"] },
      );
    expect(await postCount(scene.main.prisma)).toBe(0);
    await scene.main.prisma.$cache.settled();

    await scene.main.prisma.user.update({
      where: { id: w.users.carol },
      data: { posts: { connect: { id: w.posts.orphan } } },
    });

    for (const instance of scene.all) expect(await postCount(instance.prisma), "after prisma.user.update(...)").toBe(1);
  });

  it("control: a custom tag cannot name the join table (j: is reserved)", async () => {
    const scene = await env.scene();
    await expect(
      scene.main.prisma.$cache.getOrSet("rv-j", async () => 1, { tags: ["j:PostToTag"] }),
    ).rejects.toMatchObject({
      code: "E_INVALID_TAG",
    });
  });
});
