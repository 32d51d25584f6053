import { defineConfig } from "tsup";

// ESM and CommonJS builds with declarations. Prisma and Redis stay external:
// they are the user's (peer dependencies), and must be the same instances.
// No source maps: the build is not minified, so it reads close to the sources,
// and maps pointing at sources the package does not ship would more than
// double its size for stack traces naming files users do not have.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: false,
  clean: true,
  target: "node20",
  external: ["@prisma/client", "ioredis", "lru-cache", "superjson"],
});
