/**
 * Helpers for tests of a busy process: a query started while the event loop
 * is about to be blocked, and the block itself.
 */

/** Starts a Prisma query now (they are lazy: nothing runs until `then` is called). */
export function started<T>(query: PromiseLike<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => query.then(resolve, reject));
}

/** Keeps the event loop busy for `ms`, as a CPU-heavy request handler would. */
export function blockEventLoop(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy on purpose: nothing else runs meanwhile, timers and socket reads included.
  }
}
