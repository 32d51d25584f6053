/**
 * The mixed Conduit workload: a seeded stream of HTTP requests against the app's published routes. The same seed
 * gives the same requests in the same order, whatever the app answers.
 */
import jwt from "jsonwebtoken";
import { seededRandom } from "../../test/unit/support/random.ts";
import { type Dataset, skewedIndex } from "./dataset.ts";

/** One request of the workload. */
export interface WorkloadRequest {
  /** The operation's name, for per-operation figures. */
  op: string;
  write: boolean;
  method: "GET" | "POST" | "PUT" | "DELETE";
  path: string;
  /** The acting user's `Authorization` header value, or none (an anonymous read). */
  authorization?: string;
  body?: unknown;
}

/** Relative weights of the reads; the share of reads against writes is the mix. */
const readWeights = {
  listArticles: 30,
  listByTag: 10,
  listByAuthor: 5,
  listFavorited: 3,
  feed: 10,
  article: 20,
  comments: 15,
  profile: 5,
  tags: 2,
};

/** Relative weights of the writes (a workload may weigh them otherwise, see `workload`). */
export const writeWeights = {
  comment: 35,
  favorite: 20,
  unfavorite: 15,
  follow: 10,
  unfollow: 8,
  createArticle: 6,
  updateArticle: 6,
};

/** Shares of the tunable knobs; stated in docs/benchmarks.md with the results. */
export const workloadShape = {
  /** Share of reads (other than the feed, which needs a user) sent without a token. */
  anonymousReads: 0.5,
  /** Skew of the article picked by a request (see `skewedIndex`): a few articles draw most traffic. */
  articleSkew: 3,
  /** Skew of the acting user: a core of active users. */
  userSkew: 2,
};

function pickWeighted<K extends string>(random: () => number, weights: Record<K, number>): K {
  const entries = Object.entries(weights) as [K, number][];
  let left = random() * entries.reduce((sum, [, weight]) => sum + weight, 0);
  for (const [key, weight] of entries) {
    left -= weight;
    if (left < 0) return key;
  }
  return entries[entries.length - 1]![0];
}

/** The kinds of write, by name. */
export type WriteOp = keyof typeof writeWeights;

/**
 * A generator of requests: `next()` returns the next one. `stream` separates concurrent clients (each its own
 * stream), and names the articles a client creates so no two collide. `writes` re-weighs the writes (the control
 * replay sends comments only). `focus` limits the articles and users requests pick from to the first `focus` of each
 * (the replays: a read then often follows a write to what it reads, where a stale answer would show).
 */
export function workload(
  data: Dataset,
  readShare: number,
  seed: number,
  stream: number,
  writes: Partial<Record<WriteOp, number>> = writeWeights,
  focus = Infinity,
) {
  const random = seededRandom(seed * 7919 + stream);
  // The app's own token format ({ user: { id } }, HS256, its default secret); no timestamp, so tokens are the same
  // on every run.
  const tokens = data.users.map(
    (user) => `Token ${jwt.sign({ user: { id: user.id } }, "superSecret", { noTimestamp: true })}`,
  );
  let created = 0;
  const articles = Math.min(focus, data.articles.length);
  const users = Math.min(focus, data.users.length);
  const article = () => data.articles[skewedIndex(random, articles, workloadShape.articleSkew)]!;
  const user = () => data.users[skewedIndex(random, users, workloadShape.userSkew)]!;
  const token = (id: number) => tokens[id - 1]!;

  function read(): WorkloadRequest {
    const op = pickWeighted(random, readWeights);
    const actor = user();
    const authorization = op === "feed" || random() >= workloadShape.anonymousReads ? token(actor.id) : undefined;
    const get = (path: string): WorkloadRequest => ({ op, write: false, method: "GET", path, authorization });
    const page = `limit=10&offset=${10 * skewedIndex(random, 5, 2)}`;
    switch (op) {
      case "listArticles":
        return get(`/api/articles?${page}`);
      case "listByTag":
        return get(`/api/articles?tag=${data.tags[skewedIndex(random, data.tags.length, 2)]}&limit=10&offset=0`);
      case "listByAuthor":
        return get(`/api/articles?author=${data.users[article().authorId - 1]!.username}&limit=10&offset=0`);
      case "listFavorited":
        return get(`/api/articles?favorited=${user().username}&limit=10&offset=0`);
      case "feed":
        return get(`/api/articles/feed?${page}`);
      case "article":
        return get(`/api/articles/${article().slug}`);
      case "comments":
        return get(`/api/articles/${article().slug}/comments`);
      case "profile":
        return get(`/api/profiles/${user().username}`);
      case "tags":
        return get("/api/tags");
    }
  }

  function write(): WorkloadRequest {
    const op = pickWeighted(random, writes as Record<WriteOp, number>);
    const target = article();
    const actor = op === "updateArticle" ? target.authorId : user().id;
    const send = (method: WorkloadRequest["method"], path: string, body?: unknown): WorkloadRequest => ({
      op,
      write: true,
      method,
      path,
      authorization: token(actor),
      body,
    });
    switch (op) {
      case "comment":
        return send("POST", `/api/articles/${target.slug}/comments`, {
          comment: { body: `comment ${stream}.${++created}` },
        });
      case "favorite":
        return send("POST", `/api/articles/${target.slug}/favorite`);
      case "unfavorite":
        return send("DELETE", `/api/articles/${target.slug}/favorite`);
      case "follow":
      case "unfollow": {
        let followed = user();
        if (followed.id === actor) followed = data.users[actor % data.users.length]!; // nobody follows themself
        return send(op === "follow" ? "POST" : "DELETE", `/api/profiles/${followed.username}/follow`);
      }
      case "createArticle": {
        const title = `bench article ${stream} ${++created}`;
        const tagList = [
          data.tags[skewedIndex(random, data.tags.length, 2)],
          data.tags[skewedIndex(random, data.tags.length)],
        ];
        const body = { article: { title, description: `about ${title}`, body: `the body of ${title}`, tagList } };
        return send("POST", "/api/articles", body);
      }
      case "updateArticle":
        return send("PUT", `/api/articles/${target.slug}`, {
          article: { body: `edited ${stream}.${++created}`, tagList: target.tags },
        });
    }
  }

  return { next: (): WorkloadRequest => (random() < readShare ? read() : write()) };
}
