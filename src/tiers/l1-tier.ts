/**
 * The in-process tier: an `lru-cache` bounded by bytes and/or entries,
 * holding decoded entries. Synchronous, so a hit never waits on the event loop.
 */
import { LRUCache } from "lru-cache";
import { clonerFor } from "../serialize/clone.js";
import type { Entry } from "./entry.js";

/** Fixed per-entry overhead added to the size estimate (the entry object, the LRU's own slots). */
const ENTRY_OVERHEAD_BYTES = 160;

/** The in-process tier. Keys are canonical query text; values are decoded entries. */
export class L1Tier {
  readonly #lru: LRUCache<string, Entry>;
  /** The byte bound (estimated); an entry larger than it is never held (lru-cache refuses it). */
  readonly maxSize: number;

  /**
   * @param bounds `maxSize` in bytes (estimated) and an optional entry count bound
   * @param disposed told why each entry left (lru-cache's reasons: `evict`, `expire`, `set`, `delete`), for metrics
   */
  constructor(bounds: { maxSize: number; maxEntries: number | undefined }, disposed?: (reason: string) => void) {
    this.maxSize = bounds.maxSize;
    this.#lru = new LRUCache<string, Entry>({
      maxSize: bounds.maxSize,
      ...(bounds.maxEntries === undefined ? {} : { max: bounds.maxEntries }),
      // Sizes are passed with each set(); this is only a guard for a set without one.
      sizeCalculation: () => ENTRY_OVERHEAD_BYTES,
      ...(disposed === undefined ? {} : { dispose: (_entry: Entry, _key: string, reason: string) => disposed(reason) }),
    });
  }

  /** The live entry under `key`, or undefined. Expired entries are dropped on sight. */
  get(key: string, now: number): Entry | undefined {
    const entry = this.#lru.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now) {
      this.#lru.delete(key);
      return undefined;
    }
    return entry;
  }

  /**
   * Stores an entry. `valueBytes` is the estimated size of the decoded value
   * (see serialize/size-estimate.ts); the key (UTF-16) and a fixed overhead are added.
   * Returns false when the entry is larger than `maxSize` and so was not
   * stored (lru-cache drops it without a word; the caller reports it).
   */
  set(key: string, entry: Entry, valueBytes: number): boolean {
    const size = valueBytes + 2 * key.length + ENTRY_OVERHEAD_BYTES;
    // Set even when too large: lru-cache then drops the key's previous entry, which this one replaces.
    // The entry never changes once stored, so the copier chosen now stays exact for every hit.
    // `record` declared now: set on the first hit with metrics on, it must not change the object's shape then.
    const held = { ...entry, clone: size > this.maxSize ? undefined : clonerFor(entry.value), record: undefined };
    this.#lru.set(key, held, { size });
    return size <= this.maxSize;
  }

  /** Drops one key. */
  delete(key: string): void {
    this.#lru.delete(key);
  }

  /** Drops every entry of this process. */
  clear(): void {
    this.#lru.clear();
  }

  /** Entries held now. */
  get size(): number {
    return this.#lru.size;
  }

  /** Estimated bytes held now. */
  get bytes(): number {
    return this.#lru.calculatedSize;
  }
}
