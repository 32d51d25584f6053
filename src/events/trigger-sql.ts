/**
 * The SQL that makes Postgres announce every committed change to the cached
 * tables (docs/events.md): statement-level AFTER triggers with transition
 * tables, one set per table, which `pg_notify` a channel with the model and
 * the primary keys of the rows the statement touched.
 *
 * Why statement-level with transition tables: one notification per statement,
 * not per row, so an `UPDATE` of 10,000 rows costs one `pg_notify`, and the
 * keys come from the rows as the statement left them (old and new, so a
 * changed primary key names both). Postgres delivers notifications only when
 * the transaction commits, and drops them on rollback, which is exactly when
 * an invalidation is due.
 *
 * Why per-table functions: each one reads its key columns with static SQL,
 * planned once per session, rather than dynamic SQL planned on every
 * statement (the cost is measured in bench/events.bench.ts).
 *
 * The output is for the user's migrations, to be reviewed and applied like any
 * other: nothing here touches a database.
 */
import { CacheError } from "../errors.js";
import type { SchemaGraph, SchemaModel } from "../schema/schema-graph.js";
import { DEFAULT_EVENTS_CHANNEL, EVENTS_PAYLOAD_VERSION, MAX_PAYLOAD_BYTES, validateChannel } from "./payload.js";

/** Which tables get triggers and which channel they notify; shared by the generator and the listener. */
export interface EventTriggersOptions {
  /**
   * The channel to notify; the listener (`postgresEvents`) must use the same.
   * Lower-case letters, digits and `_`, starting with a letter or `_`, at most 63 characters.
   * @default "prisma_query_cache"
   */
  channel?: string;
  /**
   * The models whose tables get triggers, by model name (`User`). Implicit many-to-many join tables between two of
   * them are included. Views are skipped (rows of a view change through its tables).
   * @default every model of the schema
   */
  models?: readonly string[];
}

/**
 * Rows a statement may touch before its notification names the table only. The payload limit (8,000 bytes) is
 * reached first for all but the shortest keys; this bound stops the trigger reading a large transition table just to
 * find that out.
 */
const MAX_ROWS_READ = 4000;

/**
 * The SQL migration installing the event triggers on the tables of `models`
 * (default: every model) and on the implicit many-to-many join tables between
 * them. Idempotent: it replaces the functions and triggers it created before.
 *
 * @throws CacheError `E_INVALID_OPTION` for a bad channel or an unknown model name, or when the schema is not a
 *   Postgres one.
 */
export function eventTriggersSql(graph: SchemaGraph, options: EventTriggersOptions = {}): string {
  const { channel, models, joinTables } = eventTables(graph, options);
  const parts = [
    `-- prisma-query-cache event triggers (docs/events.md): every committed change to these tables is announced on`,
    `-- the channel "${channel}", which postgresEvents({ channel: "${channel}" }) listens to.`,
    `-- Generated from the Prisma schema: regenerate it after schema changes (prisma-query-cache events-sql).`,
    "",
  ];
  for (const model of models) parts.push(modelTriggers(model, channel));
  for (const join of joinTables) parts.push(joinTableTriggers(join, channel));
  return parts.join("\n");
}

/** The SQL removing what {@link eventTriggersSql} installed for the same models (a down migration). */
export function dropEventTriggersSql(graph: SchemaGraph, options: EventTriggersOptions = {}): string {
  const { models, joinTables } = eventTables(graph, options);
  const lines = ["-- Removes the prisma-query-cache event triggers.", ""];
  const drop = (table: string, fn: string) => {
    for (const trigger of TRIGGER_NAMES) lines.push(`DROP TRIGGER IF EXISTS ${trigger} ON ${table};`);
    lines.push(`DROP FUNCTION IF EXISTS ${fn}();`, "");
  };
  for (const model of models) drop(tableName(model.dbSchema, model.dbName), functionName(model.dbName));
  for (const join of joinTables) drop(tableName(join.dbSchema, join.table), functionName(join.table));
  return lines.join("\n");
}

/** An implicit many-to-many join table (`_PostToTag`), named by its relation. */
export interface JoinTable {
  readonly relationName: string;
  readonly table: string;
  readonly dbSchema: string | undefined;
}

/** The models and join tables that get triggers, after validating `options`; shared with the listener. */
export function eventTables(
  graph: SchemaGraph,
  options: EventTriggersOptions,
): { channel: string; models: SchemaModel[]; joinTables: JoinTable[] } {
  if (graph.provider !== undefined && graph.provider !== "postgresql" && graph.provider !== "postgres") {
    throw new CacheError(
      "E_INVALID_OPTION",
      `events: the schema's datasource provider is "${graph.provider}"; event triggers need PostgreSQL. Other databases stay bounded by ttl (docs/events.md).`,
    );
  }
  const channel = validateChannel(options.channel ?? DEFAULT_EVENTS_CHANNEL, "channel");
  const names = options.models ?? [...graph.models.keys()];
  const models: SchemaModel[] = [];
  for (const name of names) {
    const model = graph.models.get(name);
    if (model === undefined) {
      throw new CacheError(
        "E_INVALID_OPTION",
        `events: models names "${String(name)}", which the schema does not have. Use model names as written in the schema: ${[...graph.models.keys()].join(", ")}.`,
      );
    }
    if (!model.isView) models.push(model);
  }
  const chosen = new Set(models.map((model) => model.name));
  const joinTables = new Map<string, JoinTable>();
  for (const model of models) {
    for (const relation of model.relations.values()) {
      if (!relation.implicitManyToMany || !chosen.has(relation.target)) continue;
      // Prisma names the join table after the relation; it lives beside the model that sorts first ("A").
      const first = [model.name, relation.target].sort()[0] as string;
      joinTables.set(relation.relationName, {
        relationName: relation.relationName,
        table: `_${relation.relationName}`,
        dbSchema: graph.models.get(first)?.dbSchema,
      });
    }
  }
  return { channel, models, joinTables: [...joinTables.values()] };
}

const TRIGGER_NAMES = ["pqc_events_insert", "pqc_events_update", "pqc_events_delete", "pqc_events_truncate"] as const;

function modelTriggers(model: SchemaModel, channel: string): string {
  const table = tableName(model.dbSchema, model.dbName);
  const fn = functionName(model.dbName);
  const head = `{"v":${EVENTS_PAYLOAD_VERSION},"m":${JSON.stringify(model.name)}`;
  const tableLevel = `${head}}`;
  const keyExpression = keyExpressionOf(model);
  let body: string;
  if (keyExpression === undefined) {
    // No key the listener could turn into a record tag: every change names the table.
    body = notifyWhenRowsChanged(channel, tableLevel);
  } else {
    const keyed = `${head},"k":[`;
    // What is left of the payload limit once the envelope around the keys is counted.
    const budget = MAX_PAYLOAD_BYTES - Buffer.byteLength(`${keyed}]}`);
    body = `${perOperation(
      (rows) => `SELECT count(*), string_agg(DISTINCT k, ',') INTO n, keys
      FROM (SELECT k FROM (${rows(keyExpression)}) changed LIMIT ${MAX_ROWS_READ + 1}) s;`,
      `PERFORM pg_notify(${literal(channel)}, ${literal(tableLevel)});
    RETURN NULL;`,
    )}
  IF n = 0 THEN
    RETURN NULL;
  ELSIF n > ${MAX_ROWS_READ} OR octet_length(keys) > ${budget} THEN
    PERFORM pg_notify(${literal(channel)}, ${literal(tableLevel)});
  ELSE
    PERFORM pg_notify(${literal(channel)}, ${literal(keyed)} || keys || ']}');
  END IF;`;
  }
  return `${functionSql(fn, model.name, body)}
${triggersSql(table, fn)}
`;
}

function joinTableTriggers(join: JoinTable, channel: string): string {
  const fn = functionName(join.table);
  const payload = `{"v":${EVENTS_PAYLOAD_VERSION},"j":${JSON.stringify(join.relationName)}}`;
  // The links themselves do not matter: readers of the relation depend on the join table as a whole (j: tag).
  const body = notifyWhenRowsChanged(channel, payload);
  return `${functionSql(fn, `the join table of ${join.relationName}`, body)}
${triggersSql(tableName(join.dbSchema, join.table), fn)}
`;
}

/**
 * One statement per trigger operation, reading the transition tables that
 * operation has: old and new rows for an UPDATE (a changed key names both),
 * new rows for an INSERT, old rows for a DELETE; TRUNCATE has none and runs
 * `truncate`. PL/pgSQL plans a statement when it first runs, so a branch may
 * name a transition table the other triggers lack.
 */
function perOperation(statement: (rows: (expression: string) => string) => string, truncate: string): string {
  const from =
    (...tables: string[]) =>
    (expression: string) =>
      tables.map((table) => `SELECT ${expression} AS k FROM ${table}`).join(" UNION ALL ");
  return `  IF TG_OP = 'INSERT' THEN
    ${statement(from("pqc_new"))}
  ELSIF TG_OP = 'UPDATE' THEN
    ${statement(from("pqc_old", "pqc_new"))}
  ELSIF TG_OP = 'DELETE' THEN
    ${statement(from("pqc_old"))}
  ELSE
    ${truncate}
  END IF;`;
}

/** Notifies `payload` when the statement touched at least one row (or truncated the table). */
function notifyWhenRowsChanged(channel: string, payload: string): string {
  return `${perOperation(
    (rows) => `SELECT count(*) INTO n FROM (SELECT 1 FROM (${rows("1")}) changed LIMIT 1) s;`,
    "n := 1;",
  )}
  IF n > 0 THEN
    PERFORM pg_notify(${literal(channel)}, ${literal(payload)});
  END IF;`;
}

function functionSql(fn: string, what: string, body: string): string {
  return `-- ${what}
CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $pqc$
DECLARE
  n bigint;
  keys text;
BEGIN
${body}
  RETURN NULL;
END
$pqc$;`;
}

/**
 * One trigger per event: Postgres does not allow transition tables on a
 * trigger with several events, and TRUNCATE has none.
 */
function triggersSql(table: string, fn: string): string {
  return [
    `DROP TRIGGER IF EXISTS pqc_events_insert ON ${table};`,
    `CREATE TRIGGER pqc_events_insert AFTER INSERT ON ${table} REFERENCING NEW TABLE AS pqc_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`,
    `DROP TRIGGER IF EXISTS pqc_events_update ON ${table};`,
    `CREATE TRIGGER pqc_events_update AFTER UPDATE ON ${table} REFERENCING OLD TABLE AS pqc_old NEW TABLE AS pqc_new FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`,
    `DROP TRIGGER IF EXISTS pqc_events_delete ON ${table};`,
    `CREATE TRIGGER pqc_events_delete AFTER DELETE ON ${table} REFERENCING OLD TABLE AS pqc_old FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`,
    `DROP TRIGGER IF EXISTS pqc_events_truncate ON ${table};`,
    `CREATE TRIGGER pqc_events_truncate AFTER TRUNCATE ON ${table} FOR EACH STATEMENT EXECUTE FUNCTION ${fn}();`,
  ].join("\n");
}

/**
 * A SQL expression giving one row's primary key as JSON text (`["42"]`), every value as text so that no bigint
 * loses digits on the way through JSON; `undefined` when the key cannot name a record tag (no primary key, or a key
 * the database compares inexactly: such rows are only ever invalidated through the model).
 */
function keyExpressionOf(model: SchemaModel): string | undefined {
  const key = model.primaryKey;
  if (key === undefined || key.keyKinds.some((kind) => kind === "inexact")) return undefined;
  const values = key.fields.map((field) => {
    const column = identifier(model.columns.get(field) ?? field);
    // bytea's text form depends on the bytea_output setting; hex is fixed.
    return model.scalarTypes.get(field) === "Bytes" ? `encode(${column}, 'hex')` : `${column}::text`;
  });
  return `json_build_array(${values.join(", ")})::text`;
}

function tableName(schema: string | undefined, table: string): string {
  return schema === undefined ? identifier(table) : `${identifier(schema)}.${identifier(table)}`;
}

/** `pqc_notify_<table>`, cut to Postgres' 63-byte identifier limit with a hash of the full name when longer. */
function functionName(table: string): string {
  const name = `pqc_notify_${table}`;
  if (Buffer.byteLength(name) <= 63) return identifier(name);
  let hash = 0;
  for (const char of name) hash = (Math.imul(hash, 31) + (char.codePointAt(0) as number)) >>> 0;
  return identifier(`pqc_notify_${table.slice(0, 40)}_${hash.toString(16)}`);
}

function identifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function literal(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
