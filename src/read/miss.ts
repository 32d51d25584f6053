/**
 * One read that the in-process tier did not answer, as it goes on through
 * the shared tier, the lock and the database: one object carried by every
 * step of the miss path instead of the same six values passed one by one.
 * Made only on a miss: the in-process hit never allocates one.
 */
import type { QueryKey } from "../keys/query-key.js";
import type { ResolvedExpiry } from "../options/resolve.js";
import type { L1Tier } from "../tiers/l1-tier.js";
import type { ReadSource } from "./cached-query.js";

/** What a fill needs of a read: where its entry goes, and the versions it was loaded under. */
export interface FillTarget {
  /** The read's key: `local` names its in-process entry, `shared()` its Redis entry. */
  readonly key: QueryKey;
  /** The read's dependency tags, query tag first. */
  readonly tags: readonly string[];
  /** The versions of `tags` captured before the database read: what the entry is stored under. */
  readonly captured: readonly number[];
  /** The read's expiry settings: the stored entry's ttl, swr window and jitter. */
  readonly expiry: ResolvedExpiry;
  /**
   * The in-process tier to fill, or undefined when it must not be filled: `l1: false`, or this instance did not hear
   * every invalidation when the read started (an entry must not predate that).
   */
  readonly l1: L1Tier | undefined;
}

/**
 * A read on its way past the in-process tier. Immutable: a load that started
 * with it fills under its `captured` versions whatever happens next, so newer
 * versions make a new Miss ({@link withCaptured}).
 */
export class Miss implements FillTarget {
  /**
   * @param captured versions captured before the load (see {@link FillTarget.captured})
   * @param source the database read (and the read's tags), detached from the caller's arguments
   */
  constructor(
    readonly key: QueryKey,
    readonly tags: readonly string[],
    readonly captured: readonly number[],
    readonly expiry: ResolvedExpiry,
    readonly source: ReadSource,
    readonly l1: L1Tier | undefined,
  ) {}

  /** The same read under versions captured later. */
  withCaptured(captured: readonly number[]): Miss {
    return new Miss(this.key, this.tags, captured, this.expiry, this.source, this.l1);
  }
}
