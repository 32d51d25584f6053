/**
 * Compares the answers of two replays of one request stream. The only values normalised are timestamps the run
 * itself wrote (a created article's or comment's `createdAt`/`updatedAt`, an edited article's `updatedAt`): the
 * database's clock, not the cache, decides them. Everything else, ids included, must match byte for byte.
 */
import type { Answer } from "./load.ts";
import type { WorkloadRequest } from "./workload.ts";

const isoTimestamp = /"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"/g;

/** `body` with every ISO timestamp at or after `since` (ms) replaced by `"<written during the run>"`. */
export function normalise(body: string, since: number): string {
  return body.replace(isoTimestamp, (whole, iso: string) =>
    Date.parse(iso) >= since ? '"<written during the run>"' : whole,
  );
}

/** One answer that differs between the two replays. */
export interface Difference {
  index: number;
  request: WorkloadRequest;
  expected: Answer;
  actual: Answer;
}

/**
 * The answers of `actual` that differ from `expected` (the uncached replay), after normalising timestamps written
 * after `expectedStart` / `actualStart` (when each replay began).
 */
export function differences(
  expected: { request: WorkloadRequest; answer: Answer }[],
  expectedStart: number,
  actual: { request: WorkloadRequest; answer: Answer }[],
  actualStart: number,
): Difference[] {
  const found: Difference[] = [];
  expected.forEach((want, index) => {
    const got = actual[index]!;
    const same =
      want.answer.status === got.answer.status &&
      normalise(want.answer.body, expectedStart) === normalise(got.answer.body, actualStart);
    if (!same) found.push({ index, request: want.request, expected: want.answer, actual: got.answer });
  });
  return found;
}
