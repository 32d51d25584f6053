/**
 * `postgresEvents({ connectionString })`: one dedicated connection per
 * instance that LISTENs on the event triggers' channel (trigger-sql.ts) and
 * invalidates what each notification names, through the cache's own
 * invalidation path.
 *
 * Every instance listens, rather than one forwarding to the others over the
 * Redis bus: no election, no hand-over window when the forwarder dies, and an
 * instance that cannot reach Redis still hears the database. The price is one
 * idle Postgres connection per instance and one redundant bump per instance
 * per change (docs/events.md weighs it).
 *
 * A connection can be lost without a word (a terminated backend says so; a
 * dead network does not). So the connection is checked every `heartbeat`, and
 * after any loss the listener reconnects with backoff, LISTENs again, and only
 * then invalidates every listened model: whatever changed while it was deaf
 * is covered, and nothing committed after the new LISTEN is missed.
 */
import pg from "pg";
import { CacheError, invalidOption } from "../errors.js";
import { parseDuration, type Duration } from "../options/duration.js";
import type { SchemaGraph } from "../schema/schema-graph.js";
import { joinTableTag, wholeModelTags } from "../tags/tag-names.js";
import type { EventSource, EventSubscription, EventTarget } from "./event-source.js";
import { DEFAULT_EVENTS_CHANNEL, tagsOfPayload, validateChannel } from "./payload.js";
import { eventTables } from "./trigger-sql.js";

/** Options of {@link postgresEvents}. */
export interface PostgresEventsOptions {
  /**
   * The database the triggers notify from: the one your Prisma client writes to. Its own connection: a pooler in
   * transaction mode (PgBouncer) does not keep LISTEN, so point this at Postgres or a session-mode pool.
   */
  connectionString: string;
  /**
   * The channel the triggers notify (`--channel` of `prisma-query-cache events-sql`).
   * @default "prisma_query_cache"
   */
  channel?: string;
  /**
   * The models whose triggers you installed (`--models`). After a reconnect each of them is invalidated whole.
   * @default every model of the schema
   */
  models?: readonly string[];
  /**
   * How often the listening connection is checked with a `SELECT 1`, which must answer within the same time. A
   * connection lost silently (a network partition) is noticed within twice this; a terminated one at once.
   * @default "5s"
   */
  heartbeat?: Duration;
  /**
   * The first wait before reconnecting; it doubles on each failed attempt up to `maxReconnectDelay`.
   * @default "100ms"
   */
  reconnectDelay?: Duration;
  /**
   * The longest wait between two reconnection attempts.
   * @default "5s"
   */
  maxReconnectDelay?: Duration;
}

const KNOWN_OPTIONS = new Set([
  "connectionString",
  "channel",
  "models",
  "heartbeat",
  "reconnectDelay",
  "maxReconnectDelay",
]);

/** What the listener runs with, validated. */
interface ResolvedEvents {
  readonly connectionString: string;
  readonly channel: string;
  readonly models: readonly string[] | undefined;
  readonly heartbeatMs: number;
  readonly reconnectDelayMs: number;
  readonly maxReconnectDelayMs: number;
}

/**
 * An event source for the `events` option: invalidates cached reads when the
 * tables change, whoever changed them (another service, psql, a migration),
 * once the event triggers are installed (`prisma-query-cache events-sql`).
 *
 * @throws CacheError `E_INVALID_OPTION` for a missing `connectionString` or another invalid option
 */
export function postgresEvents(options: PostgresEventsOptions): EventSource {
  const resolved = resolveEventsOptions(options);
  return { attach: (target) => new PostgresListener(resolved, target) };
}

function resolveEventsOptions(options: PostgresEventsOptions): ResolvedEvents {
  if (typeof options !== "object" || options === null)
    throw invalidOption(
      "events",
      "is not an options object",
      'Pass postgresEvents({ connectionString: "postgres://..." }).',
    );
  for (const key of Object.keys(options))
    if (!KNOWN_OPTIONS.has(key))
      throw invalidOption(
        `events.${key}`,
        "is not an option of postgresEvents",
        `Known: ${[...KNOWN_OPTIONS].join(", ")}.`,
      );
  if (typeof options.connectionString !== "string" || options.connectionString === "")
    throw invalidOption(
      "events.connectionString",
      "is missing",
      "Pass the URL of the database your Prisma client writes to (a session, not a transaction-mode pool).",
    );
  if (options.models !== undefined && !Array.isArray(options.models))
    throw invalidOption("events.models", "is not an array", 'List model names, e.g. ["User", "Post"].');
  const reconnectDelayMs =
    options.reconnectDelay === undefined ? 100 : parseDuration(options.reconnectDelay, "events.reconnectDelay");
  const maxReconnectDelayMs =
    options.maxReconnectDelay === undefined
      ? Math.max(5_000, reconnectDelayMs)
      : parseDuration(options.maxReconnectDelay, "events.maxReconnectDelay");
  if (maxReconnectDelayMs < reconnectDelayMs)
    throw invalidOption(
      "events.maxReconnectDelay",
      `(${maxReconnectDelayMs} ms) is shorter than events.reconnectDelay (${reconnectDelayMs} ms)`,
      "Make it at least as long.",
    );
  return {
    connectionString: options.connectionString,
    channel: validateChannel(options.channel ?? DEFAULT_EVENTS_CHANNEL, "events.channel"),
    models: options.models,
    heartbeatMs: options.heartbeat === undefined ? 5_000 : parseDuration(options.heartbeat, "events.heartbeat"),
    reconnectDelayMs,
    maxReconnectDelayMs,
  };
}

/** Tags that stand for every listened model: what a reconnect invalidates. */
function everyListenedTag(graph: SchemaGraph, models: readonly string[] | undefined, channel: string): string[] {
  const tables = eventTables(graph, { channel, ...(models === undefined ? {} : { models }) });
  const tags = new Set<string>();
  for (const model of tables.models) for (const tag of wholeModelTags(model)) tags.add(tag);
  for (const join of tables.joinTables) tags.add(joinTableTag(join.relationName));
  return [...tags];
}

/** The LISTEN connection of one extension instance. */
class PostgresListener implements EventSubscription {
  readonly #options: ResolvedEvents;
  readonly #target: EventTarget;
  /** What a reconnect (or an unreadable notification) invalidates. */
  readonly #everything: readonly string[];
  #client: pg.Client | undefined;
  #closed = false;
  #delayMs: number;
  #retryTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** Tags heard since the last flush: notifications arriving together are invalidated together. */
  #pending = new Set<string>();
  #flushScheduled = false;
  heard = 0;
  connects = 0;
  readonly #ready: Promise<void>;
  #markReady!: () => void;

  constructor(options: ResolvedEvents, target: EventTarget) {
    this.#options = options;
    this.#target = target;
    // Validates the models and the provider against the client's schema now, when $extends runs.
    this.#everything = everyListenedTag(target.graph, options.models, options.channel);
    this.#delayMs = options.reconnectDelayMs;
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
    void this.#connect();
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#heartbeatTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#options.connectionString,
      application_name: "prisma-query-cache events",
      keepAlive: true,
    });
    this.#client = client;
    client.on("notification", (message) => {
      if (client === this.#client && message.channel === this.#options.channel) this.#hear(message.payload ?? "");
    });
    // 'error' without a listener would crash the process; both lead to a reconnect.
    client.on("error", (error) => this.#lost(client, error));
    client.on("end", () => this.#lost(client, new Error("the connection ended")));
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#options.channel}"`);
    } catch (error) {
      this.#lost(client, error);
      return;
    }
    if (client !== this.#client) return;
    this.#delayMs = this.#options.reconnectDelayMs;
    this.#scheduleHeartbeat(client);
    // Only now, with LISTEN in place: a change committed from here on is heard; one before, covered by this.
    await this.#target.invalidate(this.#everything);
    this.connects++;
    this.#markReady();
  }

  /** Drops `client` (once) and reconnects after the current backoff. */
  #lost(client: pg.Client, error: unknown): void {
    if (client !== this.#client || this.#closed) return;
    this.#client = undefined;
    clearTimeout(this.#heartbeatTimer);
    client.removeAllListeners("notification");
    client.on("error", () => undefined); // late errors of the dropped connection go nowhere
    // Not `end()`: on a connection that stopped answering it would wait for a reply forever, keeping the socket.
    client.connection.stream.destroy();
    this.#target.report(
      new CacheError(
        "E_EVENTS",
        `events: the LISTEN connection is lost; reconnecting in ${this.#delayMs} ms, then invalidating every listened model. Until then, changes made outside this client are not heard.`,
        error,
      ),
    );
    const delay = this.#delayMs;
    this.#delayMs = Math.min(this.#options.maxReconnectDelayMs, this.#delayMs * 2);
    this.#retryTimer = setTimeout(() => void this.#connect(), delay);
    this.#retryTimer.unref();
  }

  #scheduleHeartbeat(client: pg.Client): void {
    this.#heartbeatTimer = setTimeout(() => void this.#beat(client), this.#options.heartbeatMs);
    this.#heartbeatTimer.unref();
  }

  async #beat(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the heartbeat got no answer within ${this.#options.heartbeatMs} ms`)),
        this.#options.heartbeatMs,
      );
    });
    try {
      await Promise.race([client.query("SELECT 1"), timeout]);
    } catch (error) {
      this.#lost(client, error);
      return;
    } finally {
      clearTimeout(timer);
    }
    if (client === this.#client) this.#scheduleHeartbeat(client);
  }

  #hear(payload: string): void {
    this.heard++;
    const meaning = tagsOfPayload(this.#target.graph, payload);
    if ("tags" in meaning) {
      this.#queue(meaning.tags);
      return;
    }
    // A notification we cannot read still says something changed: everything listened, then.
    this.#target.report(
      new CacheError(
        "E_EVENTS",
        `events: a notification on "${this.#options.channel}" could not be read (${meaning.unreadable}); invalidating every listened model. Regenerate the triggers with this version of the library.`,
      ),
    );
    this.#queue(this.#everything);
  }

  /**
   * Notifications of one burst (a transaction's statements, a cascade) arrive
   * back to back: they are bumped as one invalidation on the next turn.
   */
  #queue(tags: Iterable<string>): void {
    for (const tag of tags) this.#pending.add(tag);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => {
      this.#flushScheduled = false;
      const batch = [...this.#pending];
      this.#pending = new Set();
      void this.#target.invalidate(batch);
    });
  }
}
