/**
 * The contract between the cache and a source of change events for writes
 * that bypass the client (`events` option). The cache hands a source what it
 * needs to turn an event into an invalidation; the source owns its
 * connection. Only `postgresEvents` (prisma-query-cache/events) implements it.
 */
import type { CacheError } from "../errors.js";
import type { SchemaGraph } from "../schema/schema-graph.js";

/** What the cache gives an event source when `$extends` runs. */
export interface EventTarget {
  /** The client's data model. */
  readonly graph: SchemaGraph;
  /**
   * Invalidates tags through the cache's one invalidation path (Redis versions and the bus, or this process's
   * versions). Never rejects.
   */
  invalidate(tags: readonly string[]): Promise<unknown>;
  /** Reports an absorbed failure through `onError`. */
  report(error: CacheError): void;
}

/** A running event source: the cache closes it with `$cache.close()`. */
export interface EventSubscription {
  /** Notifications heard so far. */
  readonly heard: number;
  /** Connections made so far, counted once the invalidation of every listened model that follows each is done. */
  readonly connects: number;
  /** Resolves once the source hears events (its first LISTEN succeeded). */
  ready(): Promise<void>;
  /** Stops listening and closes the connection. */
  close(): Promise<void>;
}

/** An event source, such as `postgresEvents({ connectionString })`, given as the `events` option. */
export interface EventSource {
  /**
   * Called once, when `$extends` runs: validates the source against the client's schema (throwing `CacheError`
   * `E_INVALID_OPTION`) and starts listening.
   */
  attach(target: EventTarget): EventSubscription;
}
