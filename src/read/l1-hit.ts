/**
 * The in-process (L1) hit: the hot path. An entry is served only while this
 * instance hears every invalidation and every tag version stored with it is
 * still the mirror's (checked once per mirror epoch), with a fresh copy for
 * the caller. Nothing is allocated but that copy and its resolved promise.
 */
import type { VersionSource } from "../invalidation/version-source.js";
import type { VersionMirror } from "../invalidation/version-mirror.js";
import type { QueryKey } from "../keys/query-key.js";
import type { ResolvedExpiry } from "../options/resolve.js";
import type { Clock } from "../options/types.js";
import { cloneResult } from "../serialize/clone.js";
import { readChannel } from "../observe/channels.js";
import { INFO } from "../observe/read-info.js";
import type { ReadObserver } from "../observe/read-observer.js";
import type { Counters } from "../stats.js";
import type { Entry } from "../tiers/entry.js";
import type { L1Tier } from "../tiers/l1-tier.js";
import type { ReadSource } from "./cached-query.js";
import { sameVersions } from "./flights.js";
import { freshnessOf } from "./freshness.js";
import type { Miss } from "./miss.js";
import type { Refresher } from "./refresh.js";

/** Answers reads from the in-process tier of one extension instance. */
export class L1Hits {
  readonly #l1: L1Tier;
  readonly #versions: VersionSource;
  readonly #mirror: VersionMirror;
  readonly #clock: Clock;
  readonly #counters: Counters;
  readonly #refresher: Refresher;
  readonly #observer: ReadObserver;

  constructor(
    l1: L1Tier,
    versions: VersionSource,
    clock: Clock,
    counters: Counters,
    refresher: Refresher,
    observer: ReadObserver,
  ) {
    this.#l1 = l1;
    this.#versions = versions;
    this.#mirror = versions.mirror;
    this.#clock = clock;
    this.#counters = counters;
    this.#refresher = refresher;
    this.#observer = observer;
  }

  /** A copy of the live in-process entry of `key`, or undefined (a miss). A stale or early-chosen one is refreshed. */
  serve(key: QueryKey, expiry: ResolvedExpiry, source: ReadSource): Promise<unknown> | undefined {
    const observer = this.#observer;
    // Without labelled metrics, debug logs or `read` subscribers (the default), nothing is timed.
    const watched = observer.active || readChannel.hasSubscribers;
    const started = watched ? observer.startL1() : 0;
    const now = this.#clock.now();
    const entry = this.#l1.get(key.local, now);
    if (entry === undefined || !this.#versions.hearsEveryInvalidation()) return undefined;
    const freshness = freshnessOf(entry, this.#current(entry), now, expiry);
    if (freshness === "dead") return undefined;
    this.#counters.l1Hits++;
    if (freshness !== "fresh") this.#refresher.later(key, expiry, source, freshness, entry);
    const copy = (entry.clone ?? cloneResult)(entry.value);
    if (watched || source[INFO] !== undefined) observer.l1Hit(key, entry, freshness === "stale", source, now, started);
    return Promise.resolve(copy);
  }

  /**
   * A copy of the entry a load of this key stored while `miss` waited for its
   * lookup, if it is live under the versions the miss captured; otherwise undefined.
   */
  landed(miss: Miss): Promise<unknown> | undefined {
    const now = this.#clock.now();
    const landed = miss.l1?.get(miss.key.local, now);
    if (landed === undefined || !sameVersions(landed.versions, miss.captured)) return undefined;
    const freshness = freshnessOf(landed, true, now, miss.expiry);
    if (freshness === "dead") return undefined;
    this.#counters.coalesced++; // It joined a load, one that had just landed.
    this.#observer.joined(miss.key, miss.source);
    if (freshness !== "fresh") this.#refresher.later(miss.key, miss.expiry, miss.source, freshness, landed);
    return Promise.resolve((landed.clone ?? cloneResult)(landed.value));
  }

  /** True when every tag version stored with `entry` is the mirror's; checked once per mirror epoch. */
  #current(entry: Entry): boolean {
    const epoch = this.#mirror.epoch;
    if (entry.checkedEpoch === epoch) return true;
    if (!this.#mirror.matches(entry.tags, entry.versions)) return false;
    entry.checkedEpoch = epoch;
    return true;
  }
}
