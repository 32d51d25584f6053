/** The shared tier's entry envelope: `<fingerprint>|<storedAt>|<staleAt>|<expiresAt>|<loadMs>|<versions>|<payload>`. */
import { Decimal } from "@prisma/client/runtime/client";
import { describe, expect, it } from "vitest";
import { decodeEntry, encodeEntry, type Entry } from "../../src/tiers/entry.ts";

const FINGERPRINT = "0123456789abcdefghijkl";
const TAGS = ["q:abc", "m:User"] as const;

const makeEntry = <T>(value: T): Entry<T> => ({
  value,
  storedAt: 1_000,
  staleAt: 61_000,
  expiresAt: 91_000,
  loadMs: 3,
  tags: TAGS,
  versions: [1_700_000_000_000_001, 7],
});
const roundTrip = <T>(entry: Entry<T>) => decodeEntry<T>(encodeEntry(FINGERPRINT, entry), FINGERPRINT, TAGS);

describe("entry envelope", () => {
  it("decodes what it encoded: times, tag versions, value and value types", () => {
    const entry = makeEntry({ id: 1, createdAt: new Date(5), balance: new Decimal("2.5"), visits: 3n });
    const decoded = roundTrip(entry);
    expect(decoded).toEqual(entry);
    expect((decoded as typeof entry).value.balance).toBeInstanceOf(Decimal);
  });

  it("round-trips null, list and number results", () => {
    for (const value of [null, [], [{ id: 1 }], 0]) expect(roundTrip(makeEntry(value))).toEqual(makeEntry(value));
  });

  it("keeps a payload with '|' characters inside intact", () => {
    const entry = makeEntry({ name: "a|b||c", note: "|", tags: ["|x|", "1|2|3"] });
    expect(roundTrip(entry)).toEqual(entry);
  });

  it("uses a pre-serialised payload when given one", () => {
    const text = encodeEntry(FINGERPRINT, makeEntry("ignored"), '{"json":"given"}');
    expect(text).toBe(`${FINGERPRINT}|1000|61000|91000|3|1700000000000001,7|{"json":"given"}`);
    expect(decodeEntry(text, FINGERPRINT, TAGS)).toEqual(makeEntry("given"));
  });

  it("supports entries without tags", () => {
    const entry: Entry<number> = { value: 1, storedAt: 1, staleAt: 2, expiresAt: 2, loadMs: 0, tags: [], versions: [] };
    expect(decodeEntry(encodeEntry(FINGERPRINT, entry), FINGERPRINT, [])).toEqual(entry);
  });

  it('reports "fingerprint" for another query\'s entry, before looking at its payload', () => {
    const text = encodeEntry(FINGERPRINT, makeEntry({ id: 1 }));
    expect(decodeEntry(text, "another-fingerprint-xx", TAGS)).toBe("fingerprint");
    expect(decodeEntry("other|1|2|2|0|3,4|not json at all", FINGERPRINT, TAGS)).toBe("fingerprint");
  });

  it.each([
    ["an empty string", ""],
    ["no separator", "just some text"],
    ["too few fields", `${FINGERPRINT}|1|2|{"json":1}`],
    ["a non-numeric storedAt", `${FINGERPRINT}|soon|2|2|0|1,2|{"json":1}`],
    ["a non-numeric staleAt", `${FINGERPRINT}|1|fresh|2|0|1,2|{"json":1}`],
    ["a non-numeric expiresAt", `${FINGERPRINT}|1|2|later|0|1,2|{"json":1}`],
    ["an infinite expiresAt", `${FINGERPRINT}|1|2|Infinity|0|1,2|{"json":1}`],
    ["a non-numeric load time", `${FINGERPRINT}|1|2|2|slow|1,2|{"json":1}`],
    ["fewer versions than the query has tags", `${FINGERPRINT}|1|2|2|0|1|{"json":1}`],
    ["a non-numeric version", `${FINGERPRINT}|1|2|2|0|1,x|{"json":1}`],
  ])('reports "malformed" for %s', (_label, text) => {
    expect(decodeEntry(text, FINGERPRINT, TAGS)).toBe("malformed");
  });

  it("throws (reported by the caller as a corrupt entry) when a well-framed payload cannot be parsed", () => {
    expect(() => decodeEntry(`${FINGERPRINT}|1|2|2|0|1,2|{not json`, FINGERPRINT, TAGS)).toThrow();
  });
});
