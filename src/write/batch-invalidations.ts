/**
 * The invalidations the elements of a batch `$transaction([...])` started,
 * so that a failed batch rejects only once they are done (consistency
 * contract, item 3: after a write rejects, no read begun afterwards returns
 * pre-write data).
 *
 * Prisma's batch rejects as soon as any of its elements does. A write element
 * whose outcome is unknown (the connection dropped after COMMIT) invalidates
 * before its own rejection, but a read element, or a write the batch's error
 * reached first, rejects at once: the caller's next read would return the
 * pre-write row while that invalidation is still on its way. So every
 * element of a batch that rejects first waits here: one macrotask (Prisma
 * rejects a failed batch's elements together, so by then each write element
 * has reached its failure path and started its invalidation), then every
 * invalidation the batch's elements started.
 */

/** The invalidations in progress of each batch, by Prisma's batch id. */
export class BatchInvalidations {
  readonly #pending = new Map<string | number, Set<Promise<unknown>>>();

  /** Records `invalidation`, started by an element of batch `id`; returns it. */
  track<T>(id: string | number, invalidation: Promise<T>): Promise<T> {
    let set = this.#pending.get(id);
    if (set === undefined) {
      set = new Set();
      this.#pending.set(id, set);
    }
    const tracked: Promise<unknown> = invalidation.then(
      () => undefined,
      () => undefined,
    );
    set.add(tracked);
    void tracked.then(() => {
      set.delete(tracked);
      if (set.size === 0 && this.#pending.get(id) === set) this.#pending.delete(id);
    });
    return invalidation;
  }

  /**
   * Resolves once every invalidation started by the elements of batch `id`
   * is over (bumped, or failed and reported: each is bounded by the
   * invalidator's own timeouts), one macrotask after the call at the
   * earliest. An element of a failed batch awaits this before rejecting.
   */
  async settled(id: string | number): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let set = this.#pending.get(id); set !== undefined && set.size > 0; set = this.#pending.get(id))
      await Promise.all(set);
  }
}
