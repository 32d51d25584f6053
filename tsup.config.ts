import { defineConfig } from "tsup";

// ESM and CommonJS builds with declarations. Prisma, Redis and pg stay external:
// they are the user's (peer dependencies), and must be the same instances.
// No source maps: the build is not minified, so it reads close to the sources,
// and maps pointing at sources the package does not ship would more than
// double its size for stack traces naming files users do not have.
const external = ["@prisma/client", "ioredis", "lru-cache", "superjson", "pg", "@opentelemetry/api", "prom-client"];

export default defineConfig([
  {
    // `events` is a subpath of its own (prisma-query-cache/events): only it needs `pg`. Likewise the exporters:
    // only `otel` needs `@opentelemetry/api`, only `prometheus` is used with `prom-client`.
    entry: {
      index: "src/index.ts",
      events: "src/events/index.ts",
      otel: "src/exporters/otel.ts",
      prometheus: "src/exporters/prometheus.ts",
      // Only applications serving the inspector page load it (prisma-query-cache/inspector).
      inspector: "src/inspector/index.ts",
    },
    format: ["esm", "cjs"],
    dts: true,
    sourcemap: false,
    clean: true,
    target: "node20",
    external,
  },
  {
    // The command line (`prisma-query-cache events-sql`): ESM only, no declarations.
    entry: { cli: "src/events/cli.ts" },
    format: ["esm"],
    dts: false,
    sourcemap: false,
    clean: false,
    target: "node20",
    external,
  },
]);
