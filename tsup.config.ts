import { defineConfig } from "tsup";

// ESM and CommonJS builds with declarations. Prisma and Redis stay external:
// they are the user's (peer dependencies), and must be the same instances.
export default defineConfig({
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  sourcemap: true,
  clean: true,
  target: "node20",
  external: ["@prisma/client", "ioredis", "lru-cache", "superjson"],
});
