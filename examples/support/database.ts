/**
 * The database of the demo and the example apps: embedded SQLite by default
 * (nothing to install or start), Postgres when `DATABASE_URL` is set. Both
 * Prisma clients are generated from prisma/schema.prisma by
 * `node scripts/db-setup.mjs --sqlite-only`, which the npm scripts run first.
 */
import { mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { PrismaLibSql } from "@prisma/adapter-libsql";
import { PrismaPg } from "@prisma/adapter-pg";
import { resetSqlite } from "../../scripts/lib/database.mjs";
import { PrismaClient as PostgresPrismaClient } from "../../test/generated/postgres/client.ts";
import { PrismaClient as SqlitePrismaClient } from "../../test/generated/sqlite/client.ts";
import { seed, type SeededTenant, type SeedPlan } from "./seed.ts";

/**
 * A Prisma client of the example schema. Both generated clients come from the
 * same models; the SQLite one is typed as the Postgres one, and the examples
 * use only what both providers support.
 */
export type ExampleClient = PostgresPrismaClient;

/** Where an example database is: what a second process needs to open it too (see {@link connect}). */
export type DatabaseLocation = { provider: "sqlite"; file: string } | { provider: "postgres"; url: string };

/** An open example database. */
export interface ExampleDatabase {
  /** A client on it. */
  readonly prisma: ExampleClient;
  /** Where it is, for another process. */
  readonly location: DatabaseLocation;
  /** Where the data lives, for the first line an example prints. */
  readonly description: string;
  /** True when the data was created by this run (SQLite), false when it was there before (Postgres). */
  readonly fresh: boolean;
  /** Disconnects the client. */
  close(): Promise<void>;
}

/**
 * A new client on the database at `location`. SQLite's `intMode: "bigint"`: libSQL's default refuses integers above
 * 2^53, and the `visits` column holds some.
 */
export function connect(location: DatabaseLocation): ExampleClient {
  return location.provider === "postgres"
    ? new PostgresPrismaClient({ adapter: new PrismaPg({ connectionString: location.url }) })
    : (new SqlitePrismaClient({
        adapter: new PrismaLibSql({ url: `file:${location.file}`, intMode: "bigint" }),
      }) as unknown as ExampleClient);
}

/** Gitignored folder of the examples' SQLite files. */
const DATA_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", ".data");

/** A fresh SQLite file `examples/.data/<name>.db` with the project's migrations applied. */
export async function sqliteDatabase(name: string): Promise<ExampleDatabase> {
  const file = join(DATA_DIR, `${name}.db`);
  mkdirSync(DATA_DIR, { recursive: true });
  await resetSqlite(file);
  return opened({ provider: "sqlite", file }, `SQLite ${relative(process.cwd(), file)}`, true);
}

/**
 * Postgres at `url`, which must hold the project's schema (`npm run db:setup`
 * creates it, recreating that database's `public` schema). Nothing is dropped here.
 */
export async function postgresDatabase(url: string): Promise<ExampleDatabase> {
  const database = opened({ provider: "postgres", url }, `Postgres ${redact(url)}`, false);
  try {
    await database.prisma.tenant.count();
  } catch (error) {
    await database.close();
    throw new Error(
      `DATABASE_URL (${redact(url)}) has no tables of the example schema, or cannot be reached. ` +
        "Run `npm run db:setup` with that DATABASE_URL first (it recreates that database's public schema), " +
        "or unset DATABASE_URL to use the embedded SQLite.",
      { cause: error },
    );
  }
  return database;
}

/** Postgres when `DATABASE_URL` is set, else a fresh SQLite file named after the example. */
export function exampleDatabase(name: string): Promise<ExampleDatabase> {
  const url = process.env.DATABASE_URL;
  return url ? postgresDatabase(url) : sqliteDatabase(name);
}

function opened(location: DatabaseLocation, description: string, fresh: boolean): ExampleDatabase {
  const prisma = connect(location);
  return { prisma, location, description, fresh, close: () => prisma.$disconnect() };
}

/** `url` without its user and password, for messages. */
function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}

/**
 * The tenants of `plan`, seeded unless a tenant of that slug is there already
 * (a Postgres database from an earlier run keeps its rows; so do its users).
 */
export async function seedOnce(prisma: ExampleClient, plan: SeedPlan): Promise<SeededTenant[]> {
  const tenants: SeededTenant[] = [];
  for (const tenant of plan.tenants) {
    const found = await prisma.tenant.findUnique({
      where: { slug: tenant.slug },
      select: { id: true, users: { select: { id: true }, orderBy: { id: "asc" } } },
    });
    if (found === null) tenants.push(...(await seed(prisma, { ...plan, tenants: [tenant] })));
    else tenants.push({ id: found.id, slug: tenant.slug, userIds: found.users.map((user) => user.id) });
  }
  return tenants;
}
