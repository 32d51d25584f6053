/**
 * Rows a test file seeds for itself: one tenant with users, a profile, posts,
 * tags (implicit m2m), comments and groups (explicit m2m), holding a value of
 * every scalar type. Names carry a random suffix, so files and runs sharing a
 * database never see each other's rows. Tests treat these rows as read-only
 * and create their own rows for anything they change.
 */
import { randomUUID } from "node:crypto";
import { Prisma } from "../generated/postgres/client.ts";
import type { BareClient } from "./clients.js";

/** Exact values of the richest row, checked after every round trip. */
export const ALICE = {
  email: "alice@example.test",
  name: "Alice",
  role: "ADMIN" as const,
  createdAt: new Date("2024-02-29T12:34:56.789Z"),
  /** Beyond Number.MAX_SAFE_INTEGER (2^53), within a signed 64-bit BIGINT. */
  visits: 9_007_199_254_740_993_123n,
  avatar: [0, 1, 127, 128, 255],
  settings: {
    theme: "dark",
    looksLikeDate: "2024-01-02T03:04:05.000Z",
    looksLikeNumber: "12345678901234567890",
    looksLikeBigInt: "123n",
    ratio: 0.1,
    huge: 1e300,
    nothing: null,
    list: [1, "two", null, { deep: [true, false] }],
    nested: { a: { b: { c: "d" } } },
  },
};

/** The seeded rows' ids and the values a test needs to build queries. */
export interface Fixture {
  tenantId: number;
  /** Another tenant, with a user of the same email as Alice. */
  otherTenantId: number;
  /** Unique suffix of this fixture's names. */
  suffix: string;
  users: { alice: number; bob: number; carol: number };
  posts: { welcome: number; draft: number; bobs: number; orphan: number };
  tags: { red: string; blue: string };
  groups: { admins: number; readers: number };
  /** Alice's balance as this database stores it. */
  aliceBalance: string;
}

/**
 * Seeds a fixture. `aliceBalance` is the Decimal text to store: Postgres keeps
 * 65 digits, SQLite stores DECIMAL as a double, so each passes a value it keeps exactly.
 */
export async function seedFixture(db: BareClient, label: string, aliceBalance: string): Promise<Fixture> {
  const suffix = `${label}-${randomUUID().slice(0, 8)}`;
  const tenant = await db.tenant.create({ data: { slug: `tenant-${suffix}`, name: `Tenant ${suffix}` } });
  const other = await db.tenant.create({ data: { slug: `other-${suffix}`, name: `Other ${suffix}` } });
  const tenantId = tenant.id;

  const alice = await db.user.create({
    data: { ...ALICE, tenantId, balance: new Prisma.Decimal(aliceBalance), avatar: new Uint8Array(ALICE.avatar) },
  });
  const bob = await db.user.create({
    data: {
      tenantId,
      email: "bob@example.test",
      role: "MEMBER",
      balance: new Prisma.Decimal("10.5"),
      visits: 3n,
      managerId: alice.id,
      profile: { create: { bio: null, birthday: null } },
    },
  });
  const carol = await db.user.create({
    data: {
      tenantId,
      email: "carol@example.test",
      name: "Carol",
      role: "GUEST",
      managerId: alice.id,
      profile: { create: { bio: "Writes about caches.", birthday: new Date("1990-05-17T00:00:00.000Z") } },
    },
  });
  await db.user.create({
    data: { tenantId: other.id, email: ALICE.email, name: "Alice of the other tenant", role: "MEMBER" },
  });

  const red = `red-${suffix}`;
  const blue = `blue-${suffix}`;
  const welcome = await db.post.create({
    data: {
      tenantId,
      authorId: alice.id,
      slug: "welcome",
      title: "Welcome",
      body: "First post",
      published: true,
      views: 42,
      rating: 4.25,
      publishedAt: new Date("2024-03-01T08:00:00.000Z"),
      tags: { create: [{ name: red }, { name: blue }] },
    },
  });
  const draft = await db.post.create({
    data: {
      tenantId,
      authorId: alice.id,
      slug: "draft",
      title: "Draft",
      views: 0,
      rating: null,
      tags: { connect: [{ name: red }] },
    },
  });
  const bobs = await db.post.create({
    data: {
      tenantId,
      authorId: bob.id,
      slug: "bobs",
      title: "Bob's post",
      published: true,
      views: 7,
      rating: 0.1,
      tags: { connect: [{ name: blue }] },
    },
  });
  const orphan = await db.post.create({
    data: { tenantId, authorId: null, slug: "orphan", title: "Orphan", published: true, views: 7, rating: 2.5 },
  });
  await db.comment.createMany({
    data: [
      { postId: welcome.id, authorId: bob.id, body: "Nice", createdAt: new Date("2024-03-02T00:00:00.000Z") },
      { postId: welcome.id, authorId: carol.id, body: "Agreed", createdAt: new Date("2024-03-03T00:00:00.000Z") },
      { postId: bobs.id, authorId: alice.id, body: "Thanks Bob", createdAt: new Date("2024-03-04T00:00:00.000Z") },
    ],
  });

  const admins = await db.group.create({ data: { name: `admins-${suffix}` } });
  const readers = await db.group.create({ data: { name: `readers-${suffix}` } });
  const joinedAt = new Date("2024-01-15T09:30:00.000Z");
  await db.membership.createMany({
    data: [
      { userId: alice.id, groupId: admins.id, role: "owner", joinedAt },
      { userId: bob.id, groupId: readers.id, joinedAt },
      { userId: carol.id, groupId: readers.id, joinedAt },
    ],
  });

  return {
    tenantId,
    otherTenantId: other.id,
    suffix,
    users: { alice: alice.id, bob: bob.id, carol: carol.id },
    posts: { welcome: welcome.id, draft: draft.id, bobs: bobs.id, orphan: orphan.id },
    tags: { red, blue },
    groups: { admins: admins.id, readers: readers.id },
    aliceBalance,
  };
}

/** Creates a user of the fixture's tenant for a test that changes rows. */
export function createScratchUser(
  db: BareClient,
  fixture: Fixture,
  label: string,
  data: { name?: string | null } = {},
) {
  return db.user.create({
    data: {
      tenantId: fixture.tenantId,
      email: `${label}-${randomUUID().slice(0, 8)}@scratch.test`,
      name: data.name ?? null,
    },
  });
}

/** Deletes a fixture's rows: its tenants (cascading to users, posts, comments, memberships), tags and groups. */
export async function removeFixture(db: BareClient, fixture: Fixture): Promise<void> {
  await db.tenant.deleteMany({ where: { id: { in: [fixture.tenantId, fixture.otherTenantId] } } });
  await db.tag.deleteMany({ where: { name: { endsWith: fixture.suffix } } });
  await db.group.deleteMany({ where: { name: { endsWith: fixture.suffix } } });
}
