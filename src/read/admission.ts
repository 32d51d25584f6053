/**
 * Automatic admission (`admission: "auto"`): stop caching a query shape whose
 * reads rarely hit, because there each read pays the cache's miss path
 * (Redis round trips, the lock, the fill) and almost never saves a query.
 *
 * A shape is the key with its values blanked (`keyShape`): `findUnique` by
 * `id` is one shape whatever the id. Each shape is measured over windows of
 * `window` reads that went through the tiers, where a hit is a read that did
 * not query the database (an in-process or Redis hit, a joined load, an entry
 * another process loaded under the lock). The first read of a key by this
 * instance that misses is not counted: every cache misses it, so counting it
 * would take out any shape while its keys are first read (a cold start, a
 * trial). A shape whose reads are nearly all such first reads is judged
 * after {@link FIRST_READS_FACTOR} windows of reads, on all of them: its keys
 * do not come back. A window below its bar (below) sends
 * the shape's reads straight to the database for `retryAfter`, doubled after
 * each failed trial up to {@link MAX_RETRY_FACTOR} times; then it is measured
 * again. Bypassing never changes a result: a bypassed read is a plain query.
 *
 * What a window is judged by is the hit ratio caching gives per read, first
 * reads included: how often the shape's keys come back (over every read of
 * it since the last judgement, those made while it was out too, from the key
 * memo) times how often a repeat hits (the window's counted reads), plus the
 * first reads that hit (a Redis entry another process stored, a joined load).
 * A shape whose keys rarely come back thus pays for its first reads' misses,
 * which counting repeats alone hid; and a trial, which starts with nothing
 * cached, is not judged on that cold start.
 *
 * The bar a window must reach is `minHitRatio` or the shape's break-even hit
 * ratio, whichever is higher. Caching a shape pays off when its hits save
 * more than its misses add: `h * U > (1 - h) * O`, where U is the time of
 * its database read and O what a miss adds to it (Redis round trips, the
 * lock), both measured on its reads that loaded in the window; hence the
 * break-even `O / (U + O)`. A cheap primary-key lookup (U about 0.4 ms, O
 * about 0.3 ms) must hit 40 % of the time to be worth caching; a list query
 * taking 10 ms, 3 %. A hit's own cost is taken as nil (an in-process hit
 * costs microseconds), and the fill, which runs after the caller has its
 * result, is not in O: the bar is, if anything, low.
 *
 * Reads made while the cache is not fully working (Redis down, frozen or not
 * connected yet: the instance does not hear every invalidation) are not
 * measured: they miss for want of Redis, not for want of repeats.
 *
 * One instance measures its own reads: a hit on an entry another process
 * stored counts, so does everything this process reads, but nothing is
 * shared between processes (each decides for itself).
 */
import { keyShape, type QueryKey } from "../keys/query-key.js";
import type { ResolvedAdmission } from "../options/resolve.js";
import type { Clock } from "../options/types.js";

/** Bound on remembered keys (key text -> its shape's state); past it the memo starts over. */
const MAX_REMEMBERED_KEYS = 10_000;
/** Bound on measured shapes; past it new shapes are admitted without being measured. */
const MAX_SHAPES = 2_000;
/** A shape is judged on all its reads, first reads included, once it has had this many windows of reads. */
const FIRST_READS_FACTOR = 4;
/** A shape that keeps failing waits at most this many times `retryAfter` before its next trial. */
const MAX_RETRY_FACTOR = 16;

/** What {@link Admission.decide} returns for a read whose shape is not admitted now: read it from the database. */
export const NOT_ADMITTED = Symbol("not admitted");

/** What `$cache.admission()` reports of one measured shape. */
export interface ShapeAdmission {
  /** The query shape: model, operation and argument structure, values replaced by `?` (no argument values). */
  shape: string;
  /** Whether its reads go through the cache now. */
  admitted: boolean;
  /** Hit ratio of its last complete window, or undefined before one completed. */
  lastHitRatio: number | undefined;
  /** Reads counted so far in the current window (0 while not admitted; first reads that missed do not count). */
  windowReads: number;
  /** While not admitted: when it is measured again (clock ms). */
  retryAt: number | undefined;
  /** Windows in a row that ended below their bar (`minHitRatio`, or the break-even if higher). */
  failedWindows: number;
  /**
   * The hit ratio above which caching this shape saves time, from its last complete window's reads that loaded
   * (undefined before one had any): what a miss adds over what a hit saves, `O / (U + O)`.
   */
  breakEvenHitRatio: number | undefined;
  /**
   * The hit ratio caching this shape gives per read, first reads included, as of its last complete window: how often
   * its keys come back times how often a repeat hits, plus first reads that hit. This, not `lastHitRatio` (over
   * repeats only), is what is held against the bar.
   */
  expectedHitRatio: number | undefined;
}

/** How long one admitted read that queried the database took (ms): in all, and its database read. */
export interface LoadTiming {
  totalMs: number;
  loadMs: number;
}

/** What one window of a shape's reads counts; replaced whole when the window is judged. */
class WindowCounts {
  /** Reads in the window, first reads that missed included. */
  reads = 0;
  /** Reads in the window that count: all but the first reads of keys that missed. */
  counted = 0;
  hits = 0;
  /**
   * Every read of the shape decided (admitted or not, so a shape that is out still learns how often its keys come
   * back) and how many of them read a key this instance had read before.
   */
  seen = 0;
  seenRepeats = 0;
  /** Admitted reads that were repeats, repeats that hit, and first reads that hit (Redis, a join). */
  repeatReads = 0;
  repeatHits = 0;
  firstHits = 0;
  /** Reads that loaded: their count, summed database time and summed overhead (ms). */
  loads = 0;
  loadMs = 0;
  overheadMs = 0;
}

/** The admission state of one query shape. */
class ShapeState {
  /** The current window, since the last judgement. */
  window = new WindowCounts();
  /** 0 while admitted; otherwise when the next trial starts (clock ms). */
  retryAt = 0;
  failedWindows = 0;
  lastHitRatio: number | undefined;
  /**
   * During a trial (the first window after the shape was out), the keys read in it: only they are repeats. Bounded by
   * the window's reads; dropped when the trial's window is judged.
   */
  trialKeys: Set<string> | undefined;
  /** The hit ratio caching the shape is expected to give, from the last judgement (see {@link Admission.record}). */
  expected: number | undefined;
  breakEven: number | undefined;

  constructor(readonly shape: string) {}
}

/** The automatic admission of one extension instance. */
export class Admission {
  readonly #settings: ResolvedAdmission;
  readonly #clock: Clock;
  readonly #byKey = new Map<string, ShapeState | undefined>();
  readonly #byShape = new Map<string, ShapeState>();
  /** Whether the key of the last {@link decide} had been read by this instance before (read it right after). */
  lastWasRepeat = false;

  constructor(settings: ResolvedAdmission, clock: Clock) {
    this.#settings = settings;
    this.#clock = clock;
  }

  /**
   * {@link NOT_ADMITTED} when a read of `key` must go to the database now;
   * otherwise the state to {@link record} its outcome in (undefined for a
   * shape past the {@link MAX_SHAPES} bound: admitted, unmeasured).
   */
  decide(key: QueryKey): ShapeState | typeof NOT_ADMITTED | undefined {
    const state = this.#stateOf(key.local);
    if (state === undefined) return undefined;
    state.window.seen++;
    if (this.lastWasRepeat) state.window.seenRepeats++;
    if (state.retryAt !== 0) {
      if (this.#clock.now() < state.retryAt) return NOT_ADMITTED;
      state.retryAt = 0; // a trial: measured again from an empty window
      state.trialKeys = new Set();
    }
    const trialKeys = state.trialKeys;
    if (trialKeys !== undefined) {
      // Keys read while the shape was out were never cached: in a trial, a key's first read is a first read.
      this.lastWasRepeat = trialKeys.has(key.local);
      trialKeys.add(key.local);
    }
    return state;
  }

  /**
   * Records one admitted read's outcome: `hit` when it did not query the database; `repeat` when its key had been
   * read by this instance before ({@link lastWasRepeat} after its decide); `timing` for a read that loaded.
   */
  record(state: ShapeState, hit: boolean, repeat: boolean, timing?: LoadTiming): void {
    if (state.retryAt !== 0) return; // a read that started before the shape was bypassed
    const counts = state.window;
    counts.reads++;
    if (hit || repeat) counts.counted++;
    if (hit) counts.hits++;
    if (repeat) {
      counts.repeatReads++;
      if (hit) counts.repeatHits++;
    } else if (hit) counts.firstHits++;
    if (timing !== undefined) {
      counts.loads++;
      counts.loadMs += timing.loadMs;
      counts.overheadMs += Math.max(0, timing.totalMs - timing.loadMs);
    }
    const { window, minHitRatio, retryAfterMs } = this.#settings;
    if (counts.counted >= window) state.lastHitRatio = counts.hits / counts.counted;
    else if (counts.reads >= window * FIRST_READS_FACTOR) state.lastHitRatio = counts.hits / counts.reads;
    else return;
    // A window without loads keeps the last break-even: nothing new was learnt of what a miss costs.
    if (counts.loads > 0) state.breakEven = counts.overheadMs / (counts.loadMs + counts.overheadMs || 1);
    // What caching gives per read, first reads included: how often a key comes back (over every read since the last
    // judgement, those made while the shape was out too) times how often a repeat hits, plus first reads that hit.
    const comesBack = counts.seen === 0 ? 0 : counts.seenRepeats / counts.seen;
    const repeatHits = counts.repeatReads === 0 ? 0 : counts.repeatHits / counts.repeatReads;
    state.expected = Math.min(1, comesBack * repeatHits + counts.firstHits / counts.reads);
    state.trialKeys = undefined;
    state.window = new WindowCounts();
    if (state.expected >= Math.max(minHitRatio, state.breakEven ?? 0)) {
      state.failedWindows = 0;
      return;
    }
    state.failedWindows++;
    const factor = Math.min(MAX_RETRY_FACTOR, 2 ** (state.failedWindows - 1));
    state.retryAt = this.#clock.now() + retryAfterMs * factor;
  }

  /** Every measured shape and its decision, for `$cache.admission()`. */
  report(): ShapeAdmission[] {
    const now = this.#clock.now();
    return [...this.#byShape.values()].map((state) => {
      const admitted = state.retryAt === 0 || now >= state.retryAt;
      return {
        shape: state.shape,
        admitted,
        lastHitRatio: state.lastHitRatio,
        windowReads: admitted ? state.window.counted : 0,
        retryAt: admitted ? undefined : state.retryAt,
        failedWindows: state.failedWindows,
        breakEvenHitRatio: state.breakEven,
        expectedHitRatio: state.expected,
      };
    });
  }

  #stateOf(local: string): ShapeState | undefined {
    this.lastWasRepeat = this.#byKey.has(local);
    if (this.lastWasRepeat) return this.#byKey.get(local);
    // Shapes are derived once per key text: the regex walk costs more than the rest of a hit.
    const shape = keyShape(local);
    let state = this.#byShape.get(shape);
    if (state === undefined && this.#byShape.size < MAX_SHAPES) {
      state = new ShapeState(shape);
      this.#byShape.set(shape, state);
    }
    if (this.#byKey.size >= MAX_REMEMBERED_KEYS) this.#byKey.clear();
    this.#byKey.set(local, state);
    return state;
  }
}
