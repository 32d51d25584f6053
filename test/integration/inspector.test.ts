/**
 * The inspector (`prisma-query-cache/inspector`): mounted under a path prefix
 * in Express and in Fastify, its JSON carries no argument value; in headless
 * Chromium (Debian's `chromium`, driven by playwright-core) the page loads,
 * its numbers change while traffic runs through a real Prisma client on
 * Postgres and Redis, and the browser reports no error.
 *
 * INSPECTOR_SCREENSHOT=docs/inspector.png saves the page as docs show it.
 */
import { existsSync } from "node:fs";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { advise } from "../../src/advisor/advise-command.js";
import { createCacheInspector, type InspectorSnapshot } from "../../src/inspector/index.js";
import { describeWith } from "../helpers/describe-with.js";
import { Harness, type Instance } from "../helpers/harness.js";
import { postgresTarget } from "../helpers/targets.js";
import type { Fixture } from "../helpers/fixture.js";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(
    `\n!!! ${CHROMIUM} is missing: the inspector's browser test is ${process.env.CI ? "FAILING" : "SKIPPED"}. Install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH.\n`,
  );

async function listen(server: Server): Promise<string> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Reads that hit, miss, get invalidated, and are not cached at all: every panel of the page moves. */
async function traffic(instance: Instance, w: Fixture, round: number): Promise<void> {
  const { prisma } = instance;
  for (const id of [w.users.alice, w.users.bob, w.users.carol])
    for (let i = 0; i < 5; i++) await prisma.user.findUnique({ where: { id }, select: { name: true }, cache: true });
  await prisma.post.findMany({ where: { tenantId: w.tenantId }, select: { title: true }, cache: true });
  await prisma.post.update({ where: { id: w.posts.welcome }, data: { views: round }, select: { id: true } });
  // Now and then a write that invalidates the users' reads: the hit-ratio chart dips.
  if (round % 5 === 0)
    await prisma.user.update({ where: { id: w.users.bob }, data: { visits: round }, select: { id: true } });
  for (let i = 0; i < 3; i++)
    await prisma.comment.findMany({ where: { postId: w.posts.welcome }, select: { id: true } });
}

describeWith(["postgres", "redis"], "inspector: postgres + redis", () => {
  const env = new Harness(postgresTarget({ redis: true }));
  let browser: Browser | undefined;
  const servers: Server[] = [];
  beforeAll(() => env.start());
  afterAll(async () => {
    await browser?.close();
    for (const server of servers) server.close();
    await env.stop();
  });

  it("mounted in Express under a prefix: the page points at its JSON, which names shapes and tags but no argument value", async () => {
    const w = await env.world("inspector-json");
    const instance = await env.instance({ metrics: true, advisor: true });
    const app = express();
    app.use("/ops/cache", createCacheInspector(instance.prisma, { title: "orders-api </script>" }));
    const server = createServer(app);
    servers.push(server);
    const base = await listen(server);
    const { prisma } = instance;
    const secret = "alice@example.test";
    await prisma.user.findFirst({ where: { tenantId: w.tenantId, email: secret }, cache: true });
    await prisma.user.findFirst({ where: { tenantId: w.tenantId, email: secret }, cache: true });
    await prisma.user.findMany({ where: { tenantId: w.tenantId, name: "Bob" } }); // uncached: the advisor's
    await prisma.user.update({ where: { id: w.users.alice }, data: { name: "Alice" }, select: { id: true } });

    const page = await fetch(`${base}/ops/cache`);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("script-src 'nonce-");
    const html = await page.text();
    expect(html).toContain('"jsonPath":"/ops/cache/snapshot.json"');
    expect(html, "the title cannot end the script").not.toContain("orders-api </script>");
    expect(await (await fetch(`${base}/ops/cache/`)).text()).toContain('"jsonPath":"/ops/cache/snapshot.json"');

    const response = await fetch(`${base}/ops/cache/snapshot.json`);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const text = await response.text();
    const snapshot = JSON.parse(text) as InspectorSnapshot;
    expect(snapshot.totals).toMatchObject({ l1Hits: 1, misses: 1 });
    expect(snapshot.models.find((m) => m.model === "User")?.reads).toMatchObject({ l1: 1, db: 1, bypass: 1 });
    expect(snapshot.advisor.rows).toMatchObject([{ model: "User", operation: "findMany", reads: 1 }]);
    expect(snapshot.recentInvalidations[0]).toMatchObject({ cause: "write" });
    expect(text).not.toContain(secret);
    expect(text).not.toContain('"Bob"');
    expect((await fetch(`${base}/ops/cache/snapshot.json`, { method: "POST" })).status).toBe(405);
    // `prisma-query-cache advise --url <mount>` prints the advisor's table from it.
    let printed = "";
    const code = await advise(["--url", `${base}/ops/cache`], {
      out: { write: (text: string) => (printed += text) },
      err: { write: (text: string) => (printed += text) },
    });
    expect(code).toBe(0);
    expect(printed).toMatch(/^wait\s+User\.findMany\s+0\.0%\s+\d+\.\d%\s+1\s/m);
  });

  it("mounted in Fastify under a prefix (the raw request keeps the prefix): page and JSON", async () => {
    const instance = await env.instance({ metrics: true });
    const app = Fastify();
    const inspector = createCacheInspector(instance.prisma);
    const route = (request: FastifyRequest, reply: FastifyReply) => {
      reply.hijack();
      inspector(request.raw, reply.raw);
    };
    app.get("/admin/cache", route);
    app.get("/admin/cache/*", route);
    await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      expect(await (await fetch(`${base}/admin/cache`)).text()).toContain('"jsonPath":"/admin/cache/snapshot.json"');
      await instance.prisma.tag.findMany({ take: 1, cache: true });
      const snapshot = (await (await fetch(`${base}/admin/cache/snapshot.json`)).json()) as InspectorSnapshot;
      expect(snapshot.totals.misses).toBe(1);
      expect(snapshot.advisor.enabled).toBe(false);
    } finally {
      await app.close();
    }
  });

  it("bad inspector options fail when it is created, naming the option", () => {
    const prisma = { $cache: { metrics: () => ({}), admission: () => [], advisor: () => ({}) } } as never;
    expect(() => createCacheInspector({} as never)).toThrow(/createCacheInspector\(prisma\)/);
    expect(() => createCacheInspector(prisma, { refresh: "10ms" })).toThrow(/refresh/);
    expect(() => createCacheInspector(prisma, { every: "1s" } as never)).toThrow(/options\.every/);
  });

  (hasChromium || process.env.CI ? it : it.skip)(
    "in headless Chromium: the page loads, its numbers and charts move while traffic runs, and no error is reported",
    async () => {
      const w = await env.world("inspector-page");
      const instance = await env.instance({ metrics: true, advisor: true, admission: { window: 5, minHitRatio: 0.5 } });
      const app = express();
      app.use("/ops/cache", createCacheInspector(instance.prisma, { refresh: "250ms", title: "example app" }));
      const server = createServer(app);
      servers.push(server);
      const base = await listen(server);

      browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
      const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
      const problems: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning")
          problems.push(`${message.type()}: ${message.text()}`);
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
      page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));

      await page.goto(`${base}/ops/cache`);
      // (Polled from here: the page's CSP forbids evaluating strings in it, as waitForFunction would.)
      const text = async (selector: string) => (await page.textContent(selector)) ?? "";
      await expect.poll(() => text("#status"), { timeout: 10_000 }).toMatch(/^updated/);
      const readsBefore = Number(await text("#reads-total"));

      // Traffic while the page polls, until every panel shows it.
      let round = 0;
      const moved = async () =>
        Number(await text("#reads-total")) > readsBefore &&
        (await page.locator("#ratio-chart polyline").count()) > 0 &&
        (await text("#advisor")).includes("Comment.findMany") &&
        (await text("#invalidations")).includes("write") &&
        (await text("#latency")).includes("in-process") &&
        (await page.locator("#hot-keys tbody td.shape").count()) > 0;
      const deadline = Date.now() + 20_000;
      while (!(await moved()) && Date.now() < deadline) await traffic(instance, w, ++round);
      // A few more refreshes of traffic, so the chart has a line and not a point.
      // (Longer for the docs' screenshot, so the chart has a history.)
      const extraRounds = process.env.INSPECTOR_SCREENSHOT ? 80 : 6;
      for (let i = 0; i < extraRounds; i++) {
        await traffic(instance, w, ++round);
        await page.waitForTimeout(250);
      }
      expect(await moved(), "every panel shows the traffic").toBe(true);
      const readsAfter = Number(await page.textContent("#reads-total"));
      expect(readsAfter).toBeGreaterThan(readsBefore);
      const hitRatio = (await page.textContent("#hit-ratio")) ?? "";
      expect(hitRatio).toMatch(/^\d+\.\d%$/);
      expect(await page.textContent("#ratio-legend")).toContain("User");
      expect(await page.textContent("#admission")).toContain("findUnique");
      expect(await page.textContent("#admission")).toContain("break-even");
      expect(await page.textContent("#signals")).toContain("in-process evictions: set");
      // The next refresh shows more reads still.
      await traffic(instance, w, ++round);
      await expect
        .poll(async () => Number(await text("#reads-total")), { timeout: 10_000 })
        .toBeGreaterThan(readsAfter);
      if (process.env.INSPECTOR_SCREENSHOT)
        await page.screenshot({ path: process.env.INSPECTOR_SCREENSHOT, fullPage: true });
      expect(problems).toEqual([]);
    },
    120_000,
  );
});
