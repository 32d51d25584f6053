/**
 * The real-app benchmark's answer comparison normalises only what it says it does: a comparison that normalised too
 * much would report zero differences for stale answers.
 */
import { describe, expect, it } from "vitest";
import { differences, normalise } from "../../bench/real-app/compare.ts";
import type { WorkloadRequest } from "../../bench/real-app/workload.ts";

const since = Date.parse("2026-06-01T00:00:00.000Z");
const request: WorkloadRequest = { op: "comments", write: false, method: "GET", path: "/api/articles/a/comments" };
const answer = (body: unknown) => ({ request, answer: { status: 200, body: JSON.stringify(body) } });

describe("real-app answer comparison", () => {
  it("replaces timestamps written during the run, and keeps older ones", () => {
    const body = JSON.stringify({ createdAt: "2026-06-01T00:00:01.000Z", updatedAt: "2026-01-01T00:00:00.000Z" });
    expect(JSON.parse(normalise(body, since))).toEqual({
      createdAt: "<written during the run>",
      updatedAt: "2026-01-01T00:00:00.000Z",
    });
  });

  it("compares the lists the app reads unordered as sets, and every other list in order", () => {
    const a = { comments: [{ id: 1 }, { id: 2 }], articles: [{ tagList: ["x", "y"] }, { tagList: [] }] };
    const reordered = { comments: [{ id: 2 }, { id: 1 }], articles: [{ tagList: ["y", "x"] }, { tagList: [] }] };
    const articlesSwapped = { comments: a.comments, articles: [a.articles[1], a.articles[0]] };
    expect(differences([answer(a)], since, [answer(reordered)], since)).toEqual([]);
    expect(differences([answer(a)], since, [answer(articlesSwapped)], since)).toHaveLength(1);
  });

  it("reports a stale answer: a missing comment, an old timestamp, another status", () => {
    const fresh = { comments: [{ id: 1 }, { id: 2, createdAt: "2026-06-02T00:00:00.000Z" }] };
    const missing = { comments: [{ id: 1 }] };
    const oldEdit = { comments: [{ id: 1 }, { id: 2, createdAt: "2026-01-02T00:00:00.000Z" }] };
    expect(differences([answer(fresh)], since, [answer(missing)], since)).toHaveLength(1);
    expect(differences([answer(fresh)], since, [answer(oldEdit)], since)).toHaveLength(1);
    const notFound = { request, answer: { status: 404, body: JSON.stringify(fresh) } };
    expect(differences([answer(fresh)], since, [notFound], since)).toHaveLength(1);
  });
});
