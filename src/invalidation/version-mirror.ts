/**
 * This process's view of tag versions. In-process entries are served only
 * when every version stored with them equals the mirror's, so the mirror must
 * only ever move forward: versions are compared with `max`, and a tag the
 * mirror does not know makes an entry unusable (it is looked up in Redis).
 */

/** Bound on remembered tags; past it the mirror starts over (entries then revalidate through Redis). */
const DEFAULT_MAX_TAGS = 200_000;

/**
 * Told of every invalidation this process hears, whoever made it (a write
 * through this instance, one heard on the bus, another instance of the same
 * in-process group), and of resets (after which anything may have changed).
 * The caching advisor listens; nothing on the read path does.
 */
export interface InvalidationListener {
  /** `tag` was bumped. */
  invalidated(tag: string): void;
  /** The mirror started over: any tag may have been bumped meanwhile. */
  reset(): void;
}

/** The tag versions this process has seen. */
export class VersionMirror {
  readonly #versions = new Map<string, number>();
  readonly #maxTags: number;
  readonly #onReset: () => void;
  /**
   * Counts changes that can make an entry stale: a known version moving on,
   * a tag forgotten, a reset. An in-process entry checked at the current
   * epoch needs no per-tag lookups (the common case: reads far outnumber writes).
   */
  epoch = 0;
  /**
   * Counts resets. A version read from Redis is recorded only if no reset
   * happened between sending the read and its reply (see RedisVersionStore),
   * so a reply to a command sent before a reconnect cannot refill the mirror.
   */
  generation = 0;
  /**
   * Counts every invalidation this process has heard (a bump, its own or one
   * from the bus, of any tag, known or not) and every forget or reset. Unlike
   * `epoch`, it also moves for tags the mirror did not know, so a holder that
   * could not capture versions (the request scope) can still tell "nothing
   * was invalidated since" apart from "something may have been".
   */
  invalidations = 0;
  /** Tags whose bump Redis has not taken yet (see Invalidator): never recorded until it has. */
  readonly #unbumped = new Set<string>();
  /** Undefined until someone listens, so that hearing an invalidation costs nothing more without listeners. */
  #listeners: Set<InvalidationListener> | undefined;

  /** @param onReset called when the mirror forgets everything, so in-process entries can be dropped too */
  constructor(onReset: () => void, maxTags = DEFAULT_MAX_TAGS) {
    this.#onReset = onReset;
    this.#maxTags = maxTags;
  }

  /** The newest version seen for `tag`, or undefined. */
  get(tag: string): number | undefined {
    return this.#versions.get(tag);
  }

  /** Records a version seen in Redis or on the bus; never moves a tag backwards. */
  observe(tag: string, version: number): void {
    if (this.#unbumped.size > 0 && this.#unbumped.has(tag)) return;
    const known = this.#versions.get(tag);
    if (known !== undefined && known >= version) return;
    if (known === undefined && this.#versions.size >= this.#maxTags) this.reset();
    // A first sighting cannot invalidate an entry (none holds a version the mirror never had): no new epoch.
    if (known !== undefined) this.epoch++;
    this.#versions.set(tag, version);
  }

  /** Records the version a bump produced (this process's or one heard on the bus). */
  invalidated(tag: string, version: number): void {
    this.invalidations++;
    this.observe(tag, version);
    if (this.#listeners !== undefined) for (const listener of this.#listeners) listener.invalidated(tag);
  }

  /**
   * Counts this process's own bump of `tags` in Redis (its versions are then
   * recorded with {@link observe} or, when they cannot be, forgotten): the
   * bus does not hand a process its own invalidations back.
   */
  bumped(tags: readonly string[]): void {
    this.invalidations++;
    if (this.#listeners !== undefined)
      for (const listener of this.#listeners) for (const tag of tags) listener.invalidated(tag);
  }

  /** Tells `listener` of every invalidation from now on; returns what stops it. */
  listen(listener: InvalidationListener): () => void {
    (this.#listeners ??= new Set()).add(listener);
    return () => {
      this.#listeners?.delete(listener);
      if (this.#listeners?.size === 0) this.#listeners = undefined;
    };
  }

  /** Forgets `tag`: entries depending on it stop being served in-process until its version is read again. */
  forget(tag: string): void {
    this.#versions.delete(tag);
    this.epoch++;
    this.invalidations++;
  }

  /** The mirror's versions of `tags`, or undefined when it does not know one of them. */
  versionsOf(tags: readonly string[]): number[] | undefined {
    const versions: number[] = [];
    for (const tag of tags) {
      const version = this.#versions.get(tag);
      if (version === undefined) return undefined;
      versions.push(version);
    }
    return versions;
  }

  /**
   * Records that Redis has not taken the bump of `tags`: they are forgotten,
   * and versions read for them are not recorded (Redis still holds their old
   * ones) until {@link markBumped}.
   */
  markUnbumped(tags: Iterable<string>): void {
    for (const tag of tags) {
      this.#unbumped.add(tag);
      this.forget(tag);
      // The write happened even though Redis did not take its bump.
      if (this.#listeners !== undefined) for (const listener of this.#listeners) listener.invalidated(tag);
    }
  }

  /** Trusts `tags` again once their bump reached Redis. */
  markBumped(tags: Iterable<string>): void {
    for (const tag of tags) this.#unbumped.delete(tag);
  }

  /**
   * True when Redis has not taken the bump of one of `tags`: their entries
   * there still look current, so a read of them goes to the database.
   */
  anyUnbumped(tags: readonly string[]): boolean {
    return this.#unbumped.size > 0 && tags.some((tag) => this.#unbumped.has(tag));
  }

  /** True when every `versions[i]` is the mirror's version of `tags[i]`. */
  matches(tags: readonly string[], versions: readonly number[]): boolean {
    for (let i = 0; i < tags.length; i++) {
      if (this.#versions.get(tags[i] as string) !== versions[i]) return false;
    }
    return true;
  }

  /** Forgets every version (bus reconnect, overflow) and lets the owner drop dependent entries. */
  reset(): void {
    this.#versions.clear();
    this.epoch++;
    this.invalidations++;
    this.generation++;
    this.#onReset();
    if (this.#listeners !== undefined) for (const listener of this.#listeners) listener.reset();
  }

  /** Tags remembered now. */
  get size(): number {
    return this.#versions.size;
  }
}
