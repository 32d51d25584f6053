/**
 * `prisma-query-cache advise`: reads the inspector's JSON (over HTTP, with
 * the headers given) or a file, and prints the advisor's table.
 */
import { once } from "node:events";
import { writeFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { advise } from "../../../src/advisor/advise-command.js";
import type { AdvisorReport } from "../../../src/advisor/advisor-report.js";

const REPORT: AdvisorReport = {
  enabled: true,
  sample: 1,
  trackedKeys: 3,
  untrackedReads: 0,
  missOverheadMs: 0.3,
  rows: [
    {
      model: "User",
      operation: "findUnique",
      shape: 'User|findUnique|{"where":{"id":?}}|',
      reads: 30,
      wouldHit: 27,
      invalidated: 0,
      hitRatio: 0.9,
      dbMs: 0.8,
      savedMs: 21.6,
      netMs: 20.7,
      breakEvenHitRatio: 0.273,
      bytes: 2048,
      suggestedTtlMs: 300_000,
      advice: "cache",
    },
  ],
};

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await advise(args, {
    out: { write: (t: string) => (out += t) },
    err: { write: (t: string) => (err += t) },
  });
  return { code, out, err };
}

describe("advise", () => {
  it("--url reads <mount>/snapshot.json with the headers given, and prints the table", async () => {
    let seen: { url?: string; headers?: IncomingHttpHeaders } = {};
    const server = createServer((req, res) => {
      seen = { url: req.url, headers: req.headers };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ advisor: REPORT }));
    }).listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const result = await run(["--url", `http://127.0.0.1:${port}/ops/cache/`, "--header", "Authorization: Bearer x"]);
      expect(result).toMatchObject({ code: 0, err: "" });
      expect(seen.url).toBe("/ops/cache/snapshot.json");
      expect(seen.headers?.authorization).toBe("Bearer x");
      const [header, line] = result.out.split("\n");
      expect(header).toMatch(/^advice\s+query\s+would hit\s+break-even\s+reads\s+db ms\s+net ms/);
      expect(line).toMatch(
        /^cache\s+User\.findUnique\s+90\.0%\s+27\.3%\s+30\s+0\.80\s+21\s+2\.0 KB\s+5m\s+\{"where":\{"id":\?\}\}/,
      );
      expect(result.out).toContain("a miss adds 0.3 ms");
    } finally {
      server.close();
    }
  });

  it("--file reads $cache.advisor()'s JSON; a server error, a missing source or JSON without a report is an error", async () => {
    const file = join(tmpdir(), `pqc-advise-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(REPORT));
    try {
      expect((await run(["--file", file])).out).toContain("User.findUnique");
      writeFileSync(file, "{}");
      expect(await run(["--file", file])).toMatchObject({ code: 1, err: expect.stringContaining("no advisor report") });
    } finally {
      rmSync(file, { force: true });
    }
    expect((await run([])).code).toBe(2);
    const server = createServer((_, res) => res.writeHead(401).end()).listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const { port } = server.address() as AddressInfo;
      const result = await run(["--url", `http://127.0.0.1:${port}/inspector`]);
      expect(result).toMatchObject({ code: 1, err: expect.stringContaining("401") });
    } finally {
      server.close();
    }
  });
});
