/**
 * `createCacheInspector(prisma)`: a `node:http` request handler serving the
 * inspector page and the JSON it polls. Mount it anywhere: the page finds
 * its JSON next to itself, whatever prefix the router stripped or kept.
 *
 * It shows query shapes, hashed keys and dependency tags, never argument
 * values or raw keys; still, it tells how the application's data is read:
 * mount it behind authentication (docs/inspector.md).
 */
import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { CacheError, invalidOption } from "../errors.js";
import { parseDuration, type Duration } from "../options/duration.js";
import { INSPECTOR_JSON_PATH } from "./json-path.js";
import { inspectorPage } from "./page.js";
import { inspectorSnapshot, type InspectedHandle } from "./snapshot.js";

/** Options of {@link createCacheInspector}. */
export interface CacheInspectorOptions {
  /** How often the page polls (a duration). @default "2s" */
  refresh?: Duration;
  /** The page's title, to tell instances apart. @default "prisma-query-cache" */
  title?: string;
}

/** A `node:http` handler; Express and Connect also pass a `next`, which it never needs. */
export type CacheInspectorHandler = (req: IncomingMessage, res: ServerResponse, next?: unknown) => void;

const DEFAULT_REFRESH_MS = 2_000;
const KNOWN_OPTIONS = new Set(["refresh", "title"]);

/**
 * The inspector of a client extended with `cacheExtension`: `GET` on any
 * path serves the page, `GET .../snapshot.json` its data (see
 * `InspectorSnapshot`). With Express: `app.use("/ops/cache", requireAdmin,
 * createCacheInspector(prisma))`. With Fastify: route `/ops/cache` and
 * `/ops/cache/*` to `(request, reply) => { reply.hijack(); inspector(request.raw, reply.raw); }`.
 *
 * Per-model hit ratios, tier latencies and hot keys need `metrics: true`;
 * the advisor's table needs `advisor: true`; admission decisions
 * `admission: "auto"`. The page says which is off.
 *
 * @throws CacheError `E_INVALID_OPTION` when `prisma` has no `$cache` or an option is invalid
 */
export function createCacheInspector(
  prisma: { $cache: InspectedHandle },
  options: CacheInspectorOptions = {},
): CacheInspectorHandler {
  const cache = (prisma as { $cache?: InspectedHandle } | null | undefined)?.$cache;
  if (typeof cache?.metrics !== "function")
    throw invalidOption(
      "createCacheInspector(prisma)",
      "has no `$cache` with `metrics()`",
      "Pass the client extended with cacheExtension(), of this version of prisma-query-cache.",
    );
  if (typeof options !== "object" || options === null)
    throw invalidOption("createCacheInspector(prisma, options)", `is ${String(options)}`, "Pass an object or nothing.");
  const unknown = Object.keys(options).find((key) => !KNOWN_OPTIONS.has(key));
  if (unknown !== undefined)
    throw invalidOption(`createCacheInspector options.${unknown}`, "is not an option", "Use `refresh` or `title`.");
  const refreshMs =
    options.refresh === undefined ? DEFAULT_REFRESH_MS : parseDuration(options.refresh, "createCacheInspector refresh");
  if (refreshMs < 100)
    throw invalidOption(
      "createCacheInspector refresh",
      `is ${refreshMs} ms`,
      'Poll at most 10 times a second: "100ms" or more.',
    );
  const title = options.title ?? "prisma-query-cache";
  if (typeof title !== "string")
    throw invalidOption("createCacheInspector title", `is ${typeof title}`, "Pass a string.");

  return (req, res) => {
    const path = new URL((req as { originalUrl?: string }).originalUrl ?? req.url ?? "/", "http://inspector").pathname;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("Method not allowed\n");
      return;
    }
    if (path.endsWith(`/${INSPECTOR_JSON_PATH}`)) {
      let body: string;
      try {
        body = JSON.stringify(inspectorSnapshot(cache));
      } catch (error) {
        res.writeHead(500, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
        res.end(`Could not read the cache's metrics: ${error instanceof CacheError ? error.message : String(error)}\n`);
        return;
      }
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
      });
      res.end(req.method === "HEAD" ? undefined : body);
      return;
    }
    // The JSON's absolute path: next to the page, whether or not the page's URL ends with a slash.
    const jsonPath = `${path.endsWith("/") ? path : `${path}/`}${INSPECTOR_JSON_PATH}`;
    const nonce = randomBytes(16).toString("base64");
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      // Everything is inline: the nonce lets this page's own script and style run, and nothing else.
      "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    });
    res.end(req.method === "HEAD" ? undefined : inspectorPage({ jsonPath, refreshMs, title, nonce }));
  };
}
