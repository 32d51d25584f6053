/** Copies handed to callers: mutating a copy never reaches the cached original (consistency contract, item 7). */
import { Decimal } from "@prisma/client/runtime/client";
import { describe, expect, it } from "vitest";
import { cloneResult, clonerFor } from "../../src/serialize/clone.ts";

describe("cloneResult", () => {
  it("returns primitives and null as they are", () => {
    for (const value of [null, undefined, 0, -1.5, "text", true, 10n]) expect(cloneResult(value)).toBe(value);
  });

  it("deep-copies plain objects: mutating the copy at any depth leaves the original intact", () => {
    const original = { id: 1, profile: { bio: "x", links: { site: "a" } } };
    const copy = cloneResult(original);
    expect(copy).toEqual(original);
    copy.profile.links.site = "changed";
    copy.profile.bio = "changed";
    (copy as Record<string, unknown>).added = true;
    expect(original).toEqual({ id: 1, profile: { bio: "x", links: { site: "a" } } });
  });

  it("deep-copies arrays and the rows in them", () => {
    const original = [
      { id: 1, tags: ["a"] },
      { id: 2, tags: [] as string[] },
    ];
    const copy = cloneResult(original);
    expect(copy).toEqual(original);
    expect(copy).not.toBe(original);
    copy[0]?.tags.push("b");
    copy.pop();
    (copy[0] as { id: number }).id = 99;
    expect(original).toEqual([
      { id: 1, tags: ["a"] },
      { id: 2, tags: [] },
    ]);
  });

  it("copies Dates: setting the copy's time leaves the original's", () => {
    const original = { createdAt: new Date(1_000) };
    const copy = cloneResult(original);
    expect(copy.createdAt).toBeInstanceOf(Date);
    expect(copy.createdAt).not.toBe(original.createdAt);
    copy.createdAt.setTime(2_000);
    expect(original.createdAt.getTime()).toBe(1_000);
  });

  it("copies bytes: writing into the copy leaves the original's", () => {
    const original = { avatar: Uint8Array.from([1, 2, 3]) };
    const copy = cloneResult(original);
    expect(copy.avatar).toBeInstanceOf(Uint8Array);
    expect(copy.avatar.buffer).not.toBe(original.avatar.buffer);
    copy.avatar[0] = 42;
    expect([...original.avatar]).toEqual([1, 2, 3]);
  });

  it("copies a Node Buffer (whose own slice() is a view of the same memory), generically and by the compiled copier, and keeps it a Buffer", () => {
    const original = { avatar: Buffer.from([1, 2, 3]) };
    for (const copy of [
      cloneResult(original),
      clonerFor(original)(original),
      clonerFor([original])([original])[0] as typeof original,
    ]) {
      expect(Buffer.isBuffer(copy.avatar)).toBe(true);
      copy.avatar[0] = 42;
      expect([...original.avatar]).toEqual([1, 2, 3]);
    }
  });

  it("shares Decimals, which are immutable", () => {
    const original = { balance: new Decimal("1.5") };
    expect(cloneResult(original).balance).toBe(original.balance);
  });

  it("copies an own __proto__ key of a JSON-parsed object as a plain own property, without changing the copy's prototype", () => {
    const original = JSON.parse('{"settings": {"__proto__": {"isAdmin": true}, "theme": "dark"}}') as {
      settings: Record<string, unknown>;
    };
    const copy = cloneResult(original);

    expect(Object.getPrototypeOf(copy.settings)).toBe(Object.prototype);
    expect(Object.hasOwn(copy.settings, "__proto__")).toBe(true);
    expect(Object.getOwnPropertyDescriptor(copy.settings, "__proto__")?.value).toEqual({ isAdmin: true });
    expect(copy.settings.isAdmin).toBeUndefined();
    expect(copy.settings.theme).toBe("dark");
    expect(copy).toEqual(original);
    // A copy, not the same object.
    const copiedProto = Object.getOwnPropertyDescriptor(copy.settings, "__proto__")?.value as Record<string, unknown>;
    copiedProto.isAdmin = false;
    expect(Object.getOwnPropertyDescriptor(original.settings, "__proto__")?.value).toEqual({ isAdmin: true });
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });
});

describe("clonerFor: copiers compiled for a value's shape", () => {
  const row = () => ({
    id: 1,
    name: "Ada",
    createdAt: new Date(5),
    avatar: Uint8Array.from([1, 2, 3]),
    balance: new Decimal("2.5"),
    settings: { theme: "dark", favourites: [1, 2], notifications: { email: true }, history: [{ at: 1 }] },
    missing: null,
  });

  it("copies a row deeply: the copy equals the original and shares nothing mutable", () => {
    const original = row();
    const copy = clonerFor(original)(original);
    expect(copy).toStrictEqual(original);
    copy.createdAt.setFullYear(1999);
    copy.avatar[0] = 9;
    copy.settings.favourites.push(3);
    copy.settings.notifications.email = false;
    (copy.settings.history[0] as { at: number }).at = 2;
    expect(original).toStrictEqual(row());
    expect(copy.balance).toBe(original.balance);
  });

  it("copies a list of rows of one shape, and shares the copier between values of that shape", () => {
    const list = [row(), { ...row(), id: 2 }];
    const copy = clonerFor(list)(list);
    expect(copy).toStrictEqual(list);
    expect(copy[0]).not.toBe(list[0]);
    expect(clonerFor(row())).toBe(clonerFor(row()));
  });

  it("falls back to the generic copy for lists of mixed shapes, own __proto__ keys and non-plain values", () => {
    expect(clonerFor([{ a: 1 }, { b: 2 }])).toBe(cloneResult);
    expect(clonerFor(JSON.parse('{"__proto__": {"x": 1}}'))).toBe(cloneResult);
    expect(clonerFor([])).toBe(cloneResult);
    expect(clonerFor(7)).toBe(cloneResult);
    const nested = JSON.parse('{"id": 1, "settings": {"__proto__": {"admin": true}}}') as { settings: object };
    const copy = clonerFor(nested)(nested);
    expect(Object.getPrototypeOf(copy.settings)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(copy.settings, "__proto__")?.value).toEqual({ admin: true });
  });
});
