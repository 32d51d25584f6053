/**
 * What both processes of the two-instance example share: how an instance
 * builds its cached client, the reads they both make, and the messages A
 * sends B.
 */
import type { Redis } from "ioredis";
import { cacheExtension, type CacheError } from "prisma-query-cache";
import type { ExampleClient } from "../support/database.ts";
import { traced, type Traced } from "../support/trace.ts";

/**
 * An instance's cached client. Instances sharing a Redis and a `prefix` share entries and invalidations: a write
 * through either one resolves only once the other can no longer serve what it changed.
 */
export function instanceClient(base: ExampleClient, redis: Redis, prefix: string, name: string) {
  return base.$extends(
    cacheExtension({
      redis,
      prefix,
      onError: (error: CacheError) => console.warn(`${name}: cache: ${error.message}`),
    }),
  );
}

/** A cached client of this example. */
export type Instance = ReturnType<typeof instanceClient>;

/** The cached read both instances make. */
export function readUser(instance: Instance, id: number): Promise<Traced<string | null | undefined>> {
  return traced(instance, async () => {
    const user = await instance.user.findUnique({ where: { id }, select: { name: true }, cache: true });
    return user?.name;
  });
}

/**
 * A computation both instances cache under one key: the number of published posts per author. `computed` counts
 * the calls of `fn`, i.e. the instances' misses.
 */
export async function postsPerAuthor(instance: Instance, computed: { count: number }): Promise<Traced<number>> {
  return traced(instance, () =>
    instance.$cache.getOrSet(
      "published-posts-per-author",
      async () => {
        computed.count++;
        const [posts, authors] = await Promise.all([
          instance.post.count({ where: { published: true } }),
          instance.user.count(),
        ]);
        return Math.round((posts / Math.max(authors, 1)) * 100) / 100;
      },
      { ttl: "10m", models: ["Post", "User"] },
    ),
  );
}

/** What A asks B (over the child-process IPC channel). */
export type Request = { op: "readUser"; id: number } | { op: "postsPerAuthor" } | { op: "stats" } | { op: "close" };
