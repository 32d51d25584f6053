/**
 * Per-query info (`prisma.$cache.withInfo(...)`): which tier answered one
 * read, whether it was stale, its entry's age, its shape group and tags.
 * The read carries a sink under a symbol only when it was asked for, so
 * every other read pays one property read that finds nothing.
 */
import type { AnsweredBy } from "./metrics-snapshot.js";

/** Symbol key of the sink a read reports its outcome to (set by `withInfo` only). */
export const INFO = Symbol("prisma-query-cache.info");

/** What `withInfo` says about one read. */
export interface ReadInfo {
  /** Which tier answered: `scope`, `l1` (in-process), `l2` (Redis), `db` (a cached read's miss) or `bypass` (not cached). */
  answeredBy: AnsweredBy;
  /** Whether the entry served was past its ttl (served while one refresh replaces it). */
  stale: boolean;
  /** Milliseconds since the entry served was stored (clock time); 0 for a read the database answered. */
  ageMs: number;
  /** The query-shape group (the label of its metrics); undefined for a read that was not cached. */
  shape: string | undefined;
  /** The tags the read depends on (query tag first); empty for a read that was not cached. */
  tags: readonly string[];
  /** True when a miss joined a database read of the same key already running instead of starting one. */
  coalesced: boolean;
}

/** A fresh sink: a bypass until a tier says otherwise. */
export function newReadInfo(): ReadInfo {
  return { answeredBy: "bypass", stale: false, ageMs: 0, shape: undefined, tags: [], coalesced: false };
}
