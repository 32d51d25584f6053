/**
 * Events for logs: what the `logger` option receives. Each event goes to one
 * level (hits, misses, stale serves and refreshes to `debug`, invalidations
 * to `info`, failed refreshes and absorbed failures to `warn`/`error`), as
 * `(event, message)`: the object first, as pino and bunyan take it (console's
 * methods print both). Keys are hashed unless `logRawKeys` is set: a raw key
 * holds argument values (ids, e-mail addresses) that logs must not keep.
 */
import { shortHash } from "../keys/hash.js";
import type { InvalidationCause } from "./metrics.js";

/** A logger: any of the four methods; a missing one turns its level's events off (and their cost). */
export interface CacheLogger {
  debug?(event: CacheEvent, message: string): void;
  info?(event: CacheEvent, message: string): void;
  warn?(event: CacheEvent, message: string): void;
  error?(event: CacheEvent, message: string): void;
}

/** What a read event names: the query's labels and its key (hashed unless `logRawKeys`). */
export interface ReadEventLabels {
  readonly model: string;
  readonly operation: string;
  readonly shape: string;
  readonly key: string;
}

/** One event for logs. */
export type CacheEvent =
  | (ReadEventLabels & { readonly type: "hit" | "stale"; readonly tier: "scope" | "l1" | "l2" })
  | (ReadEventLabels & { readonly type: "miss" })
  | (ReadEventLabels & { readonly type: "refresh"; readonly failed: boolean })
  | { readonly type: "invalidate"; readonly cause: InvalidationCause; readonly tags: readonly string[] }
  | { readonly type: "error"; readonly code: string; readonly message: string };

/** The hashed form of a key text in logs and hot-key lists: 16 base64url characters (96 bits). */
export function keyHash(local: string): string {
  return shortHash(local).slice(0, 16);
}

/** The level each event type is logged at. */
export function levelOf(event: CacheEvent): keyof CacheLogger {
  switch (event.type) {
    case "invalidate":
      return "info";
    case "error":
      return "warn";
    case "refresh":
      return event.failed ? "warn" : "debug";
    default:
      return "debug";
  }
}

/** The message logged with an event. */
export function messageOf(event: CacheEvent): string {
  switch (event.type) {
    case "hit":
      return `cache hit (${event.tier}) ${event.model}.${event.operation}`;
    case "stale":
      return `stale cache hit (${event.tier}) ${event.model}.${event.operation}, refreshing`;
    case "miss":
      return `cache miss ${event.model}.${event.operation}`;
    case "refresh":
      return `${event.failed ? "refresh failed" : "refresh"} ${event.model}.${event.operation}`;
    case "invalidate":
      return `invalidated ${event.tags.length} tag(s) (${event.cause})`;
    case "error":
      return `cache failure absorbed (${event.code}): ${event.message}`;
  }
}
