/**
 * The caching advisor (`advisor: true`): for reads that are NOT cached, it
 * works out what caching them would give, per query shape (model, operation
 * and argument structure, values blanked: `findUnique` by `id` is one shape).
 *
 * It replays an unbounded-ttl cache in its head. Per observed key it keeps
 * when a cache would have filled it (the first read, or the first read after
 * an invalidation of one of its tags) and the invalidation sequence number at
 * that moment. A later read of the key is a would-be hit when none of its
 * tags has been bumped since the fill, by a write through any instance this
 * one hears of (its own, the bus, its in-process group); otherwise it is a
 * would-be miss and a new fill. The sequence number is taken when the read
 * starts, before the database answers, as a real fill's tag versions are
 * (consistency contract, item 2): a write landing while it runs kills it.
 *
 * Each read's database time is measured (the time the original query took),
 * and each would-be fill's result size estimated. The time since the fill
 * of every would-be hit gives the suggested `ttl`: the shortest of a few
 * round durations covering 90% of them.
 *
 * Memory is bounded: `maxShapes` shapes, `maxKeys` keys (least recently read
 * forgotten first), a bounded map of bump sequence numbers per tag. Keys are
 * sampled by a hash of their text (`sample`), so every read of an observed
 * key is seen.
 *
 * Not modelled: the query tag that only `$cache.invalidateQuery` bumps
 * (nothing uncached is invalidated by query), a TTL shorter than the repeats
 * (see the suggested ttl), and the in-process tier's size bound.
 */
import { CacheError } from "../errors.js";
import { keyShape } from "../keys/query-key.js";
import type { ResolvedAdvisor } from "../options/resolve.js";
import type { InvalidationListener } from "../invalidation/version-mirror.js";
import { estimateSize } from "../serialize/size-estimate.js";
import { adviceFor, type AdvisorReport, type AdvisorRow } from "./advisor-report.js";
import { AgeHistogram } from "./age-histogram.js";

/** Bound on tags whose last bump is remembered; past it the advisor starts over as after a reset (all fills die). */
const MAX_BUMPED_TAGS = 100_000;

/** The fill sequence number of a key whose fill failed: older than every reset, so its next read is a fill. */
const NOT_FILLED = -1;

/** What the advisor counts of one query shape. */
class ShapeStats {
  reads = 0;
  wouldHit = 0;
  /** Repeats that a write would have invalidated first. */
  invalidated = 0;
  fills = 0;
  dbMsTotal = 0;
  dbReads = 0;
  bytesTotal = 0;
  bytesCount = 0;
  readonly ages = new AgeHistogram();

  constructor(
    readonly model: string,
    readonly operation: string,
    readonly shape: string,
  ) {}
}

/** One observed key: what a cache would hold for it. */
interface KeyState {
  readonly shape: ShapeStats;
  /** The key's dependency tags (deterministic per key text: derived once). */
  readonly tags: readonly string[];
  /** The invalidation sequence number when the entry would have been filled. */
  fillSeq: number;
  /** When it would have been filled (clock ms). */
  fillAt: number;
}

/** The caching advisor of one extension instance. */
export class Advisor implements InvalidationListener {
  readonly #settings: ResolvedAdvisor;
  readonly #now: () => number;
  readonly #keys = new Map<string, KeyState>();
  readonly #shapes = new Map<string, ShapeStats>();
  /** Per tag, the sequence number of its last bump. */
  readonly #bumps = new Map<string, number>();
  /** Advanced on every bump; a fill remembers it. */
  #seq = 0;
  /** The sequence number of the last reset: fills before it are all dead. */
  #resetSeq = 0;
  /** Reads of shapes past the `maxShapes` bound: not observed. */
  #untrackedReads = 0;

  readonly #report: (error: CacheError) => void;
  readonly #missOverheadMs: number;

  /**
   * @param now            the clock (ms) that ages are measured on: the extension's
   * @param report         where a failure to observe a read goes (`onError`); the read itself never sees it
   * @param missOverheadMs what a miss would add to a read here (`MISS_OVERHEAD_MS`), for the break-even
   */
  constructor(
    settings: ResolvedAdvisor,
    now: () => number,
    report: (error: CacheError) => void,
    missOverheadMs: number,
  ) {
    this.#settings = settings;
    this.#now = now;
    this.#report = report;
    this.#missOverheadMs = missOverheadMs;
  }

  /** Whether the key whose text is `local` is observed (the same answer for every read of it). */
  samples(local: string): boolean {
    const { sample } = this.#settings;
    return sample >= 1 || hashFraction(local) < sample;
  }

  /**
   * Observes one uncached read of the key `local` whose database query is
   * `load` (a lazy PrismaPromise: this runs it). Resolves or rejects as
   * `load` does, with the same value.
   *
   * @param tagsOf the read's dependency tags, asked only for a key not seen before
   */
  observe(
    model: string,
    operation: string,
    local: string,
    tagsOf: () => readonly string[],
    load: PromiseLike<unknown>,
  ): Promise<unknown> {
    let state: { key: KeyState; fill: boolean } | undefined;
    try {
      state = this.#read(model, operation, local, tagsOf);
    } catch (error) {
      this.#failed(model, operation, error);
    }
    const started = performance.now();
    return Promise.resolve(load).then(
      (result) => {
        if (state === undefined) return result;
        try {
          this.#loaded(state.key.shape, performance.now() - started, state.fill, result);
        } catch (error) {
          this.#failed(model, operation, error);
        }
        return result;
      },
      (error: unknown) => {
        // Errors are never cached: the next read of the key would miss again.
        if (state?.fill === true) state.key.fillSeq = NOT_FILLED;
        throw error;
      },
    );
  }

  /** Reports a failure to observe a read of `model.operation`: the read goes on as if nothing watched it. */
  #failed(model: string, operation: string, error: unknown): void {
    this.#report(
      new CacheError(
        "E_ADVISOR",
        `the advisor could not observe a read of ${model}.${operation}; the read ran as usual.`,
        error,
      ),
    );
  }

  /** Records a read: a would-be hit, or a would-be fill (undefined: a shape past the bound, not observed). */
  #read(
    model: string,
    operation: string,
    local: string,
    tagsOf: () => readonly string[],
  ): { key: KeyState; fill: boolean } | undefined {
    const now = this.#now();
    let key = this.#keys.get(local);
    if (key === undefined) {
      const shape = this.#shapeOf(model, operation, local);
      if (shape === undefined) {
        this.#untrackedReads++;
        return undefined;
      }
      if (this.#keys.size >= this.#settings.maxKeys) this.#keys.delete(this.#keys.keys().next().value as string);
      key = { shape, tags: tagsOf(), fillSeq: this.#seq, fillAt: now };
      this.#keys.set(local, key);
      shape.reads++;
      shape.fills++;
      return { key, fill: true };
    }
    // Map order is the recency order: the least recently read key is forgotten first.
    this.#keys.delete(local);
    this.#keys.set(local, key);
    const shape = key.shape;
    shape.reads++;
    if (this.#invalidatedSinceFill(key)) {
      shape.invalidated++;
      shape.fills++;
      key.fillSeq = this.#seq;
      key.fillAt = now;
      return { key, fill: true };
    }
    shape.wouldHit++;
    shape.ages.record(now - key.fillAt);
    return { key, fill: false };
  }

  /** Database time of every read; the result's size only for a fill (what a cache would store). */
  #loaded(shape: ShapeStats, dbMs: number, fill: boolean, result: unknown): void {
    shape.dbMsTotal += dbMs;
    shape.dbReads++;
    if (!fill) return;
    shape.bytesTotal += estimateSize(result);
    shape.bytesCount++;
  }

  #invalidatedSinceFill(key: KeyState): boolean {
    if (this.#resetSeq > key.fillSeq) return true;
    for (const tag of key.tags) if ((this.#bumps.get(tag) ?? 0) > key.fillSeq) return true;
    return false;
  }

  #shapeOf(model: string, operation: string, local: string): ShapeStats | undefined {
    const text = keyShape(local);
    let shape = this.#shapes.get(text);
    if (shape === undefined && this.#shapes.size < this.#settings.maxShapes) {
      shape = new ShapeStats(model, operation, text);
      this.#shapes.set(text, shape);
    }
    return shape;
  }

  /** A tag was bumped (by any instance this one hears): fills of keys depending on it die. */
  invalidated(tag: string): void {
    if (this.#bumps.size >= MAX_BUMPED_TAGS && !this.#bumps.has(tag)) this.reset();
    this.#bumps.set(tag, ++this.#seq);
  }

  /** The mirror started over (a bus reconnect or gap): every fill so far dies. */
  reset(): void {
    this.#bumps.clear();
    this.#resetSeq = ++this.#seq;
  }

  /** The report: one row per observed shape, the most time saved overall first. */
  report(): AdvisorReport {
    const { sample } = this.#settings;
    const overhead = this.#missOverheadMs;
    const rows: AdvisorRow[] = [...this.#shapes.values()].map((shape) => {
      const dbMs = shape.dbReads === 0 ? 0 : shape.dbMsTotal / shape.dbReads;
      const hitRatio = shape.reads === 0 ? 0 : shape.wouldHit / shape.reads;
      // Before any read loaded, the database time is unknown: nothing breaks even.
      const breakEven = shape.dbReads === 0 ? 1 : overhead / (dbMs + overhead);
      return {
        model: shape.model,
        operation: shape.operation,
        shape: shape.shape,
        reads: shape.reads,
        wouldHit: shape.wouldHit,
        invalidated: shape.invalidated,
        hitRatio,
        dbMs,
        savedMs: (shape.wouldHit * dbMs) / sample,
        netMs: (shape.wouldHit * dbMs - (shape.reads - shape.wouldHit) * overhead) / sample,
        breakEvenHitRatio: breakEven,
        bytes: shape.bytesCount === 0 ? 0 : Math.round(shape.bytesTotal / shape.bytesCount),
        suggestedTtlMs: shape.ages.coverage(0.9),
        advice: adviceFor(shape.reads, hitRatio, breakEven),
      };
    });
    rows.sort((a, b) => b.netMs - a.netMs || b.reads - a.reads);
    return {
      enabled: true,
      sample,
      trackedKeys: this.#keys.size,
      untrackedReads: this.#untrackedReads,
      missOverheadMs: overhead,
      rows,
    };
  }
}

/** A stable fraction in [0, 1) from a key's text (FNV-1a, 32 bits): the same key always gets the same one. */
function hashFraction(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) / 0x1_0000_0000;
}
