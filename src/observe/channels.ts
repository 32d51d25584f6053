/**
 * `node:diagnostics_channel` channels: tracing and exporters subscribe to
 * them by name, with no reference to the client. A message is built only
 * when a channel has subscribers, so without any they cost one property read.
 *
 * - `prisma-query-cache:read`: every cached read's outcome ({@link ReadMessage});
 * - `prisma-query-cache:load`: every database read of a miss, with its time ({@link LoadMessage});
 * - `prisma-query-cache:invalidate`: every invalidation ({@link InvalidateMessage}).
 */
import { channel } from "node:diagnostics_channel";
import type { AnsweredBy } from "./metrics-snapshot.js";
import type { InvalidationCause } from "./metrics.js";

/** Channel names, for `diagnostics_channel.subscribe(name, fn)`. */
export const CHANNELS = {
  read: "prisma-query-cache:read",
  load: "prisma-query-cache:load",
  invalidate: "prisma-query-cache:invalidate",
} as const;

/** A message of `prisma-query-cache:read`. */
export interface ReadMessage {
  readonly model: string;
  readonly operation: string;
  /** The shape group; undefined for a read that was never keyed (not cached). */
  readonly shape: string | undefined;
  readonly answeredBy: AnsweredBy;
  readonly stale: boolean;
  /** Time the hit took (ms), for `l1` and `l2` hits; undefined otherwise. */
  readonly ms: number | undefined;
}

/** A message of `prisma-query-cache:load`. */
export interface LoadMessage {
  readonly model: string;
  readonly operation: string;
  readonly shape: string;
  /** Database time (ms). */
  readonly ms: number;
}

/** A message of `prisma-query-cache:invalidate`. */
export interface InvalidateMessage {
  readonly cause: InvalidationCause;
  readonly tags: readonly string[];
}

/** `prisma-query-cache:read` (created once per process; diagnostics_channel keeps one per name anyway). */
export const readChannel = channel(CHANNELS.read);
/** `prisma-query-cache:load`. */
export const loadChannel = channel(CHANNELS.load);
/** `prisma-query-cache:invalidate`. */
export const invalidateChannel = channel(CHANNELS.invalidate);
