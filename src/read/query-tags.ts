/**
 * The dependency tags of a cached read: its own query tag (what
 * `$cache.invalidateQuery` bumps) and what the data model says it depends
 * on, remembered per query text.
 */
import type { QueryKey } from "../keys/query-key.js";
import { TAGS, type ReadSource } from "./cached-query.js";

/** Bound on remembered tag lists (one per query text); past it they are derived again. */
const MAX_CACHED_TAG_LISTS = 10_000;

/** The tag of one query's entries, for `$cache.invalidateQuery`. */
export function queryTag(key: QueryKey): string {
  return `q:${key.shared().id}`;
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
      tags = [queryTag(key), ...source[TAGS]()];
      if (this.#lists.size >= MAX_CACHED_TAG_LISTS) this.#lists.clear();
      this.#lists.set(key.local, tags);
    }
    return tags;
  }
}
