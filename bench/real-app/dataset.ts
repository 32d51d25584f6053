/**
 * The seeded Conduit dataset: the same rows on every run (a fixed random seed, fixed ids and timestamps), and the
 * in-memory description of them the load driver picks its targets from (it never reads the database).
 */
// The tests' seeded generator (mulberry32): the same numbers for the same seed everywhere.
import { seededRandom } from "../../test/unit/support/random.ts";

/** An integer in [0, n) from `random`, skewed towards 0 by `power` (1: uniform; 3: a few items take most picks). */
export function skewedIndex(random: () => number, n: number, power = 1): number {
  return Math.min(n - 1, Math.floor(n * random() ** power));
}

/** How many rows of each kind the seed writes. */
export const sizes = {
  users: 400,
  articles: 1200,
  tags: 40,
  comments: 3000,
  favorites: 4000,
  follows: 1600,
};

/** A seeded article, as the driver needs it. */
export interface SeedArticle {
  id: number;
  slug: string;
  authorId: number;
  tags: string[];
}

/** Every row the seed inserts, by table, plus what the driver needs to address them. */
export interface Dataset {
  users: { id: number; username: string; email: string; bio: string }[];
  tags: string[];
  articles: (SeedArticle & { title: string; description: string; body: string; createdAt: Date })[];
  comments: { id: number; articleId: number; authorId: number; body: string; createdAt: Date }[];
  /** [articleId, userId] pairs of `_UserFavorites` (column A is the article, B the user). */
  favorites: [number, number][];
  /** [followedId, followerId] pairs of `_UserFollows` (A is `followedBy`'s owner, B the follower). */
  follows: [number, number][];
}

const words = (
  "cache query prisma express article comment author profile follow favorite tag feed redis postgres index " +
  "latency throughput request response shard replica lease version entry model relation write read miss hit " +
  "stale fresh key value scope bus instance process worker thread event loop socket timeout retry backoff"
).split(" ");

function sentence(random: () => number, length: number): string {
  const picked = Array.from({ length }, () => words[skewedIndex(random, words.length)]);
  return picked.join(" ");
}

/** Builds the dataset for `seed`: a pure function, so the seeder and the driver agree without talking. */
export function buildDataset(seed = 20261207): Dataset {
  const random = seededRandom(seed);
  const start = Date.UTC(2026, 0, 1);
  const users = Array.from({ length: sizes.users }, (_, i) => ({
    id: i + 1,
    username: `user${i + 1}`,
    email: `user${i + 1}@conduit.test`,
    bio: sentence(random, 8),
  }));
  const tags = Array.from({ length: sizes.tags }, (_, i) => `${words[i % words.length]}${i}`);
  const articles = Array.from({ length: sizes.articles }, (_, i) => {
    const id = i + 1;
    // A few prolific authors, a long tail: the skew of a real blog.
    const authorId = users[skewedIndex(random, users.length, 2)]!.id;
    const title = `${sentence(random, 5)} ${id}`;
    const tagCount = 1 + Math.floor(random() * 4);
    const articleTags = [
      ...new Set(Array.from({ length: tagCount }, () => tags[skewedIndex(random, tags.length, 2)]!)),
    ];
    return {
      id,
      slug: `${title.replaceAll(" ", "-")}-${authorId}`,
      authorId,
      tags: articleTags,
      title,
      description: sentence(random, 12),
      body: Array.from({ length: 6 }, () => sentence(random, 25)).join("\n\n"),
      createdAt: new Date(start + id * 60_000),
    };
  });
  const comments = Array.from({ length: sizes.comments }, (_, i) => ({
    id: i + 1,
    articleId: articles[skewedIndex(random, articles.length, 2)]!.id,
    authorId: users[skewedIndex(random, users.length)]!.id,
    body: sentence(random, 15),
    createdAt: new Date(start + sizes.articles * 60_000 + i * 1_000),
  }));
  return {
    users,
    tags,
    articles,
    comments,
    favorites: distinctPairs(random, sizes.favorites, articles.length, users.length),
    follows: distinctPairs(random, sizes.follows, users.length, users.length).filter(([a, b]) => a !== b),
  };
}

/** `count` distinct [a, b] pairs of 1-based ids, `a` skewed (popular articles / users), `b` uniform. */
function distinctPairs(random: () => number, count: number, as: number, bs: number): [number, number][] {
  const seen = new Set<string>();
  const pairs: [number, number][] = [];
  while (pairs.length < count) {
    const pair: [number, number] = [skewedIndex(random, as, 2) + 1, skewedIndex(random, bs) + 1];
    const key = pair.join(",");
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push(pair);
  }
  return pairs;
}
