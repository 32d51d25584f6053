/** Assertions on the library's errors, shared by the integration tests. */
import { expect } from "vitest";
import { CacheError } from "../../src/index.js";

/** Asserts that `promise` rejects with a CacheError of `code` whose message matches `message`. */
export async function expectCacheError(promise: PromiseLike<unknown>, code: string, message: RegExp): Promise<void> {
  const error = await Promise.resolve(promise).then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error, "rejected").toBeInstanceOf(CacheError);
  expect(error).toMatchObject({ code });
  expect((error as Error).message).toMatch(message);
}
