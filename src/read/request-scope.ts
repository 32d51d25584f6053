/**
 * The request scope (`prisma.$cache.scope(fn)`, `prisma.$cache.middleware()`):
 * inside one scope, identical reads (same `QueryKey.local`: model, operation,
 * arguments, context dimensions, custom tags) share one load. Concurrent ones
 * join the first one's promise; later ones are served from the scope's
 * memory. Every caller gets its own copy (consistency contract, item 7), and
 * a failed read is dropped so the next identical read tries again.
 *
 * Zero consistency risk: an entry records, when its read starts, the
 * mirror's invalidation count and (when the mirror knows them) the versions
 * of its tags. It is reused only while this instance hears every
 * invalidation (no Redis, or a healthy bus), none of its tags is unbumped,
 * and no invalidation of its tags has been heard since: either nothing was
 * invalidated at all, or its versions were known and are still the mirror's.
 * A write through any instance resolves only after this one heard it, so a
 * read that starts after the write resolved never reuses an entry from
 * before it, exactly as for an in-process entry.
 *
 * State is per extension instance, the AsyncLocalStorage included: two
 * clients in one process never see each other's scopes.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { VersionMirror } from "../invalidation/version-mirror.js";
import type { VersionSource } from "../invalidation/version-source.js";
import { cloneResult } from "../serialize/clone.js";
import type { ReadObserver } from "../observe/read-observer.js";
import type { Counters } from "../stats.js";

/** Most entries one scope holds; past it, reads still run but are not kept (a scope is one request, not a cache). */
export const MAX_SCOPE_ENTRIES = 10_000;

/** One read kept by a scope. */
interface ScopeEntry {
  /** Settles with a private copy of the result, which no caller ever receives itself. */
  readonly result: Promise<unknown>;
  /** The read's dependency tags. */
  readonly tags: readonly string[];
  /** The mirror's versions of `tags` when the read started, or undefined when it did not know them all. */
  readonly versions: readonly number[] | undefined;
  /** `mirror.invalidations` when the read started. */
  readonly invalidations: number;
  /**
   * True when the result came straight from the database. A read that did
   * not opt into caching reuses only such entries: it must never be answered
   * by a shared tier, not even through the scope.
   */
  readonly direct: boolean;
}

/** The entries of one scope, by the in-process key text of their read. */
export type Scope = Map<string, ScopeEntry>;

/** What a scope needs to hear about invalidations: the versions' mirror, and whether this instance hears them all. */
export type ScopeInvalidations = Pick<VersionSource, "mirror" | "hearsEveryInvalidation">;

/**
 * A middleware that runs the rest of a request in a fresh scope: Express (`req, res, next`) or a Fastify `onRequest`
 * hook (`request, reply, done`).
 */
export type ScopeMiddleware = (request: unknown, response: unknown, next: () => void) => void;

/** The request scopes of one extension instance. */
export class RequestScope {
  readonly #storage = new AsyncLocalStorage<Scope>();
  readonly #mirror: VersionMirror;
  readonly #versions: ScopeInvalidations;
  readonly #counters: Counters;
  readonly #observer: ReadObserver | undefined;

  /** @param observer told each scope hit (labelled metrics, events) */
  constructor(invalidations: ScopeInvalidations, counters: Counters, observer?: ReadObserver) {
    this.#observer = observer;
    this.#mirror = invalidations.mirror;
    this.#versions = invalidations;
    this.#counters = counters;
  }

  /** The scope the caller runs in, if any. This is the only cost the read path pays outside a scope. */
  current(): Scope | undefined {
    return this.#storage.getStore();
  }

  /**
   * Runs `fn` in a fresh scope and resolves with what it returns (awaited
   * inside the scope, so a lazy Prisma query returned by `fn` still runs in
   * it). Called inside a scope of this instance, `fn` joins that scope: an
   * inner function reading what its caller already read should not read it
   * again, and the entries are exactly as valid either way.
   */
  async run<T>(fn: () => Promise<T> | T): Promise<T> {
    if (this.#storage.getStore() !== undefined) return await fn();
    return this.#storage.run(new Map(), async () => await fn());
  }

  /**
   * A middleware that runs everything after it in a fresh scope, one per
   * request. Always fresh, even where a scope is active: a server started
   * inside a scope must not share it between its requests.
   */
  middleware(): ScopeMiddleware {
    return (_request, _response, next) => {
      this.#storage.run(new Map(), next);
    };
  }

  /**
   * Reads through `scope`: joins or serves a live entry for `key`, or starts
   * `load` and keeps it (when this instance hears every invalidation and
   * the scope is not full).
   *
   * @param direct true when `load` goes straight to the database; a direct read reuses only direct entries
   * @param tagsOf the read's dependency tags (called only when a new entry is kept)
   */
  read(
    scope: Scope,
    key: string,
    direct: boolean,
    tagsOf: () => readonly string[],
    load: () => PromiseLike<unknown>,
  ): Promise<unknown> {
    const started = this.#observer?.timing === true ? performance.now() : undefined;
    const existing = scope.get(key);
    if (existing !== undefined) {
      if ((existing.direct || !direct) && this.#live(existing)) {
        this.#counters.scopeHits++;
        this.#observer?.hit("scope", key, undefined, false, undefined, started);
        return existing.result.then(cloneResult);
      }
      scope.delete(key);
    }
    const loaded = new Promise<unknown>((resolve) => resolve(load()));
    if (scope.size >= MAX_SCOPE_ENTRIES || !this.#versions.hearsEveryInvalidation()) return loaded;
    const tags = tagsOf();
    if (this.#mirror.anyUnbumped(tags)) return loaded;
    // Registered before the caller's own continuation, so the kept copy is taken before the caller can mutate the
    // value.
    const entry: ScopeEntry = {
      result: loaded.then(cloneResult),
      tags,
      versions: this.#mirror.versionsOf(tags),
      invalidations: this.#mirror.invalidations,
      direct,
    };
    scope.set(key, entry);
    // Errors are never kept; this handler also keeps an unjoined failure from being reported as unhandled.
    entry.result.catch(() => {
      if (scope.get(key) === entry) scope.delete(key);
    });
    return loaded;
  }

  /**
   * Drops the current scope's entries that depend on any of `tags`: a write
   * made inside the scope. The validity rule already stops them being
   * reused once the write's invalidation is heard; this makes it immediate
   * and independent of that bookkeeping.
   */
  forget(tags: readonly string[]): void {
    const scope = this.#storage.getStore();
    if (scope === undefined || scope.size === 0 || tags.length === 0) return;
    const written = new Set(tags);
    for (const [key, entry] of scope) {
      if (entry.tags.some((tag) => written.has(tag))) scope.delete(key);
    }
  }

  /** True when no invalidation of the entry's tags can have been missed or heard since its read started. */
  #live(entry: ScopeEntry): boolean {
    if (!this.#versions.hearsEveryInvalidation() || this.#mirror.anyUnbumped(entry.tags)) return false;
    if (this.#mirror.invalidations === entry.invalidations) return true;
    // `epoch` does not move for tags the mirror did not know: only known versions can vouch for an entry.
    return entry.versions !== undefined && this.#mirror.matches(entry.tags, entry.versions);
  }
}
