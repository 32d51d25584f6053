/**
 * The labelled counters: one {@link ShapeRecord} per (model, operation,
 * query-shape group). A key's shape is its text with every value blanked
 * (`keyShape`), named by a short hash; it is derived once per key text and
 * remembered, so a read of a known key costs one map lookup (and an
 * in-process hit not even that: the entry remembers its record).
 *
 * Bounded: at most `maxShapes` groups; reads of further shapes count in one
 * `other` group per (model, operation). The key memo is bounded too, and
 * starts over when full.
 */
import { shortHash } from "../keys/hash.js";
import { keyShape } from "../keys/query-key.js";
import { latencyHistogram, sizeHistogram, type HistogramSummary, type LogHistogram } from "./histogram.js";
import type { AnsweredBy, ShapeMetrics } from "./metrics-snapshot.js";

/** Bound on remembered key texts (key text -> its record); past it the memo starts over. */
const MAX_REMEMBERED_KEYS = 10_000;

/** The shape group of reads whose shape was not counted on its own (the table was full). */
export const OVERFLOW_SHAPE = "other";
/** The shape group of reads that were not cached and so never keyed (no opt-in, a transaction). */
export const UNKEYED_SHAPE = "uncached";

/** The mutable counters of one (model, operation, shape group). */
export class ShapeRecord {
  scope = 0;
  l1 = 0;
  l2 = 0;
  db = 0;
  bypass = 0;
  stale = 0;
  notAdmitted = 0;
  coalesced = 0;
  lockWaits = 0;
  refreshes = 0;
  refreshFailures = 0;
  readonly missMs: LogHistogram = latencyHistogram();
  readonly entryBytes: LogHistogram = sizeHistogram();
  /** Reads counted when the current hot-shape window began (see Metrics). */
  mark = 0;
  /** Reads counted when the previous hot-shape window began. */
  previousMark = 0;

  constructor(
    readonly model: string,
    readonly operation: string,
    readonly shape: string,
  ) {}

  /** Every read counted, whatever answered it. */
  get reads(): number {
    return this.scope + this.l1 + this.l2 + this.db + this.bypass + this.notAdmitted;
  }

  /** The public, immutable view. */
  snapshot(): ShapeMetrics & {
    coalesced: number;
    lockWaits: number;
    refreshes: number;
    refreshFailures: number;
    missMs: HistogramSummary;
    entryBytes: HistogramSummary;
  } {
    const reads: Record<AnsweredBy, number> = {
      scope: this.scope,
      l1: this.l1,
      l2: this.l2,
      db: this.db,
      bypass: this.bypass,
    };
    return {
      model: this.model,
      operation: this.operation,
      shape: this.shape,
      reads,
      stale: this.stale,
      notAdmitted: this.notAdmitted,
      coalesced: this.coalesced,
      lockWaits: this.lockWaits,
      refreshes: this.refreshes,
      refreshFailures: this.refreshFailures,
      missMs: this.missMs.summary(),
      entryBytes: this.entryBytes.summary(),
    };
  }
}

/**
 * The shape group of a key text: a short hash of its shape (model, operation, argument and context structure, no
 * values). Stable across processes and releases of the same key format, so dashboards can follow one shape.
 */
export function shapeGroup(local: string): string {
  return shortHash(keyShape(local)).slice(0, 10);
}

/** Model and operation of a key text (`Model|operation|...`). */
function modelAndOperation(local: string): [string, string] {
  const first = local.indexOf("|");
  const second = local.indexOf("|", first + 1);
  return [local.slice(0, first), local.slice(first + 1, second)];
}

/** Every {@link ShapeRecord} of one extension instance. */
export class ShapeTable {
  readonly #maxShapes: number;
  readonly #byKey = new Map<string, ShapeRecord>();
  /** By `model|operation|group`. */
  readonly #records = new Map<string, ShapeRecord>();
  /** Records counted against the bound (overflow and unkeyed records are not). */
  #shapes = 0;

  /** @param maxShapes bound on shape groups counted on their own */
  constructor(maxShapes: number) {
    this.#maxShapes = maxShapes;
  }

  /** The record of a key text (derived on first sight, then remembered). */
  of(local: string): ShapeRecord {
    let record = this.#byKey.get(local);
    if (record !== undefined) return record;
    const [model, operation] = modelAndOperation(local);
    const group = shapeGroup(local);
    record = this.#records.get(`${model}|${operation}|${group}`);
    if (record === undefined) {
      if (this.#shapes < this.#maxShapes) {
        this.#shapes++;
        record = this.#record(model, operation, group);
      } else {
        record = this.#record(model, operation, OVERFLOW_SHAPE);
      }
    }
    if (this.#byKey.size >= MAX_REMEMBERED_KEYS) this.#byKey.clear();
    this.#byKey.set(local, record);
    return record;
  }

  /** The record of reads of `model`.`operation` that were never keyed. */
  unkeyed(model: string, operation: string): ShapeRecord {
    return this.#record(model, operation, UNKEYED_SHAPE);
  }

  /** Every record. */
  records(): IterableIterator<ShapeRecord> {
    return this.#records.values();
  }

  #record(model: string, operation: string, group: string): ShapeRecord {
    const id = `${model}|${operation}|${group}`;
    let record = this.#records.get(id);
    if (record === undefined) {
      record = new ShapeRecord(model, operation, group);
      this.#records.set(id, record);
    }
    return record;
  }
}
