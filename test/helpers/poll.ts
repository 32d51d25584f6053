/** Polling for conditions that settle asynchronously (a reconnect, a background retry), bounded in time. */

/** Polls `probe` (every 20 ms, up to `ms`) until `done(value)`; returns the last value. */
export async function pollUntil<T>(probe: () => Promise<T>, done: (value: T) => boolean, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
