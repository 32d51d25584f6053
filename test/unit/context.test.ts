/**
 * Context keying (src/keys/context.ts): what the `context` option returns
 * for one read, checked before it becomes part of a key. A missing
 * dimension is an error, never a key shared across contexts (consistency
 * contract, item 4).
 */
import { describe, expect, it } from "vitest";
import { CacheError } from "../../src/index.ts";
import { contextDimensions, isThenable, missingDimension } from "../../src/keys/context.ts";

const read = { model: "User", operation: "findUnique" };

/** The E_CONTEXT error `contextDimensions` returns for `context`, failing the test if it returns dimensions. */
function failureOf(context: () => unknown): CacheError {
  const outcome = contextDimensions(context as () => Record<string, unknown>, read);
  if (!(outcome instanceof CacheError)) throw new Error(`expected an E_CONTEXT error, got ${JSON.stringify(outcome)}`);
  expect(outcome.code).toBe("E_CONTEXT");
  return outcome;
}

describe("contextDimensions", () => {
  it("returns the dimensions as the function returned them", () => {
    const dimensions = { tenantId: 1, locale: "fr", admin: false, region: null };
    expect(contextDimensions(() => dimensions, read)).toBe(dimensions);
  });

  it("names a missing dimension and the read", () => {
    expect(failureOf(() => ({ tenantId: 1, locale: undefined })).message).toContain(
      "context dimension `locale` is undefined; User.findUnique was served uncached",
    );
  });

  it("reports a context that threw, with the error as its cause", () => {
    const thrown = new Error("no tenant");
    const error = failureOf(() => {
      throw thrown;
    });
    expect(error.message).toContain("the `context` function threw");
    expect(error.cause).toBe(thrown);
  });

  it("reports a context that returned no object, with the usual mistake's fix", () => {
    expect(failureOf(() => undefined).message).toContain("A block body needs `return`");
    expect(failureOf(() => "tenant-1").message).toContain("`context` returned a string");
  });
});

describe("missingDimension and isThenable", () => {
  it("finds the first undefined dimension, and nothing when every one is defined", () => {
    expect(missingDimension({ a: 1, b: undefined, c: undefined })).toBe("b");
    expect(missingDimension({ a: null, b: false })).toBeUndefined();
  });

  it("tells a Promise or thenable from dimensions", () => {
    expect(isThenable(Promise.resolve({}))).toBe(true);
    expect(isThenable({ then: () => undefined })).toBe(true);
    expect(isThenable({ tenantId: 1 })).toBe(false);
  });
});
