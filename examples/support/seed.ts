/**
 * Deterministic sample data for the demo, the examples and the benchmark: tenants, users
 * carrying every scalar type a cache can get wrong (Decimal, BigInt, Date,
 * Json), and posts. The same plan always produces the same rows, so runs
 * compare like with like.
 */

type Role = "ADMIN" | "MEMBER" | "GUEST";

interface UserRow {
  tenantId: number;
  email: string;
  name: string;
  role: Role;
  createdAt: Date;
  balance: string;
  visits: bigint;
  settings: { theme: string; locale: string; notifications: { email: boolean; digest: string }; favourites: number[] };
}

interface PostRow {
  tenantId: number;
  authorId: number;
  slug: string;
  title: string;
  body: string;
  published: boolean;
  views: number;
  rating: number;
  publishedAt: Date | null;
}

/**
 * What seeding needs of a Prisma client. Structural, so both generated
 * clients (Postgres and SQLite) fit without a cast.
 */
export interface SeedClient {
  tenant: { create(args: { data: { slug: string; name: string }; select: { id: true } }): PromiseLike<{ id: number }> };
  user: { createManyAndReturn(args: { data: UserRow[]; select: { id: true } }): PromiseLike<{ id: number }[]> };
  post: { createMany(args: { data: PostRow[] }): PromiseLike<unknown> };
}

export interface SeedPlan {
  tenants: ReadonlyArray<{ slug: string; users: number }>;
  postsPerUser: number;
}

export interface SeededTenant {
  id: number;
  slug: string;
  userIds: number[];
}

const NAMES = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger", "Radia"];
const ROLES: readonly Role[] = ["MEMBER", "MEMBER", "ADMIN", "GUEST"];
const DAY_MS = 86_400_000;
const EPOCH = Date.UTC(2024, 0, 1);

/** Creates the tenants of `plan`, their users and their posts, in that order. */
export async function seed(prisma: SeedClient, plan: SeedPlan): Promise<SeededTenant[]> {
  const seeded: SeededTenant[] = [];
  for (const { slug, users: count } of plan.tenants) {
    const tenant = await prisma.tenant.create({
      data: { slug, name: `${capitalise(slug)} Inc.` },
      select: { id: true },
    });
    const users = Array.from({ length: count }, (_, n) => userRow(tenant.id, slug, n));
    const created = await prisma.user.createManyAndReturn({ data: users, select: { id: true } });
    const userIds = created.map((user) => user.id);
    const posts = userIds.flatMap((authorId, n) =>
      Array.from({ length: plan.postsPerUser }, (_, k) => postRow(tenant.id, slug, authorId, n, k)),
    );
    if (posts.length > 0) await prisma.post.createMany({ data: posts });
    seeded.push({ id: tenant.id, slug, userIds });
  }
  return seeded;
}

function userRow(tenantId: number, slug: string, n: number): UserRow {
  const name = NAMES[n % NAMES.length] as string;
  return {
    tenantId,
    email: `${name.toLowerCase()}.${n}@${slug}.example`,
    name: `${name} ${slug.toUpperCase()}-${n}`,
    role: ROLES[n % ROLES.length] as Role,
    createdAt: new Date(EPOCH + n * DAY_MS),
    balance: (((n * 7919) % 100_000) / 100 + 0.05).toFixed(2),
    visits: 9_007_199_254_740_993n + BigInt(n), // above 2^53: a number could not hold it
    settings: {
      theme: n % 2 ? "dark" : "light",
      locale: n % 3 ? "en-GB" : "fr-FR",
      notifications: { email: n % 5 !== 0, digest: "weekly" },
      favourites: [n % 7, n % 11, n % 13],
    },
  };
}

function postRow(tenantId: number, slug: string, authorId: number, n: number, k: number): PostRow {
  const published = (n + k) % 3 !== 0;
  return {
    tenantId,
    authorId,
    slug: `post-${n}-${k}`,
    title: `${capitalise(slug)} notes on caching, part ${n * 10 + k + 1}`,
    body: "Cache invalidation is one of the two hard things.",
    published,
    views: (n * 31 + k * 17) % 1000,
    rating: ((n + k) % 50) / 10,
    publishedAt: published ? new Date(EPOCH + (n + k) * DAY_MS) : null,
  };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
