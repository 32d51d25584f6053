/**
 * `prisma-query-cache advise`: prints the advisor's table of a running
 * application, read from its inspector's JSON (`createCacheInspector`,
 * docs/inspector.md), or from a file holding that JSON or `$cache.advisor()`'s.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { AdvisorReport } from "./advisor-report.js";
import { formatAdvisorTable } from "./advisor-table.js";
import { INSPECTOR_JSON_PATH } from "../inspector/json-path.js";

/** The `advise` command's usage text (also printed by the command line's `--help`). */
export const ADVISE_USAGE = `Usage: prisma-query-cache advise --url http://localhost:3000/inspector [--header "Authorization: Bearer ..."]
       prisma-query-cache advise --file snapshot.json

Prints the caching advisor's table (docs/advisor.md): for each query shape your app reads
without caching, the hit ratio and database time caching would give, and a suggested ttl.
--url is where createCacheInspector() is mounted (its ${INSPECTOR_JSON_PATH} is read);
--file a saved copy of that JSON, or of JSON.stringify(prisma.$cache.advisor()).`;

/** Output streams, as the command line's `main` passes them. */
interface Streams {
  out: { write(text: string): unknown };
  err: { write(text: string): unknown };
}

/** Runs `advise` with `args` (after the command name); resolves to the exit code. */
export async function advise(args: readonly string[], { out, err }: Streams): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        url: { type: "string" },
        file: { type: "string" },
        header: { type: "string", multiple: true, default: [] },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (error) {
    err.write(`${(error as Error).message}\n${ADVISE_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    out.write(`${ADVISE_USAGE}\n`);
    return 0;
  }
  if ((values.url === undefined) === (values.file === undefined)) {
    err.write(`advise: give one of --url and --file.\n${ADVISE_USAGE}\n`);
    return 2;
  }
  try {
    const json =
      values.file !== undefined ? readFileSync(values.file, "utf8") : await fetchText(values.url, values.header);
    out.write(formatAdvisorTable(advisorReportOf(JSON.parse(json))));
    return 0;
  } catch (error) {
    err.write(`advise: ${(error as Error).message}\n`);
    return 1;
  }
}

/** The inspector's JSON at `url` (its mount point, or the JSON's own address). */
async function fetchText(url: string | undefined, headers: readonly string[]): Promise<string> {
  const target = new URL(url?.endsWith(".json") ? url : `${url?.replace(/\/+$/, "")}/${INSPECTOR_JSON_PATH}`);
  const response = await fetch(target, { headers: headers.map(parseHeader) });
  if (!response.ok) throw new Error(`${target.href} answered ${response.status} ${response.statusText}`);
  return response.text();
}

function parseHeader(header: string): [string, string] {
  const colon = header.indexOf(":");
  if (colon <= 0) throw new Error(`--header ${JSON.stringify(header)} is not "Name: value"`);
  return [header.slice(0, colon).trim(), header.slice(colon + 1).trim()];
}

/** The advisor's report inside the inspector's JSON (`{ advisor }`), or the report itself. */
function advisorReportOf(json: unknown): AdvisorReport {
  const candidate = (json as { advisor?: unknown } | null)?.advisor ?? json;
  if (typeof candidate !== "object" || candidate === null || !Array.isArray((candidate as AdvisorReport).rows))
    throw new Error("the JSON holds no advisor report (expected the inspector's JSON, or $cache.advisor()'s)");
  return candidate as AdvisorReport;
}
