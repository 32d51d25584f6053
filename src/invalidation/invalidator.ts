/**
 * Bumps tags: in the version store, then on the bus, and only then lets the
 * write resolve. A bump never fails the write that caused it: if Redis
 * cannot take it, the failure is reported, this instance stops serving the
 * tags from its in-process tier at once, and the bump is retried in the
 * background until Redis accepts it.
 */
import { CacheError } from "../errors.js";
import type { InvalidationCause } from "../observe/metrics.js";
import type { ReadObserver } from "../observe/read-observer.js";
import { isReplyError } from "../redis/breaker.js";
import type { InvalidationBus } from "./bus.js";
import type { VersionMirror } from "./version-mirror.js";
import type { VersionStore } from "./version-store.js";

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 30_000;

/** The one way tags are invalidated, whatever asked for it (a write, a transaction's commit, the tag API). */
export class Invalidator {
  readonly #store: VersionStore;
  readonly #mirror: VersionMirror;
  readonly #bus: InvalidationBus | undefined;
  readonly #report: (error: CacheError) => void;
  readonly #observer: ReadObserver | undefined;
  readonly #retrying = new Set<string>();
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelayMs = RETRY_FIRST_MS;
  /** Number of bumps done (each tag counts once); read by stats(). */
  bumps = 0;

  constructor(
    store: VersionStore,
    mirror: VersionMirror,
    bus: InvalidationBus | undefined,
    report: (error: CacheError) => void,
    observer?: ReadObserver,
  ) {
    this.#observer = observer;
    this.#store = store;
    this.#mirror = mirror;
    this.#bus = bus;
    this.#report = report;
  }

  /**
   * Invalidates `tags` on every instance. Resolves, with the new versions,
   * when no instance can serve what they covered (undefined when the bump
   * could not be made and is being retried); never rejects.
   *
   * @param cause why, for metrics and events: a write through the client, the tag API, or a database event
   */
  async invalidate(
    tags: Iterable<string>,
    cause: InvalidationCause = "write",
  ): Promise<ReadonlyMap<string, number> | undefined> {
    const unique = [...new Set(tags)];
    if (unique.length === 0) return new Map();
    this.bumps += unique.length;
    this.#observer?.invalidated(cause, unique);
    const announcement = this.#bus?.announcement();
    let versions: number[];
    try {
      const bumped = await this.#store.bump(unique, announcement);
      versions = bumped.versions;
      await announcement?.wait(bumped);
    } catch (error) {
      if (announcement !== undefined) this.#bus?.abandon(announcement.id);
      this.#report(
        new CacheError(
          "E_INVALIDATION",
          `could not bump ${unique.length} tag version(s) in Redis (${unique.slice(0, 3).join(", ")}${unique.length > 3 ? ", ..." : ""}); retrying in the background. Other instances may serve these until it succeeds or their entries expire.`,
          error,
        ),
      );
      // Until Redis takes the bump it still holds entries that look current for these tags: this instance reads
      // them from the database rather than serve its own write's old data (VersionMirror.anyUnbumped).
      this.#mirror.markUnbumped(unique);
      this.#retryLater(unique);
      // Redis answered with a refusal (full under noeviction, say): it still serves reads, and still publishes, so
      // the other instances are told to do the same before the write resolves. A Redis that did not answer at all
      // would only add another timeout to the write.
      if (isReplyError(error))
        await this.#bus
          ?.announceUnbumped(unique)
          .catch((announceError: unknown) =>
            this.#report(
              new CacheError(
                "E_INVALIDATION",
                "could not tell the other instances that Redis refused a bump; they may serve these tags until the retry lands or their entries expire.",
                announceError,
              ),
            ),
          );
      return undefined;
    }
    return new Map(unique.map((tag, i) => [tag, versions[i] as number]));
  }

  #retryLater(tags: readonly string[]): void {
    for (const tag of tags) this.#retrying.add(tag);
    if (this.#retryTimer !== undefined) return;
    this.#retryTimer = setTimeout(() => void this.#retry(), this.#retryDelayMs);
    this.#retryTimer.unref();
  }

  async #retry(): Promise<void> {
    this.#retryTimer = undefined;
    const tags = [...this.#retrying];
    this.#retrying.clear();
    const announcement = this.#bus?.announcement();
    try {
      const bumped = await this.#store.bump(tags, announcement);
      this.#retryDelayMs = RETRY_FIRST_MS;
      this.#mirror.markBumped(tags);
      await announcement?.wait(bumped);
    } catch {
      if (announcement !== undefined) this.#bus?.abandon(announcement.id);
      this.#retryDelayMs = Math.min(RETRY_MAX_MS, this.#retryDelayMs * 2);
      this.#retryLater(tags);
    }
  }
}
