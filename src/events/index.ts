/**
 * `prisma-query-cache/events`: event-driven invalidation for writes that
 * bypass the client, on PostgreSQL (docs/events.md).
 *
 * ```ts
 * import { postgresEvents } from "prisma-query-cache/events";
 * prisma.$extends(cacheExtension({ redis, events: postgresEvents({ connectionString }) }));
 * ```
 *
 * A subpath of its own: it needs `pg`, which the rest of the library does not.
 */
import { parseSchemaGraph } from "../schema/schema-graph.js";
import { dropEventTriggersSql, eventTriggersSql, type EventTriggersOptions } from "./trigger-sql.js";

export { postgresEvents, type PostgresEventsOptions } from "./postgres-events.js";
export { DEFAULT_EVENTS_CHANNEL } from "./payload.js";
export type { EventTriggersOptions } from "./trigger-sql.js";

/** Options of {@link postgresEventTriggersSql}. */
export interface PostgresEventTriggersSqlOptions extends EventTriggersOptions {
  /** The Prisma schema's text (every file of a multi-file schema, concatenated). */
  schema: string;
  /**
   * Emit the SQL that removes the triggers and their functions instead (a down migration).
   * @default false
   */
  drop?: boolean;
}

/**
 * The SQL migration that installs (or, with `drop`, removes) the event
 * triggers: statement-level AFTER INSERT, UPDATE, DELETE and TRUNCATE
 * triggers on every listed model's table and the implicit many-to-many join
 * tables between them, which `pg_notify` the channel with the primary keys
 * the statement touched (the table alone past 8,000 bytes). Review it and
 * add it to your migrations; nothing is applied by the library.
 *
 * @throws CacheError `E_INVALID_OPTION` for a bad channel, an unknown model, or a schema that is not PostgreSQL
 */
export function postgresEventTriggersSql(options: PostgresEventTriggersSqlOptions): string {
  const graph = parseSchemaGraph(options.schema);
  const tables = { channel: options.channel, models: options.models };
  return options.drop === true ? dropEventTriggersSql(graph, tables) : eventTriggersSql(graph, tables);
}
