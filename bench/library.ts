/**
 * The library as its users get it, for the benchmark: the built package
 * (`dist/`, made by `tsup`), not `src/`. tsx compiles TypeScript with
 * esbuild's keepNames, which wraps every closure in `__name()` and distorts
 * the hot path the benchmark measures. The package's own name cannot be used
 * here: tsconfig.json maps it to `src/` so that the examples run without a
 * build. The path is a variable so that type-checking reads the types from
 * `src/` and does not need a build either.
 */
import type * as Library from "../src/index.ts";

/** The file the package's `exports` map gives an ESM `import` of `prisma-query-cache`. */
const built: string = new URL("../dist/index.js", import.meta.url).href;

export const { cacheExtension } = (await import(built).catch((error: unknown) => {
  throw new Error(`Could not import the built package (${built}): run \`npx tsup\` first.`, { cause: error });
})) as typeof Library;
