/**
 * A real generated Prisma client (SQLite variant of the test schema) on a
 * throw-away database file, for unit tests that need `$extends` to run
 * against a genuine client. No services: libSQL (embedded SQLite) on a temp file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { afterAll, beforeAll } from "vitest";
import { resetSqlite } from "../../../scripts/lib/database.mjs";
import { PrismaClient } from "../../generated/sqlite/client.ts";

/** The model names of the test schema, as `_runtimeDataModel` lists them. */
export const MODEL_NAMES = ["Tenant", "User", "Profile", "Post", "Comment", "Tag", "Group", "Membership"] as const;

/** A migrated SQLite file in its own temp directory, and a client on it. */
export interface SqliteFixture {
  readonly prisma: PrismaClient;
  /** The database file, for a second client on the same data. */
  readonly file: string;
  /** Disconnects the client and deletes the temp directory. */
  dispose(): Promise<void>;
}

/** Creates a fresh, migrated SQLite database and an (unextended) client on it. */
export async function createSqliteFixture(): Promise<SqliteFixture> {
  const dir = mkdtempSync(join(tmpdir(), "pqc-unit-"));
  const file = join(dir, "unit.db");
  await resetSqlite(file);
  const prisma = new PrismaClient({ adapter: new PrismaLibSql({ url: `file:${file}`, intMode: "bigint" }) });
  return {
    prisma,
    file,
    async dispose() {
      await prisma.$disconnect();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fixture for the tests of the enclosing `describe`: created before them,
 * disposed of after. Read `fixture()` inside a test or hook, not at collection.
 */
export function useSqliteFixture(): () => SqliteFixture {
  let fixture: SqliteFixture | undefined;
  beforeAll(async () => {
    fixture = await createSqliteFixture();
  });
  afterAll(async () => {
    await fixture?.dispose();
  });
  return () => {
    if (fixture === undefined) throw new Error("useSqliteFixture(): the fixture is read before beforeAll ran");
    return fixture;
  };
}
