/** Assertions on the library's typed errors. */
import { expect } from "vitest";
import { CacheError, type CacheErrorCode } from "../../../src/index.ts";

/**
 * Runs `action`, expects it to throw a `CacheError` with `code`, and returns
 * the error for further assertions. Fails when nothing (or something else) is thrown.
 */
export function catchCacheError(action: () => unknown, code: CacheErrorCode): CacheError {
  let thrown: unknown;
  try {
    action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, "expected a CacheError to be thrown").toBeInstanceOf(CacheError);
  const error = thrown as CacheError;
  expect(error.code).toBe(code);
  expect(error.message).toContain(`[${code}]`);
  return error;
}
