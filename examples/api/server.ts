/**
 * A multi-tenant Express API with prisma-query-cache (`npm run example:api`).
 *
 * What it shows, route by route:
 * - every request runs in `prisma.$cache.middleware()`, a request scope: identical reads in one request cause one
 *   query, cached or not (`GET /:tenant/home` reads the same posts twice);
 * - the tenant comes from the URL into an `AsyncLocalStorage`, and the extension's `context` puts it in every cache
 *   key, so one tenant never gets another's cached result;
 * - cached reads (`cache: true`, `cache: { ttl, tags }`; `GET /:tenant/posts`, `/users`, `/users/:id`), and a write through the client that invalidates them
 *   before it responds (`PATCH /:tenant/users/:id`);
 * - the tag API: `$cache.invalidate({ tags: ["front-page"] })` (`POST /:tenant/front-page/refresh`);
 * - `$cache.getOrSet` for a computed value that a write to `User` or `Post` recomputes (`GET /:tenant/summary`);
 * - `$cache.stats()` (`GET /cache/stats`).
 *
 * Embedded SQLite and the in-process tier by default: no services needed. With `DATABASE_URL` it uses that Postgres
 * (schema from `npm run db:setup`), with `REDIS_URL` the Redis tier and invalidation bus too. `PORT` picks the port
 * (default 3000; 0 = any free port). Ctrl-C closes everything.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AddressInfo } from "node:net";
import express, { type NextFunction, type Request, type Response } from "express";
import type { Redis } from "ioredis";
import { cacheExtension, type CacheError } from "prisma-query-cache";
import { connectRedis, deleteKeys } from "../support/redis.ts";
import { exampleDatabase, seedOnce, type ExampleClient } from "../support/database.ts";

/** The tenant of the current request, set from the URL by the tenant middleware below. */
const tenantScope = new AsyncLocalStorage<{ id: number; slug: string }>();

/** The current request's tenant; the routes run inside the tenant middleware, so it is always there. */
function tenant(): { id: number; slug: string } {
  const current = tenantScope.getStore();
  if (current === undefined) throw new Error("no tenant: this route must run under /:tenant/");
  return current;
}

/**
 * The app's one extended client. `context` is read when each query is awaited, inside the request's
 * AsyncLocalStorage scope; a read outside any tenant (`undefined`) is not cached, and reported.
 */
function cachedClient(base: ExampleClient, redis: Redis | undefined, prefix: string) {
  return base.$extends(
    cacheExtension({
      ...(redis ? { redis } : {}),
      prefix,
      defaults: { ttl: 60 },
      models: { User: { ttl: 300 } },
      context: () => ({ tenant: tenantScope.getStore()?.slug }),
      onError: (error: CacheError) => console.warn(`cache: ${error.message}`),
    }),
  );
}

type App = ReturnType<typeof cachedClient>;

/** The routes. Every handler reads the tenant from the AsyncLocalStorage scope, never from a parameter. */
function routes(prisma: App): express.Router {
  const router = express.Router({ mergeParams: true });
  const frontPage = () =>
    prisma.post.findMany({
      where: { tenantId: tenant().id, published: true },
      orderBy: [{ views: "desc" }, { id: "asc" }],
      take: 5,
      select: { id: true, title: true, views: true },
      cache: { ttl: 30, tags: ["front-page"] },
    });

  router.get("/posts", async (_request, response) => {
    response.json(await frontPage());
  });

  // Two reads of the front page in one request: the request scope answers the second.
  router.get("/home", async (_request, response) => {
    const [posts, again] = [await frontPage(), await frontPage()];
    response.json({ posts, sameAnswer: JSON.stringify(posts) === JSON.stringify(again) });
  });

  router.get("/users", async (_request, response) => {
    response.json(
      await prisma.user.findMany({
        where: { tenantId: tenant().id },
        select: { id: true, name: true },
        orderBy: { id: "asc" },
        cache: true,
      }),
    );
  });

  router.get("/users/:id", async (request, response) => {
    const user = await prisma.user.findUnique({
      where: { id: Number(request.params.id), tenantId: tenant().id },
      select: { id: true, name: true, email: true, role: true },
      cache: true,
    });
    if (user === null) response.status(404).json({ error: "no such user in this tenant" });
    else response.json(user);
  });

  // A write through the cached client: every cached read of this user (and of User lists) is dead before it resolves.
  router.patch("/users/:id", async (request, response) => {
    const name = (request.body as { name?: unknown } | undefined)?.name;
    if (typeof name !== "string" || name === "") {
      response.status(400).json({ error: 'send a JSON body { "name": "..." }' });
      return;
    }
    const updated = await prisma.user.updateMany({
      where: { id: Number(request.params.id), tenantId: tenant().id },
      data: { name },
    });
    response.json({ updated: updated.count });
  });

  // The tag API: an editor's "publish" button, for a dependency the data model cannot see.
  router.post("/front-page/refresh", async (_request, response) => {
    await prisma.$cache.invalidate({ tags: ["front-page"] });
    response.json({ invalidated: ["front-page"] });
  });

  // A computed value, cached per tenant (the context is part of its key); a write to User or Post recomputes it.
  router.get("/summary", async (_request, response) => {
    const { id } = tenant();
    const summary = await prisma.$cache.getOrSet(
      "tenant-summary",
      async () => ({
        users: await prisma.user.count({ where: { tenantId: id } }),
        published: await prisma.post.count({ where: { tenantId: id, published: true } }),
        computedAt: new Date().toISOString(),
      }),
      { ttl: "5m", models: ["User", "Post"] },
    );
    response.json(summary);
  });
  return router;
}

async function main(): Promise<void> {
  const database = await exampleDatabase("api");
  const redis = process.env.REDIS_URL ? await connectRedis(process.env.REDIS_URL) : undefined;
  // One fixed prefix per app in production; this run's data may be new (SQLite), so its entries are this run's too.
  const prefix = `pqc-example-api:${process.pid}:`;
  const seeded = await seedOnce(database.prisma, {
    tenants: [
      { slug: "acme", users: 5 },
      { slug: "globex", users: 3 },
    ],
    postsPerUser: 2,
  });
  const tenants = new Map(seeded.map((each) => [each.slug, each.id]));
  const prisma = cachedClient(database.prisma, redis, prefix);
  await prisma.$cache.ready();

  const app = express();
  app.use(express.json());
  app.use(prisma.$cache.middleware());
  app.get("/cache/stats", (_request, response) => {
    response.json(prisma.$cache.stats());
  });
  app.use(
    "/:tenant",
    (request: Request<{ tenant: string }>, response: Response, next: NextFunction) => {
      const id = tenants.get(request.params.tenant);
      if (id === undefined)
        response.status(404).json({ error: `unknown tenant; try ${[...tenants.keys()].join(", ")}` });
      else tenantScope.run({ id, slug: request.params.tenant }, next);
    },
    routes(prisma),
  );

  const server = app.listen(Number(process.env.PORT ?? 3000), "127.0.0.1");
  await new Promise<void>((resolve, reject) => server.once("listening", resolve).once("error", reject));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const acmeUser = seeded[0]?.userIds[0];
  console.log(
    `prisma-query-cache API example on ${url}: ${database.description}, tiers: in-process${redis ? " + Redis" : " only (set REDIS_URL to add Redis)"}`,
  );
  console.log(`  curl ${url}/acme/posts          # twice: the second is an in-process hit (see /cache/stats)`);
  console.log(`  curl ${url}/globex/posts        # same query, other tenant: its own key`);
  console.log(`  curl ${url}/acme/home           # the same read twice in one request: one query`);
  console.log(`  curl ${url}/acme/users`);
  console.log(`  curl ${url}/acme/users/${acmeUser}`);
  console.log(`  curl -X PATCH -H 'content-type: application/json' -d '{"name":"Ada"}' ${url}/acme/users/${acmeUser}`);
  console.log(`  curl -X POST ${url}/acme/front-page/refresh`);
  console.log(`  curl ${url}/acme/summary        # getOrSet: computed once, recomputed after a write`);
  console.log(`  curl ${url}/cache/stats`);

  const shutdown = async () => {
    await new Promise((resolve) => server.close(resolve));
    // close() leaves the invalidation bus; it comes before the Redis client is quit.
    await prisma.$cache.close();
    await database.close();
    if (redis) {
      await deleteKeys(redis, prefix);
      await redis.quit();
    }
    console.log("closed");
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void shutdown());
}

await main();
