/**
 * Shared-tier entry size: what a 20-row list with dates and an include costs
 * in Redis, against the plain JSON of the same result (target: at most 1.3x),
 * and what encoding and decoding it costs, with the two superjson formats
 * beside (the folded one entries used before tagged JSON, and superjson's own).
 *
 *   DATABASE_URL=... npx tsx bench/entry-size.bench.ts
 *
 * Reads real rows through Prisma (Postgres), in a tenant of its own that it
 * deletes afterwards.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import { DEFAULT_DATABASE_URL } from "../scripts/lib/database.mjs";
import { deserialize, serialize, superjsonFormat, unfolded } from "../src/serialize/serializer.ts";
import { PrismaClient } from "../test/generated/postgres/client.ts";

const TARGET_RATIO = 1.3;
const ROWS = 20;
const ROUNDS = 2_000;

const prisma = new PrismaClient({
  adapter: new PrismaPg({ connectionString: process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL }),
});

/** Plain JSON of a result, as an API would send it (BigInt and Decimal as strings, bytes as base64). */
function plainJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === "bigint" ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v,
  );
}

function perCallMicros(fn: () => unknown): number {
  for (let i = 0; i < 200; i++) fn();
  const start = performance.now();
  for (let i = 0; i < ROUNDS; i++) fn();
  return ((performance.now() - start) * 1000) / ROUNDS;
}

const tenant = await prisma.tenant.create({ data: { slug: `entry-size-${process.pid}`, name: "entry size" } });
try {
  const author = await prisma.user.create({
    data: { tenantId: tenant.id, email: `author-${process.pid}@b.c`, name: "Ann" },
  });
  for (let i = 0; i < ROWS; i++) {
    await prisma.post.create({
      data: {
        tenantId: tenant.id,
        authorId: author.id,
        slug: `post-${i}`,
        title: `Post number ${i}`,
        body: "A body of a few words, as a list page shows.",
        published: true,
        publishedAt: new Date(Date.UTC(2024, 0, 1 + i)),
        rating: i / 4,
        comments: { create: { authorId: author.id, body: "Nice" } },
      },
    });
  }
  const shapes: Array<[string, () => Promise<unknown>]> = [
    ["findMany 20 posts", () => prisma.post.findMany({ where: { tenantId: tenant.id }, orderBy: { id: "asc" } })],
    [
      "findMany 20 posts, include author + comments",
      () =>
        prisma.post.findMany({
          where: { tenantId: tenant.id },
          orderBy: { id: "asc" },
          include: { author: true, comments: true },
        }),
    ],
  ];
  console.log(`entry size (node ${process.version}); target: entry <= ${TARGET_RATIO}x the result's plain JSON`);
  for (const [name, read] of shapes) {
    const value = await read();
    const plain = plainJson(value).length;
    const text = serialize(value);
    const compact = text.length;
    const folded = superjsonFormat.stringify(value);
    const superText = unfolded.stringify(value);
    const ratio = (bytes: number): string => `${bytes} B (${(bytes / plain).toFixed(2)}x)`;
    const timing = (encode: () => unknown, decode: () => unknown): string =>
      `encode ${perCallMicros(encode).toFixed(1)} us, decode ${perCallMicros(decode).toFixed(1)} us`;
    console.log(`${name}: plain JSON ${plain} B`);
    console.log(
      `  entry (tagged JSON)      ${ratio(compact)} | ${timing(
        () => serialize(value),
        () => deserialize(text),
      )}`,
    );
    console.log(
      `  superjson, folded        ${ratio(folded.length)} | ${timing(
        () => superjsonFormat.stringify(value),
        () => superjsonFormat.parse(folded),
      )}`,
    );
    console.log(
      `  superjson, its own text  ${ratio(superText.length)} | ${timing(
        () => unfolded.stringify(value),
        () => unfolded.parse(superText),
      )}`,
    );
    console.log(
      `  ${name}: entry / plain JSON ${(compact / plain).toFixed(2)} / target ${TARGET_RATIO} ${compact / plain <= TARGET_RATIO ? "PASS" : "FAIL"}`,
    );
  }
} finally {
  await prisma.tenant.delete({ where: { id: tenant.id } });
  await prisma.$disconnect();
}
