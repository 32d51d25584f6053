/**
 * The expiry option keys and the per-model settings lookup, each kept in one
 * place (src/options/resolve.ts): every expiry key is accepted wherever
 * expiry is set, and every read and write finds a model's settings the same
 * way.
 */
import { describe, expect, it } from "vitest";
import type { ExpiryOptions } from "../../src/index.ts";
import { EXPIRY_OPTION_KEYS, modelSettings, resolveOptions } from "../../src/options/resolve.ts";
import { planRead } from "../../src/read/query-plan.ts";
import { MODEL_NAMES } from "./support/sqlite-client.ts";

/** A valid value for every expiry option: a `Record` over the type's keys, so a new option needs one here too. */
const SAMPLE: Record<keyof ExpiryOptions, unknown> = {
  ttl: "5s",
  negativeTtl: 1,
  swr: "1m",
  staleWhileRevalidate: 30,
  jitter: 0.2,
  earlyRefresh: 1,
};

describe("EXPIRY_OPTION_KEYS", () => {
  it("are the keys of ExpiryOptions", () => {
    expect([...EXPIRY_OPTION_KEYS].sort()).toEqual(Object.keys(SAMPLE).sort());
  });

  it.each(EXPIRY_OPTION_KEYS)("%s is accepted in defaults, models.X and a query's cache option", (key) => {
    const layer = { [key]: SAMPLE[key as keyof ExpiryOptions] };
    const options = resolveOptions({ defaults: layer, models: { User: layer } }, MODEL_NAMES);
    expect(planRead(options, "Post", layer)).toBeDefined();
  });
});

describe("modelSettings", () => {
  const options = resolveOptions(
    { defaults: { ttl: 60 }, models: { User: { ttl: 5, writeThrough: true }, Post: false } },
    MODEL_NAMES,
  );

  it("is the model's own settings when it has some", () => {
    expect(modelSettings(options, "User")).toMatchObject({ ttlMs: 5_000, writeThrough: true, enabled: true });
  });

  it("is the defaults for a model without settings", () => {
    expect(modelSettings(options, "Tag")).toBe(options.defaults);
  });

  it("is disabled for a model configured false", () => {
    expect(modelSettings(options, "Post")).toMatchObject({ enabled: false, ttlMs: 60_000 });
  });
});
