/** Texts a foreign writer could place in Redis must not pollute prototypes when decoded. */
import { expect, it } from "vitest";
import { deserialize } from "../../../src/serialize/serializer.js";

const payloads = [
  '{"json":{"a":"2024-01-01T00:00:00.000Z"},"meta":{"f":{"__proto__":{"polluted":["Date"]},"a":["Date"]}}}',
  '{"json":{"a":{}},"meta":{"f":{"a":{"__proto__":{"polluted":["Date"]}},"b":["Date"]}}}',
  '{"json":{"__proto__":{"polluted":"2024-01-01T00:00:00.000Z"}},"meta":{"f":{"__proto__":{"polluted":["Date"]},"x":["Date"]}}}',
  '{"json":{"a":"x"},"meta":{"values":{"__proto__.polluted":["Date"]}}}',
  '{"json":{"a":"x"},"meta":{"values":{"constructor.prototype.polluted":["Date"]}}}',
  '~{"json":{"\\u0001pqc:__proto__":{"polluted":1}},"meta":{"f":{"\\u0001pqc:__proto__":{"polluted":["bigint"]},"x":["Date"]}}}',
  '{"json":{"toString":"1"},"meta":{"f":{"toString":["Date"],"valueOf":["Date"]}}}',
  '{"json":[1,2],"meta":{"f":{"*":["bigint"],"constructor":{"prototype":{"polluted":["Date"]}}}}}',
  '{"json":{"a":[]},"meta":{"f":{"a":{"constructor":{"prototype":{"polluted":["Date"]}}},"b":["Date"]}}}',
];

it("foreign payloads: no prototype pollution; a failure is an exception (the read path catches it), never a value", () => {
  for (const text of payloads) {
    try {
      deserialize<Record<string, unknown>>(text);
    } catch (error) {
      // Thrown synchronously, as a decode failure: the read path reports it as E_CORRUPT_ENTRY and reads the database.
      expect(error, text).toBeInstanceOf(Error);
    }
    expect(({} as Record<string, unknown>).polluted, text).toBeUndefined();
    expect(([] as unknown as Record<string, unknown>).polluted, text).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted, text).toBeUndefined();
  }
});
