import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Picks Postgres and Redis for the run (containers when a runtime answers and no URL is given) and says which.
    globalSetup: ["test/setup/global-setup.ts"],
    setupFiles: ["test/setup/service-urls.ts"],
    // Integration files share one Postgres database and one Redis; run files
    // one at a time (2-core machines gain little from parallel files anyway).
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    typecheck: {
      enabled: true,
      include: ["test/**/*.test-d.ts"],
      tsconfig: "./tsconfig.json",
    },
  },
});
