/**
 * The dependency tags of a cached read: its query tag (what
 * `$cache.invalidateQuery` bumps) and what the data model says it depends
 * on, remembered per query text.
 *
 * The query tag names one of {@link QUERY_TAG_BUCKETS} buckets of queries,
 * not the query itself. A tag per distinct query cost every first read of a
 * query a round trip to Redis before the database (its version was unknown
 * to the mirror, so it had to be read and created) and left a version key
 * per distinct query behind; a bucket's version is learned once and shared.
 * The price: `invalidateQuery` also kills the entries of the other queries
 * in the bucket, about 1 in 256 of them, which then miss once.
 */
import type { QueryKey } from "../keys/query-key.js";
import { TAGS, type ReadSource } from "./cached-query.js";

/** Bound on remembered tag lists (one per query text); past it they are derived again. */
const MAX_CACHED_TAG_LISTS = 10_000;

/** How many query tags there are: `invalidateQuery` re-reads about 1 / QUERY_TAG_BUCKETS of the other queries. */
export const QUERY_TAG_BUCKETS = 256;

/** The query tag of a key: `q:` and its bucket (the key id's first byte, 0-255), what `$cache.invalidateQuery` bumps. */
export function queryTag(key: QueryKey): string {
  return `q:${Buffer.from(key.shared().id.slice(0, 2), "base64url")[0] as number}`;
}

/** The tags an entry of `key` is stored under: its query tag first, then `tags` (what the read depends on). */
export function storedTags(key: QueryKey, tags: readonly string[]): string[] {
  return [queryTag(key), ...tags];
}

/** The tag lists of one extension instance's reads. */
export class QueryTags {
  readonly #lists = new Map<string, string[]>();

  /**
   * The tags of a read: its query tag and what the data model says it
   * depends on. Derived once per query text (walking the arguments and
   * hashing record keys costs more than the rest of a Redis hit's CPU).
   */
  of(key: QueryKey, source: ReadSource): string[] {
    let tags = this.#lists.get(key.local);
    if (tags === undefined) {
      tags = storedTags(key, source[TAGS]());
      if (this.#lists.size >= MAX_CACHED_TAG_LISTS) this.#lists.clear();
      this.#lists.set(key.local, tags);
    }
    return tags;
  }
}
