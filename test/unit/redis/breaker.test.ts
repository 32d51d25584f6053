/**
 * The circuit breaker's states on a fake clock: closed until `failures`
 * operations in a row fail, open for `openFor` (reads skip Redis), then one
 * probe at a time (half-open) whose answer closes it and whose failure opens
 * it again. A reply error is Redis answering, never a failure.
 */
import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../src/redis/breaker.ts";
import { CacheError } from "../../../src/errors.ts";

/** A breaker on a clock the test moves, with its onOpen calls recorded. */
function breakerAt(failures = 3, openForMs = 1_000, timeoutMs = 100) {
  const clock = { ms: 0 };
  const opens: number[] = [];
  const breaker = new CircuitBreaker(
    { failures, openForMs },
    timeoutMs,
    (n) => opens.push(n),
    () => clock.ms,
  );
  return { breaker, clock, opens };
}

const timeout = () => new CacheError("E_REDIS", "GET k took longer than redisTimeout (100 ms).");

/** An ioredis ReplyError, as Redis sends it for OOM. */
function replyError(): Error {
  const error = new Error("OOM command not allowed when used memory > 'maxmemory'.");
  error.name = "ReplyError";
  return error;
}

describe("CircuitBreaker", () => {
  it("stays closed below the threshold, and an answer resets the count", () => {
    const { breaker, opens } = breakerAt(3);
    breaker.failed(timeout());
    breaker.failed(timeout());
    breaker.answered();
    breaker.failed(timeout());
    breaker.failed(timeout());
    expect(breaker.state).toBe("closed");
    expect(breaker.allowsRead()).toBe(true);
    expect(opens).toEqual([]);
  });

  it("opens at the threshold: reads skip Redis (counted), in-process entries are not trusted, onOpen is told once", () => {
    const { breaker, opens } = breakerAt(3);
    for (let i = 0; i < 3; i++) breaker.failed(timeout());
    expect(breaker.state).toBe("open");
    expect(breaker.closed).toBe(false);
    expect(opens).toEqual([3]);
    expect([breaker.allowsRead(), breaker.allowsRead()]).toEqual([false, false]);
    expect(breaker.skipped).toBe(2);
    expect(breaker.opened).toBe(1);
    // More failures (timeouts of commands sent before) neither re-open nor call onOpen again.
    breaker.failed(timeout());
    expect(opens).toEqual([3]);
    expect(breaker.opened).toBe(1);
  });

  it("ignores answers while open: a slow Redis answering some commands does not close it", () => {
    const { breaker, clock } = breakerAt(1, 1_000);
    breaker.failed(timeout());
    clock.ms = 500;
    breaker.answered();
    expect(breaker.state).toBe("open");
  });

  it("after openFor lets one probe through at a time; the probe's answer closes it", () => {
    const { breaker, clock } = breakerAt(1, 1_000, 100);
    breaker.failed(timeout());
    clock.ms = 1_000;
    expect(breaker.state).toBe("half-open");
    expect(breaker.allowsRead()).toBe(true); // the probe
    expect(breaker.allowsRead()).toBe(false); // others wait for its answer
    expect(breaker.closed).toBe(false);
    breaker.answered();
    expect(breaker.state).toBe("closed");
    expect(breaker.closed).toBe(true);
    expect(breaker.allowsRead()).toBe(true);
  });

  it("a failed probe opens it for another openFor, counted, without calling onOpen again", () => {
    const { breaker, clock, opens } = breakerAt(1, 1_000);
    breaker.failed(timeout());
    clock.ms = 1_000;
    expect(breaker.allowsRead()).toBe(true);
    breaker.failed(timeout());
    expect(breaker.state).toBe("open");
    expect(breaker.opened).toBe(2);
    expect(opens).toEqual([1]);
    clock.ms = 1_999;
    expect(breaker.allowsRead()).toBe(false);
    clock.ms = 2_000;
    expect(breaker.allowsRead()).toBe(true);
  });

  it("a probe never answered (its read was lost) lets another through after twice the timeout", () => {
    const { breaker, clock } = breakerAt(1, 1_000, 100);
    breaker.failed(timeout());
    clock.ms = 1_000;
    expect(breaker.allowsRead()).toBe(true);
    clock.ms = 1_199;
    expect(breaker.allowsRead()).toBe(false);
    clock.ms = 1_200;
    expect(breaker.allowsRead()).toBe(true);
  });

  it("counts a reply error (OOM, also wrapped as a CacheError's cause) as Redis answering", () => {
    const { breaker } = breakerAt(2);
    breaker.failed(timeout());
    breaker.failed(replyError());
    breaker.failed(timeout());
    breaker.failed(new CacheError("E_REDIS", "bumping failed", replyError()));
    breaker.failed(timeout());
    expect(breaker.state).toBe("closed");
  });
});
