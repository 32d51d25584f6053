/**
 * Tags written inside interactive transactions wait here until the
 * transaction's outermost commit, and are dropped on its rollback
 * (consistency contract, item 3). Nested transactions share their parent's
 * id, so a depth count tells the outermost commit from a nested one.
 */
import type { CommitFailure, TransactionObserver } from "../prisma/internals.js";

interface OpenTransaction {
  depth: number;
  readonly tags: Set<string>;
}

/** Collects tags per open interactive transaction. */
export class TransactionTags implements TransactionObserver {
  readonly #open = new Map<string, OpenTransaction>();
  readonly #drainWaiters: Array<() => void> = [];
  readonly #invalidate: (tags: Iterable<string>) => Promise<unknown>;

  /** @param invalidate bumps tags on every instance; called once per outermost commit */
  constructor(invalidate: (tags: Iterable<string>) => Promise<unknown>) {
    this.#invalidate = invalidate;
  }

  /**
   * Adds `tags` to transaction `id`. Returns false when the transaction is not
   * known (it started before this extension was created): the caller then
   * invalidates at once, which is early, and the commit cannot be waited for.
   */
  add(id: string, tags: Iterable<string>): boolean {
    const open = this.#open.get(id);
    if (open === undefined) return false;
    for (const tag of tags) open.tags.add(tag);
    return true;
  }

  started(id: string): void {
    const open = this.#open.get(id);
    if (open === undefined) this.#open.set(id, { depth: 1, tags: new Set() });
    else open.depth++;
  }

  /**
   * A commit was attempted. A failed commit whose outcome is unknown may
   * still have committed (the connection can drop after COMMIT was sent), so
   * its tags are invalidated too: an extra invalidation costs a miss, a
   * missing one serves old data. A commit Prisma refused because the
   * transaction had already been rolled back (its timeout expired)
   * committed nothing and invalidates nothing (contract item 3).
   */
  async committing(id: string, outcome: "committed" | CommitFailure): Promise<void> {
    const open = this.#open.get(id);
    if (open === undefined) return;
    if (outcome !== "rolled-back" && --open.depth > 0) return;
    this.#open.delete(id);
    try {
      if (outcome !== "rolled-back") await this.#invalidate(open.tags);
    } finally {
      this.#settleDrained();
    }
  }

  rolledBack(id: string): void {
    const open = this.#open.get(id);
    if (open === undefined) return;
    // A rolled-back nested transaction keeps its tags for the outer commit: extra, never missing.
    if (--open.depth <= 0) this.#open.delete(id);
    this.#settleDrained();
  }

  /** Resolves once no transaction is open (at once when none is): when observing may stop without losing a commit. */
  drained(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #settleDrained(): void {
    if (this.#open.size > 0) return;
    for (const resolve of this.#drainWaiters.splice(0)) resolve();
  }
}
