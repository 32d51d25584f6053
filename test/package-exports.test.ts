/**
 * Smoke test of the BUILT package: the exports map resolves for both
 * `require` and `import`, each build exposes the public API, and each has
 * its declaration file. Resolution goes through the package's own name
 * (Node's package self-reference, which only works through `exports`),
 * from child processes whose cwd is the package root.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string };

/** What each child process prints about the module it loaded. */
interface Probe {
  resolved: string;
  exports: string[];
  cacheExtension: string;
  extension: string;
  errorCodes: Record<string, string>;
  error: { isError: boolean; name: string; code: string; message: string };
  keyFormatVersion: number;
}

/** Shared by both module systems once `m` (the module) and `resolved` are defined. */
const PROBE_BODY = `
const error = new m.CacheError("E_REDIS", "probe");
console.log(JSON.stringify({
  resolved,
  exports: Object.keys(m).filter((key) => key !== "default" && key !== "module.exports").sort(),
  cacheExtension: typeof m.cacheExtension,
  extension: typeof m.cacheExtension(),
  errorCodes: m.errorCodes,
  error: { isError: error instanceof Error, name: error.name, code: error.code, message: error.message },
  keyFormatVersion: m.KEY_FORMAT_VERSION,
}));`;

const PROBES = {
  commonjs: `const m = require(${JSON.stringify(pkg.name)}); const resolved = require.resolve(${JSON.stringify(pkg.name)});${PROBE_BODY}`,
  module: `const m = await import(${JSON.stringify(pkg.name)}); const resolved = import.meta.resolve(${JSON.stringify(pkg.name)});${PROBE_BODY}`,
} as const;

function newestMtime(dir: string): number {
  return Math.max(
    0,
    ...readdirSync(dir, { withFileTypes: true, recursive: true })
      .filter((entry) => entry.isFile())
      .map((entry) => statSync(join(entry.parentPath, entry.name)).mtimeMs),
  );
}

/** Builds dist/ with tsup when it is missing or older than any source file. */
function ensureBuilt(): void {
  const outputs = [
    "index.js",
    "index.cjs",
    "index.d.ts",
    "index.d.cts",
    "events.js",
    "events.cjs",
    "inspector.js",
    "otel.js",
    "otel.cjs",
    "prometheus.js",
    "prometheus.cjs",
    "cli.js",
  ].map((file) => join(dist, file));
  const builtAt = outputs.every(existsSync) ? Math.min(...outputs.map((file) => statSync(file).mtimeMs)) : 0;
  const sourcesAt = Math.max(
    newestMtime(join(root, "src")),
    ...["package.json", "tsup.config.ts"].map((file) => statSync(join(root, file)).mtimeMs),
  );
  if (builtAt < sourcesAt)
    execFileSync(join(root, "node_modules", ".bin", "tsup"), ["--silent"], { cwd: root, stdio: "pipe" });
}

function probe(inputType: keyof typeof PROBES): { result: Probe; stderr: string } {
  const child = spawnSync(process.execPath, [`--input-type=${inputType}`, "-e", PROBES[inputType]], {
    cwd: root,
    encoding: "utf8",
  });
  if (child.status !== 0)
    throw new Error(`node --input-type=${inputType} exited with ${child.status}:\n${child.stderr}`);
  return { result: JSON.parse(child.stdout) as Probe, stderr: child.stderr };
}

describe("the built package", () => {
  beforeAll(() => {
    ensureBuilt();
  }, 120_000);

  describe.each([
    ["commonjs", "require", "index.cjs"],
    ["module", "import", "index.js"],
  ] as const)("loaded with %s (%s)", (inputType, _condition, entry) => {
    let loaded: { result: Probe; stderr: string };
    beforeAll(() => {
      loaded = probe(inputType);
    });

    it(`resolves the package name to dist/${entry} through the exports map`, () => {
      const resolved = loaded.result.resolved.startsWith("file:")
        ? fileURLToPath(loaded.result.resolved)
        : loaded.result.resolved;
      expect(resolved).toBe(join(dist, entry));
    });

    it("exposes the public runtime API", () => {
      expect(loaded.result.exports).toEqual(
        expect.arrayContaining(["CacheError", "KEY_FORMAT_VERSION", "cacheExtension", "errorCodes"]),
      );
    });

    it("exposes cacheExtension as a function that builds a Prisma extension", () => {
      expect(loaded.result.cacheExtension).toBe("function");
      expect(loaded.result.extension).toBe("function");
    });

    it("exposes CacheError as an Error subclass with a code, and every error code", () => {
      expect(loaded.result.error).toEqual({
        isError: true,
        name: "CacheError",
        code: "E_REDIS",
        message: "prisma-query-cache [E_REDIS]: probe",
      });
      expect(Object.keys(loaded.result.errorCodes)).toEqual(
        expect.arrayContaining([
          "E_INVALID_OPTION",
          "E_INVALID_QUERY_OPTION",
          "E_CONTEXT",
          "E_REDIS",
          "E_CORRUPT_ENTRY",
          "E_SERIALIZE",
          "E_PRISMA_INTERNALS",
        ]),
      );
      for (const [key, value] of Object.entries(loaded.result.errorCodes)) expect(value).toBe(key);
      expect(loaded.result.keyFormatVersion).toBeTypeOf("number");
    });

    it("loads without printing warnings", () => {
      expect(loaded.stderr).toBe("");
    });
  });

  it("has a declaration file for each build, declaring the public API", () => {
    for (const file of ["index.d.ts", "index.d.cts"]) {
      const text = readFileSync(join(dist, file), "utf8");
      for (const name of [
        "cacheExtension",
        "CacheError",
        "errorCodes",
        "CacheExtensionOptions",
        "CacheStats",
        "QueryCacheOption",
      ]) {
        expect(text, `${file} declares ${name}`).toMatch(new RegExp(`\\b${name}\\b`));
      }
    }
  });

  it("packs the builds, LICENSE, README and docs, and no source maps (they would point at unshipped sources)", () => {
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8" }),
    ) as Array<{ files: Array<{ path: string }> }>;
    const files = (packed?.files ?? []).map((file) => file.path);
    expect(files).toEqual(
      expect.arrayContaining([
        "LICENSE",
        "README.md",
        "package.json",
        "dist/index.js",
        "dist/index.cjs",
        "dist/events.js",
        "dist/events.cjs",
        "dist/inspector.js",
        "dist/inspector.cjs",
        "dist/otel.js",
        "dist/otel.cjs",
        "dist/prometheus.js",
        "dist/prometheus.cjs",
        "dist/cli.js",
        "docs/options.md",
        "docs/events.md",
        "docs/advisor.md",
        "docs/inspector.md",
        "docs/inspector.png",
      ]),
    );
    expect(files.filter((file) => file.endsWith(".map"))).toEqual([]);
    expect(files.filter((file) => file.startsWith("src/") || file.startsWith("test/"))).toEqual([]);
  });

  it.each([
    ["commonjs", `const m = require(NAME); const resolved = require.resolve(NAME);`, "events.cjs"],
    ["module", `const m = await import(NAME); const resolved = import.meta.resolve(NAME);`, "events.js"],
  ] as const)(
    "resolves the events subpath with %s, exposing the listener and the trigger generator",
    (inputType, load, entry) => {
      const name = JSON.stringify(`${pkg.name}/events`);
      const child = spawnSync(
        process.execPath,
        [
          `--input-type=${inputType}`,
          "-e",
          `const NAME = ${name}; ${load} console.log(JSON.stringify({ resolved, postgresEvents: typeof m.postgresEvents, sql: m.postgresEventTriggersSql({ schema: 'datasource db {\\n provider = "postgresql"\\n}\\nmodel A {\\n id Int @id\\n}' }) }));`,
        ],
        { cwd: root, encoding: "utf8" },
      );
      expect(child.stderr).toBe("");
      const result = JSON.parse(child.stdout) as { resolved: string; postgresEvents: string; sql: string };
      const resolved = result.resolved.startsWith("file:") ? fileURLToPath(result.resolved) : result.resolved;
      expect(resolved).toBe(join(dist, entry));
      expect(result.postgresEvents).toBe("function");
      expect(result.sql).toContain('CREATE TRIGGER pqc_events_insert AFTER INSERT ON "A"');
    },
  );

  it.each([
    ["commonjs", `const m = require(NAME); const resolved = require.resolve(NAME);`, "inspector.cjs"],
    ["module", `const m = await import(NAME); const resolved = import.meta.resolve(NAME);`, "inspector.js"],
  ] as const)("resolves the inspector subpath with %s, exposing createCacheInspector", (inputType, load, entry) => {
    const name = JSON.stringify(`${pkg.name}/inspector`);
    const child = spawnSync(
      process.execPath,
      [
        `--input-type=${inputType}`,
        "-e",
        `const NAME = ${name}; ${load} let error; try { m.createCacheInspector({}); } catch (e) { error = e.code; } console.log(JSON.stringify({ resolved, createCacheInspector: typeof m.createCacheInspector, error }));`,
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(child.stderr).toBe("");
    const result = JSON.parse(child.stdout) as { resolved: string; createCacheInspector: string; error: string };
    const resolved = result.resolved.startsWith("file:") ? fileURLToPath(result.resolved) : result.resolved;
    expect(resolved).toBe(join(dist, entry));
    expect(result).toMatchObject({ createCacheInspector: "function", error: "E_INVALID_OPTION" });
  });

  it.each([
    ["otel", "commonjs", `const m = require(NAME); const resolved = require.resolve(NAME);`, "cjs"],
    ["otel", "module", `const m = await import(NAME); const resolved = import.meta.resolve(NAME);`, "js"],
    ["prometheus", "commonjs", `const m = require(NAME); const resolved = require.resolve(NAME);`, "cjs"],
    ["prometheus", "module", `const m = await import(NAME); const resolved = import.meta.resolve(NAME);`, "js"],
  ] as const)(
    "resolves the %s exporter subpath with %s, exposing its register function",
    (subpath, inputType, load, ext) => {
      const name = JSON.stringify(`${pkg.name}/${subpath}`);
      const child = spawnSync(
        process.execPath,
        [
          `--input-type=${inputType}`,
          "-e",
          `const NAME = ${name}; ${load} console.log(JSON.stringify({ resolved, exports: Object.keys(m).filter((k) => k !== "default" && k !== "module.exports").sort() }));`,
        ],
        { cwd: root, encoding: "utf8" },
      );
      expect(child.stderr).toBe("");
      const result = JSON.parse(child.stdout) as { resolved: string; exports: string[] };
      const resolved = result.resolved.startsWith("file:") ? fileURLToPath(result.resolved) : result.resolved;
      expect(resolved).toBe(join(dist, `${subpath}.${ext}`));
      expect(result.exports).toEqual([subpath === "otel" ? "registerOpenTelemetry" : "registerPrometheus"]);
    },
  );

  it("declares the exporters' libraries as optional peer dependencies, kept out of the builds", () => {
    const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
    };
    for (const peer of ["@opentelemetry/api", "prom-client"]) {
      expect(manifest.peerDependencies[peer], peer).toBeDefined();
      expect(manifest.peerDependenciesMeta[peer]?.optional, peer).toBe(true);
    }
    // Imported, not bundled: the application's own copy must be the one used.
    expect(readFileSync(join(dist, "otel.js"), "utf8")).toMatch(/from "@opentelemetry\/api"/);
    expect(readFileSync(join(dist, "index.js"), "utf8")).not.toMatch(/@opentelemetry|prom-client/);
  });

  it("ships the command line as the package's bin", () => {
    const { bin } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string> };
    const cli = spawnSync(process.execPath, [join(root, bin["prisma-query-cache"] as string), "--help"], {
      cwd: root,
      encoding: "utf8",
    });
    expect(cli.status).toBe(0);
    expect(cli.stderr).toMatch(/events-sql/);
    expect(cli.stderr).toMatch(/advise --url/);
  });

  it("exposes package.json through the exports map", () => {
    const name = execFileSync(
      process.execPath,
      [
        "--input-type=commonjs",
        "-e",
        `process.stdout.write(require(${JSON.stringify(`${pkg.name}/package.json`)}).name)`,
      ],
      { cwd: root, encoding: "utf8" },
    );
    expect(name).toBe(pkg.name);
  });
});
