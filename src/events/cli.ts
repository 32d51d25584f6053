#!/usr/bin/env node
/**
 * The command line. `prisma-query-cache events-sql` prints the event-trigger
 * migration for a Prisma schema (docs/events.md): it reads files and writes
 * stdout, never connecting to a database, so the SQL is reviewed before
 * anything runs it. `prisma-query-cache advise` prints the caching advisor's
 * table of a running app (docs/advisor.md).
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { postgresEventTriggersSql } from "./index.js";
import { advise, ADVISE_USAGE } from "../advisor/advise-command.js";

const USAGE = `Usage: prisma-query-cache events-sql [--schema prisma/schema.prisma] [--channel prisma_query_cache]
                                     [--models User,Post] [--drop] > migration.sql

Prints the SQL that installs (--drop: removes) the event triggers prisma-query-cache's
postgresEvents() listens to. Add it to your migrations; see docs/events.md.

${ADVISE_USAGE}`;

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
async function main(argv: readonly string[], out = process.stdout, err = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "advise") return advise(rest, { out, err });
  if (command !== "events-sql") {
    err.write(`${command === undefined ? "" : `Unknown command "${command}".\n`}${USAGE}\n`);
    return command === "--help" || command === "-h" ? 0 : 2;
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: [...rest],
      options: {
        schema: { type: "string", default: "prisma/schema.prisma" },
        channel: { type: "string" },
        models: { type: "string" },
        drop: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    err.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    out.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const sql = postgresEventTriggersSql({
      schema: readSchema(values.schema),
      drop: values.drop,
      ...(values.channel === undefined ? {} : { channel: values.channel }),
      ...(values.models === undefined ? {} : { models: values.models.split(",").map((name) => name.trim()) }),
    });
    out.write(sql);
    return 0;
  } catch (error) {
    err.write(`events-sql: ${(error as Error).message}\n`);
    return 1;
  }
}

/** A schema file, or a folder of `.prisma` files (Prisma's multi-file schema), read as one text. */
function readSchema(path: string): string {
  if (!statSync(path).isDirectory()) return readFileSync(path, "utf8");
  return readdirSync(path, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".prisma"))
    .sort()
    .map((name) => readFileSync(join(path, name), "utf8"))
    .join("\n");
}

process.exitCode = await main(process.argv.slice(2));
