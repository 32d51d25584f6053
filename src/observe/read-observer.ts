/**
 * What the read path tells about each read, in one place: the labelled
 * metrics (when on), the per-query info of a read that asked for it, the
 * log events (when a logger is set) and the diagnostics channels (when
 * subscribed). The read path calls it where it already counts into
 * `Counters`, so the labelled counters add up to the global ones.
 *
 * Without labelled metrics, a logger, subscribers or a `withInfo` read, each
 * call is a few property reads and returns.
 */
import type { CacheError } from "../errors.js";
import type { QueryKey } from "../keys/query-key.js";
import type { Clock } from "../options/types.js";
import type { Entry } from "../tiers/entry.js";
import { invalidateChannel, loadChannel, readChannel, type ReadMessage } from "./channels.js";
import { keyHash, levelOf, messageOf, type CacheEvent, type CacheLogger } from "./log-events.js";
import type { InvalidationCause, Metrics } from "./metrics.js";
import { INFO, type ReadInfo } from "./read-info.js";
import { ShapeTable, type ShapeRecord } from "./shape-table.js";

/** A read as the observer sees it: its per-query info sink, if it asked for one. */
export interface ObservedSource {
  readonly [INFO]?: ReadInfo | undefined;
}

/** The logger option, resolved. */
export interface ResolvedLogger {
  readonly logger: CacheLogger;
  /** Log key texts as they are (argument values included) instead of hashed. */
  readonly rawKeys: boolean;
}

/** Bound on shape groups labelled for events and channels while labelled metrics are off. */
const LABEL_ONLY_SHAPES = 200;
/**
 * One in-process hit in this many (on average, at random strides) is timed and sampled for hot keys: reading the
 * clock twice costs more than the rest of the metrics of a hit together, and a latency distribution or a hot-key
 * ranking needs a sample, not every hit. Hits of the other tiers cost hundreds of times more and are all timed.
 */
export const L1_SAMPLE_EVERY = 16;

/** The read observer of one extension instance. */
export class ReadObserver {
  readonly metrics: Metrics;
  readonly #table: ShapeTable | undefined;
  /** Labels for events and channels without labelled metrics (made on first need). */
  #labels: ShapeTable | undefined;
  readonly #logger: ResolvedLogger | undefined;
  /** Whether read events are logged (they go to `debug`): only then are they built. */
  readonly #debug: boolean;
  readonly #clock: Clock;
  /** In-process hits until the next timed one. */
  #countdown = 1;

  constructor(metrics: Metrics, logger: ResolvedLogger | undefined, clock: Clock) {
    this.metrics = metrics;
    this.#table = metrics.table;
    this.#logger = logger;
    this.#debug = logger?.logger.debug !== undefined;
    this.active = this.#table !== undefined || this.#debug;
    this.#clock = clock;
  }

  /** True when a hit of a tier other than the in-process one must be timed (labelled metrics or `read` subscribers). */
  get timing(): boolean {
    return this.#table !== undefined || readChannel.hasSubscribers;
  }

  /**
   * True when in-process hits are observed by this instance's settings (labelled metrics or debug logs). Read once
   * per hit on the hot path; with it false, only a `withInfo` read or a `read` subscriber makes a hit call in.
   */
  readonly active: boolean;

  /**
   * `performance.now()` when this in-process hit is to be timed (one in about {@link L1_SAMPLE_EVERY}, with
   * labelled metrics or `read` subscribers), else 0. Called as the read begins.
   */
  startL1(): number {
    if ((this.#table === undefined && !readChannel.hasSubscribers) || --this.#countdown > 0) return 0;
    // A random stride of mean L1_SAMPLE_EVERY: a workload cycling through keys in step with it cannot hide one.
    this.#countdown = 1 + Math.floor(Math.random() * (2 * L1_SAMPLE_EVERY - 1));
    return performance.now();
  }

  /**
   * An in-process hit (the hot path). `entry` is the in-process tier's own
   * object: it remembers its record, so no lookup is made after the first hit.
   * `started`: what {@link startL1} returned (0: not timed).
   */
  l1Hit(key: QueryKey, entry: Entry, stale: boolean, source: ObservedSource, now: number, started: number): void {
    const table = this.#table;
    let ms: number | undefined;
    if (started !== 0) ms = performance.now() - started;
    if (table !== undefined) {
      const record = entry.record ?? (entry.record = table.of(key.local));
      record.l1++;
      if (ms !== undefined) {
        this.metrics.latency?.l1.record(ms);
        this.metrics.hotKeys?.sample(key.local, record, now, L1_SAMPLE_EVERY);
      }
    }
    const info = source[INFO];
    if (info !== undefined) this.#hitInfo(info, "l1", key.local, entry, stale, now);
    if (this.#debug || readChannel.hasSubscribers) this.#emitHit("l1", key.local, stale, ms);
  }

  /** A Redis hit (`started`: `performance.now()` when the read began, if known) or a request-scope hit. */
  hit(
    tier: "scope" | "l2",
    local: string,
    entry: Pick<Entry, "storedAt" | "tags"> | undefined,
    stale: boolean,
    source: ObservedSource | undefined,
    started?: number,
  ): void {
    const table = this.#table;
    const ms = started === undefined ? undefined : performance.now() - started;
    if (table !== undefined) {
      const record = table.of(local);
      record[tier]++;
      if (ms !== undefined) this.metrics.latency?.[tier].record(ms);
      this.metrics.hotKeys?.sample(local, record, this.#clock.now(), 1);
    }
    const info = source?.[INFO];
    if (info !== undefined) this.#hitInfo(info, tier, local, entry, stale, this.#clock.now());
    if (this.#debug || readChannel.hasSubscribers) this.#emitHit(tier, local, stale, ms);
  }

  /** A cached read that no tier answered: it loads from the database, or joins a load ({@link joined}). */
  missed(key: QueryKey, source: ObservedSource | undefined, tags: readonly string[]): void {
    const table = this.#table;
    if (table !== undefined) {
      const record = table.of(key.local);
      record.db++;
      this.metrics.hotKeys?.sample(key.local, record, this.#clock.now(), 1);
    }
    const info = source?.[INFO];
    if (info !== undefined) {
      info.answeredBy = "db";
      info.stale = false;
      info.ageMs = 0;
      info.shape = this.#labelOf(key.local).shape;
      info.tags = tags;
    }
    if (this.#debug) this.#log({ type: "miss", ...this.#eventLabels(key.local) });
    if (readChannel.hasSubscribers) this.#publishRead(key.local, "db", false, undefined);
  }

  /** A miss that joined a load of the same key instead of starting one (counted as a miss where it was counted). */
  joined(key: QueryKey, source: ObservedSource | undefined): void {
    const table = this.#table;
    if (table !== undefined) table.of(key.local).coalesced++;
    const info = source?.[INFO];
    if (info !== undefined) info.coalesced = true;
  }

  /** A read of a keyed query sent to the database uncached (`bypass`), or because admission took its shape out. */
  uncached(key: QueryKey, source: ObservedSource | undefined, notAdmitted: boolean): void {
    const table = this.#table;
    if (table !== undefined) {
      const record = table.of(key.local);
      if (notAdmitted) record.notAdmitted++;
      else record.bypass++;
    }
    const info = source?.[INFO];
    if (info !== undefined) {
      info.answeredBy = "bypass";
      info.shape = this.#labelOf(key.local).shape;
    }
    if (readChannel.hasSubscribers) this.#publishRead(key.local, "bypass", false, undefined);
  }

  /** A read that was never keyed (no opt-in, a transaction, a disabled model). */
  unkeyed(model: string, operation: string): void {
    const table = this.#table;
    if (table !== undefined) table.unkeyed(model, operation).bypass++;
    if (readChannel.hasSubscribers)
      readChannel.publish({
        model,
        operation,
        shape: undefined,
        answeredBy: "bypass",
        stale: false,
        ms: undefined,
      } satisfies ReadMessage);
  }

  /** An entry served past its ttl, while a refresh replaces it. */
  staleServed(key: QueryKey): void {
    if (this.#table !== undefined) this.#table.of(key.local).stale++;
  }

  /** A background refresh started, or failed. */
  refreshed(key: QueryKey, failed: boolean): void {
    const table = this.#table;
    if (table !== undefined) {
      const record = table.of(key.local);
      if (failed) record.refreshFailures++;
      else record.refreshes++;
    }
    if (this.#logger !== undefined) this.#log({ type: "refresh", failed, ...this.#eventLabels(key.local) });
  }

  /** A miss found another process loading the key and waited for its entry. */
  lockWaited(key: QueryKey): void {
    if (this.#table !== undefined) this.#table.of(key.local).lockWaits++;
  }

  /** A database read of a miss (or a refresh) finished, in `ms`. */
  loaded(key: QueryKey, ms: number): void {
    const table = this.#table;
    if (table !== undefined) {
      table.of(key.local).missMs.record(ms);
      this.metrics.latency?.db.record(ms);
    }
    if (loadChannel.hasSubscribers) {
      const { model, operation, shape } = this.#labelOf(key.local);
      loadChannel.publish({ model, operation, shape, ms });
    }
  }

  /** An entry was stored; `bytes`: its estimated size. */
  stored(key: QueryKey, bytes: number): void {
    if (this.#table !== undefined) this.#table.of(key.local).entryBytes.record(bytes);
  }

  /** True when {@link stored} needs the entry's size (labelled metrics on). */
  get sizing(): boolean {
    return this.#table !== undefined;
  }

  /** Tags were invalidated (always counted; also logged and published). */
  invalidated(cause: InvalidationCause, tags: readonly string[]): void {
    if (tags.length === 0) return;
    this.metrics.invalidated(cause, tags, this.#clock.now());
    if (this.#logger !== undefined) this.#log({ type: "invalidate", cause, tags });
    if (invalidateChannel.hasSubscribers) invalidateChannel.publish({ cause, tags });
  }

  /** A failure was absorbed (always counted; also logged). */
  failed(error: CacheError): void {
    this.metrics.failed(error);
    if (this.#logger !== undefined) this.#log({ type: "error", code: error.code, message: error.message });
  }

  #hitInfo(
    info: ReadInfo,
    tier: "scope" | "l1" | "l2",
    local: string,
    entry: Pick<Entry, "storedAt" | "tags"> | undefined,
    stale: boolean,
    now: number,
  ): void {
    info.answeredBy = tier;
    info.stale = stale;
    info.ageMs = entry === undefined ? 0 : Math.max(0, now - entry.storedAt);
    info.shape = this.#labelOf(local).shape;
    if (entry !== undefined) info.tags = entry.tags;
  }

  #emitHit(tier: "scope" | "l1" | "l2", local: string, stale: boolean, ms: number | undefined): void {
    if (this.#debug) this.#log({ type: stale ? "stale" : "hit", tier, ...this.#eventLabels(local) });
    if (readChannel.hasSubscribers) this.#publishRead(local, tier, stale, ms);
  }

  #publishRead(local: string, answeredBy: ReadMessage["answeredBy"], stale: boolean, ms: number | undefined): void {
    const { model, operation, shape } = this.#labelOf(local);
    readChannel.publish({ model, operation, shape, answeredBy, stale, ms } satisfies ReadMessage);
  }

  /** The labels of a read event: its record's, and its key hashed (or raw with `logRawKeys`). */
  #eventLabels(local: string): { model: string; operation: string; shape: string; key: string } {
    const { model, operation, shape } = this.#labelOf(local);
    return { model, operation, shape, key: this.#logger?.rawKeys === true ? local : keyHash(local) };
  }

  /** The record naming a key's labels: the metrics' own, or (metrics off) a label-only table's. */
  #labelOf(local: string): ShapeRecord {
    if (this.#table !== undefined) return this.#table.of(local);
    this.#labels ??= new ShapeTable(LABEL_ONLY_SHAPES);
    return this.#labels.of(local);
  }

  #log(event: CacheEvent): void {
    const logger = this.#logger?.logger;
    const method = logger?.[levelOf(event)];
    if (method === undefined) return;
    try {
      method.call(logger, event, messageOf(event));
    } catch {
      // The logger is the user's code: its failure must not break the read or write that logged.
    }
  }
}
