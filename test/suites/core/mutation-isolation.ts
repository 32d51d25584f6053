/** Suite part 4: a caller that mutates a returned object cannot change what the next hit returns. */
import { describe, expect, it } from "vitest";
import type { CachedPrisma } from "../../helpers/clients.js";
import type { Harness } from "../../helpers/harness.js";

type AliceWithPosts = NonNullable<Awaited<ReturnType<typeof readAliceWithPosts>>>;

/** A user with nested lists, Dates, bytes and Json: every kind of value a caller can mutate. */
const withPosts = (id: number) => ({
  where: { id },
  include: { posts: { orderBy: { id: "asc" as const }, include: { tags: { orderBy: { name: "asc" as const } } } } },
});

function readAliceWithPosts(prisma: CachedPrisma, id: number) {
  return prisma.user.findUnique({ ...withPosts(id), cache: true });
}

/** Changes every kind of value a result holds, in place. */
function vandalise(user: AliceWithPosts | null): void {
  if (user === null) throw new Error("expected a row to vandalise");
  user.name = "Mallory";
  user.createdAt.setFullYear(1999);
  if (user.avatar) user.avatar[0] = 99;
  const settings = user.settings as { list: unknown[]; nested: { a: { b: { c: string } } } };
  settings.list.push("injected");
  settings.nested.a.b.c = "changed";
  const [first] = user.posts;
  if (first === undefined) throw new Error("expected posts");
  first.title = "Changed";
  first.tags.pop();
  first.publishedAt?.setFullYear(1999);
  user.posts.push({ ...first, id: -1 });
}

export function describeMutationIsolation(h: Harness): void {
  describe("mutation isolation", () => {
    it("mutating what a miss or a hit returned does not change the next hit", async () => {
      const { prisma, database } = await h.client();
      const id = h.fixture.users.alice;
      const expected = await h.bare.user.findUnique(withPosts(id));

      vandalise(await readAliceWithPosts(prisma, id));
      const afterMissMutated = await readAliceWithPosts(prisma, id);
      expect(afterMissMutated).toStrictEqual(expected);

      vandalise(afterMissMutated);
      expect(await readAliceWithPosts(prisma, id)).toStrictEqual(expected);
      expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l1Hits: 2 });

      if (h.hasRedis) {
        await prisma.$cache.settled();
        prisma.$cache.clearLocal();
        vandalise(await readAliceWithPosts(prisma, id));
        expect(prisma.$cache.stats()).toMatchObject({ l2Hits: 1 });
        // The Redis hit refilled the in-process tier; the mutated copy must not be what it holds.
        expect(await readAliceWithPosts(prisma, id)).toStrictEqual(expected);
        prisma.$cache.clearLocal();
        expect(await readAliceWithPosts(prisma, id)).toStrictEqual(expected);
        expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l2Hits: 2 });
      }
      expect(database.queries).toBe(1);
    });

    if (h.hasRedis) {
      it("with l1: false, mutating a Redis hit does not change the next one", async () => {
        const { prisma } = await h.client({ l1: false });
        const id = h.fixture.users.alice;
        const expected = await h.bare.user.findUnique(withPosts(id));
        vandalise(await readAliceWithPosts(prisma, id));
        await prisma.$cache.settled();
        vandalise(await readAliceWithPosts(prisma, id));
        expect(await readAliceWithPosts(prisma, id)).toStrictEqual(expected);
        expect(prisma.$cache.stats()).toMatchObject({ misses: 1, l2Hits: 2 });
      });
    }
  });
}
