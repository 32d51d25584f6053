/**
 * The trigger migration as text: which tables it covers, with which names.
 * What the triggers do on a real database is in
 * test/integration/events-triggers.test.ts.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { postgresEventTriggersSql } from "../../../src/events/index.js";

const SCHEMA = readFileSync(new URL("../../../prisma/schema.prisma", import.meta.url), "utf8");
const triggeredTables = (sql: string) =>
  [...sql.matchAll(/CREATE TRIGGER pqc_events_insert AFTER INSERT ON (\S+)/g)].map((match) => match[1]);

describe("postgresEventTriggersSql", () => {
  it("covers every model's table and the implicit many-to-many join table, with four triggers each", () => {
    const sql = postgresEventTriggersSql({ schema: SCHEMA });
    expect(triggeredTables(sql)).toEqual([
      '"Tenant"',
      '"User"',
      '"Profile"',
      '"Post"',
      '"Comment"',
      '"Tag"',
      '"Group"',
      '"Membership"',
      '"_PostToTag"',
    ]);
    expect(sql.match(/CREATE TRIGGER/g)).toHaveLength(9 * 4);
    expect(sql).toContain(`pg_notify('prisma_query_cache', '{"v":1,"j":"PostToTag"}')`);
  });

  it("uses @@map, @map and @@schema names, skips views, and joins only chosen models", () => {
    const sql = postgresEventTriggersSql({
      schema: `
        datasource db { provider = "postgresql" }
        model Account {
          id    Int    @id @map("account_id")
          items Item[]
          @@map("accounts")
          @@schema("billing")
        }
        model Item {
          id       Int       @id
          accounts Account[]
        }
        model Other {
          id Int @id
        }
        view Report {
          id Int @unique
        }
      `,
      models: ["Account", "Item", "Report"],
      channel: "billing_events",
    });
    expect(triggeredTables(sql)).toEqual(['"billing"."accounts"', '"Item"', '"billing"."_AccountToItem"']);
    expect(sql).toContain(`json_build_array("account_id"::text)`);
    expect(sql).toContain(`pg_notify('billing_events', '{"v":1,"m":"Account"}')`);
  });

  it("notifies the table alone for keys that cannot name a record (no exact primary key)", () => {
    const sql = postgresEventTriggersSql({
      schema: `datasource db { provider = "postgresql" }
        model Reading {
          at    DateTime @id
          value Float
        }`,
    });
    expect(sql).not.toContain("json_build_array");
    expect(sql).toContain(`'{"v":1,"m":"Reading"}'`);
  });

  it("removes what it installed with drop", () => {
    const sql = postgresEventTriggersSql({ schema: SCHEMA, drop: true });
    expect(sql.match(/DROP TRIGGER IF EXISTS/g)).toHaveLength(9 * 4);
    expect(sql).toContain('DROP FUNCTION IF EXISTS "pqc_notify__PostToTag"();');
    expect(sql).not.toContain("CREATE");
  });

  it("refuses an unknown model, a bad channel and a schema that is not PostgreSQL, naming the option", () => {
    expect(() => postgresEventTriggersSql({ schema: SCHEMA, models: ["Usr"] })).toThrow(/models names "Usr"/);
    expect(() => postgresEventTriggersSql({ schema: SCHEMA, channel: "Bad-Name" })).toThrow(/channel/);
    expect(() =>
      postgresEventTriggersSql({ schema: `datasource db { provider = "sqlite" }\nmodel A { id Int @id }` }),
    ).toThrow(/PostgreSQL/);
  });
});

describe("prisma-query-cache events-sql", () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", "src/events/cli.ts", ...args], { encoding: "utf8" });

  it("prints the migration for the schema file it is given", () => {
    const result = run("events-sql", "--schema", "prisma/schema.prisma", "--models", "Post, Tag");
    expect(result.status).toBe(0);
    expect(triggeredTables(result.stdout)).toEqual(['"Post"', '"Tag"', '"_PostToTag"']);
  });

  it("exits non-zero with the reason on bad input", () => {
    const unknown = run("events-sql", "--models", "Nope");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/"Nope"/);
    expect(run("nonsense").status).toBe(2);
  });
});
