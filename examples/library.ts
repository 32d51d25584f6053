/**
 * The library as its users get it: the built package (`dist/`, made by
 * `tsup`), imported by its own name. Not `src/`: tsx compiles TypeScript with
 * esbuild's keepNames, which wraps every closure in `__name()` and distorts
 * the hot path the benchmark measures. The specifier is a variable so that
 * type-checking reads the types from `src/` and does not need a build.
 */
import type * as Library from "../src/index.ts";

const packageName: string = "prisma-query-cache";

export const { cacheExtension } = (await import(packageName)) as typeof Library;
