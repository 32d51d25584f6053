/**
 * A slow network path between Redis and one instance's bus subscriber: the
 * instance's invalidation-bus connection (the `duplicate()` the extension
 * opens of the ioredis client it is given) still receives every pub/sub
 * message from the real Redis, but while held, hands them to the extension
 * only when released, in order. This makes "that instance has not processed
 * the message yet" a state a test can hold, instead of a race it may or may
 * not lose. `seen()` tells when a message has reached the subscriber, and
 * `subscriber` is the connection itself (to watch its status).
 */
import type { Cluster, Redis } from "ioredis";

/** A bus message as the extension publishes it (src/invalidation/bus.ts). */
export interface BusMessage {
  t: string;
  from: string;
}

export interface HeldBus {
  /** From now on, bus messages wait. */
  hold(): void;
  /** Delivers the waiting messages, in order, and stops holding. */
  release(): void;
  /**
   * Resolves once a message matching `match` reached the subscriber (and, unless held, the extension has handled it).
   */
  seen(match: (message: BusMessage) => boolean): Promise<void>;
  /** The subscriber connection the extension opened, once it has (a Cluster client when it was given one). */
  readonly subscriber: Redis | Cluster | undefined;
}

/**
 * Makes the bus subscriber that the extension will `duplicate()` from `redis` holdable. Call before creating the
 * instance.
 * A Cluster client is wrapped the same way: its `duplicate()` and `on("message")` have the shapes used here.
 */
export function holdableBus(client: Redis | Cluster): HeldBus {
  const redis = client as Redis;
  let held = false;
  const waiting: Array<() => void> = [];
  const watchers = new Set<{ match: (message: BusMessage) => boolean; resolve: () => void }>();
  const notify = (text: unknown) => {
    let message: BusMessage;
    try {
      message = JSON.parse(String(text)) as BusMessage;
    } catch {
      return;
    }
    for (const watcher of [...watchers]) {
      if (!watcher.match(message)) continue;
      watchers.delete(watcher);
      watcher.resolve();
    }
  };
  let opened: Redis | undefined;
  const duplicate = redis.duplicate.bind(redis);
  redis.duplicate = ((...args: Parameters<Redis["duplicate"]>) => {
    const subscriber = duplicate(...args);
    opened = subscriber;
    const on = subscriber.on.bind(subscriber);
    subscriber.on = ((event: string, listener: (...values: unknown[]) => void) => {
      if (event !== "message") return on(event, listener);
      return on(event, (...values: unknown[]) => {
        if (held) waiting.push(() => listener(...values));
        else listener(...values);
        notify(values[1]);
      });
    }) as Redis["on"];
    return subscriber;
  }) as Redis["duplicate"];
  return {
    hold: () => {
      held = true;
    },
    release: () => {
      held = false;
      for (const deliver of waiting.splice(0)) deliver();
    },
    seen: (match) => new Promise<void>((resolve) => watchers.add({ match, resolve })),
    get subscriber() {
      return opened;
    },
  };
}

/**
 * Runs `write` while `peer` (another instance's bus) is held, and resolves to
 * whether the write resolved only once `peer` was released, i.e. it waited
 * for that instance to apply its invalidation. `writer` is the writing
 * instance's bus: its own invalidation coming back marks the moment a write
 * that does not wait would have resolved (by the next turn).
 */
export async function resolvesOnlyAfter(
  writer: HeldBus,
  peer: HeldBus,
  write: () => PromiseLike<unknown>,
): Promise<boolean> {
  peer.hold();
  let released = false;
  const writing = Promise.resolve(write()).then(() => released);
  await writer.seen((message) => message.t === "inv");
  await new Promise((resolve) => setImmediate(resolve));
  released = true;
  peer.release();
  return writing;
}

/**
 * Runs `write` while `peer` (another instance's bus) is held, and runs
 * `readAfter` the moment the write resolves, so that a write which resolves
 * before that instance applied its invalidation has the read answered by the
 * instance as it was before the write: the stale read contract item 1 forbids,
 * made certain instead of likely. `peer` is released once `writer` heard its
 * own invalidation and then the write resolved or `graceMs` passed (a write
 * that waits for `peer` can only resolve after that). Resolves to what the
 * read returned.
 */
export async function readRightAfter<T>(
  writer: HeldBus,
  peer: HeldBus,
  write: () => PromiseLike<unknown>,
  readAfter: () => PromiseLike<T>,
  graceMs = 200,
): Promise<T> {
  peer.hold();
  const reading = Promise.resolve(write()).then(() => readAfter());
  try {
    await writer.seen((message) => message.t === "inv");
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, graceMs))]);
  } finally {
    peer.release();
  }
  return reading;
}
