/**
 * One read's Redis time: `redisTimeout` bounds all the round trips a read
 * makes before the database up to its first lock take (the lookup, a version
 * initialisation, the take), not each of them. A cold read makes up to three
 * in a row, so a per-command bound let a Redis just under the timeout cost
 * three times it, unreported (issue 12).
 *
 * Only Redis time is charged: the time the event loop sat idle waiting while
 * a command of the read was in flight (`performance.eventLoopUtilization()`'s
 * idle time, which grows only while the loop waits for I/O). An event-loop
 * stall (a CPU-heavy request, a GC pause) is not idle time, so a reply that
 * waited in the socket through a stall costs the read nothing, and time
 * between the read's commands costs nothing either: a busy process is not a
 * slow Redis (redis-stalls.test.ts). Each command is still bounded on the
 * wall clock by what is left (withTimeout), and that deadline, like the
 * per-command timeout, fails only a command whose reply had not arrived once
 * the loop read its sockets (timeout.ts). A loop busy with other work while a
 * command is in flight charges less than the round trip took: the read then
 * falls back to what the per-command bound allows, never to less.
 *
 * A lock wait's later takes and looks are not charged to it: each has its
 * own `redisTimeout`, and the whole wait is bounded by `lock.wait`.
 */
import { performance } from "node:perf_hooks";

/** The event loop's idle time so far (ms): the clock Redis time is charged on. */
export function loopIdleMs(): number {
  return performance.eventLoopUtilization().idle;
}

/** The Redis time one read has left. Allocated once per read that gets past the in-process tier. */
export class ReadBudget {
  /** Milliseconds of Redis time left. */
  #leftMs: number;
  /** The whole budget, for messages. */
  readonly totalMs: number;

  /** @param totalMs the read's Redis time in all: `redisTimeout` */
  constructor(totalMs: number) {
    this.totalMs = totalMs;
    this.#leftMs = totalMs;
  }

  /** Milliseconds left; zero or less when spent. */
  leftMs(): number {
    return this.#leftMs;
  }

  /** True when no Redis time is left: the read must not send another command. */
  get spent(): boolean {
    return this.#leftMs <= 0;
  }

  /** Charges a command that was sent when the loop's idle time was `idleAtSend` ({@link loopIdleMs}) and is over now. */
  charge(idleAtSend: number): void {
    this.#leftMs -= loopIdleMs() - idleAtSend;
  }
}
