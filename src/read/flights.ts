/**
 * Single-flight in one process: concurrent misses of one key share one load.
 *
 * A flight is a load in progress with the tag versions captured before it.
 * A read may join it only when it would capture the same versions itself:
 * a read that starts after a write resolved (the versions moved on) must not
 * receive the result of a database read that started before that write
 * (docs/expiry.md, consistency contract item 1). Each joiner gets its own
 * copy (item 7). A flight leaves the table as it settles, so an error is
 * shared by those already waiting and never kept (item 6).
 *
 * Without captured versions (Redis slow, frozen, not connected), a read may
 * still join a flight of other such reads whose database read began after
 * the read did: it started after every write that had resolved before the
 * read began, so it sees them all. Not a flight with versions: its result may
 * be an entry another process stored (the lock's first take returns one),
 * whose own database read may predate the write. Concurrent reads whose lookups fail together therefore
 * share one load whatever Redis does, and a read that begins after a write
 * never receives a load that began before it.
 *
 * One table per extension instance: two clients in one process never share
 * a load.
 */
import { cloneResult } from "../serialize/clone.js";

interface Flight {
  /** The versions captured before the load, or undefined for a load without them (Redis did not answer). */
  readonly versions: readonly number[] | undefined;
  /** When the load began (`performance.now()`), before its database read could start. */
  readonly startedAt: number;
  /**
   * A private copy of the result, taken before its first receiver can touch it; only when someone joined before it
   * landed, or may join after (see {@link Flights.start}).
   */
  readonly pristine: Promise<unknown>;
  /** Whether a read joined it: only then is the pristine copy taken. */
  joined: boolean;
}

/** A load without versions that has landed: its result stays joinable for a moment (see {@link Flights.joinBegunSince}). */
interface Landed {
  readonly startedAt: number;
  readonly pristine: Promise<unknown>;
}

/** The flights of one extension instance, keyed by the in-process key text. */
export class Flights {
  readonly #flights = new Map<string, Flight>();
  readonly #landed = new Map<string, Landed>();
  readonly #keepLandedMs: number;

  /**
   * @param keepLandedMs how long the result of a load without versions stays joinable after it landed: reads whose
   *   Redis lookups failed in one burst are told so in waves (one per check of the Redis timeout), and a wave that
   *   arrives after the load landed may still use it if it began after them. 0 keeps none.
   */
  constructor(keepLandedMs = 0) {
    this.#keepLandedMs = keepLandedMs;
  }

  /** True while a load of `key` is in progress. */
  has(key: string): boolean {
    return this.#flights.has(key);
  }

  /**
   * A private copy of the result of the flight of `key`, if one is in
   * progress under exactly `versions`; otherwise undefined (start a load).
   */
  join(key: string, versions: readonly number[]): Promise<unknown> | undefined {
    const flight = this.#flights.get(key);
    if (flight?.versions === undefined || !sameVersions(flight.versions, versions)) return undefined;
    flight.joined = true;
    return flight.pristine.then(cloneResult);
  }

  /**
   * A private copy of the result of the flight of `key`, if it is a load
   * without versions (a database read, nothing else) that began at or after
   * `began` (the joining read's own start, `performance.now()`); otherwise
   * undefined (start a load).
   */
  joinBegunSince(key: string, began: number): Promise<unknown> | undefined {
    const flight = this.#flights.get(key) ?? this.#landed.get(key);
    // Only a load without versions reads the database itself from its start; a versioned one may be served an entry
    // another process stored earlier (the lock's first take), whatever its own start.
    if (flight === undefined || ("versions" in flight && flight.versions !== undefined) || flight.startedAt < began)
      return undefined;
    if ("joined" in flight) flight.joined = true;
    return flight.pristine.then(cloneResult);
  }

  /**
   * Registers `load` as the flight of `key`, started under `versions` (undefined: without captured versions), and
   * returns it: its starter receives the loaded value itself, joiners copies. Call it in the same synchronous step
   * as the one that started `load`, before its database read can have begun.
   */
  start<T>(key: string, versions: readonly number[] | undefined, load: Promise<T>): Promise<T> {
    // A landed load without versions stays joinable (see #keepLanded): it always needs its copy.
    const keptLanded = versions === undefined && this.#keepLandedMs > 0;
    // Registered before the starter's own continuation, so the copy is taken before the starter can mutate the value;
    // and before `land` below, which runs right after it (reactions to one promise run back to back), so no read can
    // join between the decision not to copy and the flight leaving the table. Most loads are joined by nobody: a
    // copy of every result would cost a whole result walk per miss.
    const pristine = load.then((value) => (flight.joined || keptLanded ? cloneResult(value) : undefined));
    pristine.catch(() => undefined); // Nobody may join; the starter still receives the error through `load`.
    const flight: Flight = { versions, startedAt: performance.now(), pristine, joined: false };
    this.#flights.set(key, flight);
    const land = (): void => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    load.then(() => {
      land();
      if (versions === undefined && this.#keepLandedMs > 0) this.#keepLanded(key, flight);
    }, land);
    return load;
  }

  /** Keeps a landed load without versions joinable for `keepLandedMs` (never an error: those are not kept). */
  #keepLanded(key: string, flight: Flight): void {
    const landed: Landed = { startedAt: flight.startedAt, pristine: flight.pristine };
    this.#landed.set(key, landed);
    setTimeout(() => {
      if (this.#landed.get(key) === landed) this.#landed.delete(key);
    }, this.#keepLandedMs).unref();
  }
}

/** True when both lists hold the same versions in the same order. */
export function sameVersions(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
