/**
 * The request scope on its own, with a real VersionMirror: sharing and
 * copies, errors, the validity rule (what an invalidation heard does to an
 * entry), the size bound, and how scopes nest and stay apart. The read path
 * around it is tested against Postgres in test/integration/request-scope.test.ts.
 */
import { describe, expect, it } from "vitest";
import { VersionMirror } from "../../src/invalidation/version-mirror.ts";
import { MAX_SCOPE_ENTRIES, RequestScope, type Scope } from "../../src/read/request-scope.ts";
import { Counters } from "../../src/stats.ts";

/** A scope over a fresh mirror; `hearsEveryInvalidation` can be switched off as a lost bus would. */
function setup() {
  const mirror = new VersionMirror(() => undefined);
  const counters = new Counters();
  const bus = { hears: true };
  const scopes = new RequestScope({ mirror, hearsEveryInvalidation: () => bus.hears }, counters);
  return { mirror, counters, bus, scopes };
}

/** A load that counts its calls and resolves with a new `{ n, list }` each time. */
function countingLoad() {
  const load = () => {
    load.calls++;
    return Promise.resolve({ n: load.calls, list: [load.calls] });
  };
  load.calls = 0;
  return load;
}

/** Reads `key` through the caller's scope, a direct (database) read by default, depending on `tags`. */
function read(
  scopes: RequestScope,
  key: string,
  load: () => PromiseLike<unknown>,
  tags: readonly string[] = ["m:User"],
  direct = true,
): Promise<unknown> {
  return scopes.read(scopes.current() as Scope, key, direct, () => tags, load);
}

describe("RequestScope: sharing", () => {
  it("concurrent identical reads share one load, later ones are served; each caller gets its own copy", async () => {
    const { scopes, counters } = setup();
    const load = countingLoad();
    await scopes.run(async () => {
      const [a, b] = await Promise.all([read(scopes, "k", load), read(scopes, "k", load)]);
      const c = await read(scopes, "k", load);
      expect(load.calls).toBe(1);
      expect([a, b, c]).toEqual([
        { n: 1, list: [1] },
        { n: 1, list: [1] },
        { n: 1, list: [1] },
      ]);
      expect(a).not.toBe(b);
      expect((a as { list: number[] }).list).not.toBe((c as { list: number[] }).list);
    });
    expect(counters.scopeHits).toBe(2);
  });

  it("a caller mutating its result (the first one included) never changes what the next caller gets", async () => {
    const { scopes } = setup();
    const load = countingLoad();
    await scopes.run(async () => {
      const first = (await read(scopes, "k", load)) as { n: number; list: number[] };
      first.n = 99;
      first.list.push(99);
      const second = (await read(scopes, "k", load)) as { n: number; list: number[] };
      second.list.length = 0;
      expect(await read(scopes, "k", load)).toEqual({ n: 1, list: [1] });
    });
  });

  it("different keys are different entries", async () => {
    const { scopes } = setup();
    const load = countingLoad();
    await scopes.run(async () => {
      await read(scopes, "a", load);
      await read(scopes, "b", load);
    });
    expect(load.calls).toBe(2);
  });

  it("an error reaches every caller that joined, and is not kept: the next read loads again", async () => {
    const { scopes } = setup();
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(new Error(`failure ${calls}`));
    };
    await scopes.run(async () => {
      const settled = await Promise.allSettled([read(scopes, "k", failing), read(scopes, "k", failing)]);
      expect(settled.map((s) => s.status)).toEqual(["rejected", "rejected"]);
      expect(calls).toBe(1);
      await expect(read(scopes, "k", failing)).rejects.toThrow("failure 2");
      expect(await read(scopes, "k", () => Promise.resolve("ok"))).toBe("ok");
    });
  });

  it("a load that throws synchronously is a rejected read, not kept", async () => {
    const { scopes } = setup();
    await scopes.run(async () => {
      const throwing = () => {
        throw new Error("sync");
      };
      await expect(read(scopes, "k", throwing)).rejects.toThrow("sync");
      expect(await read(scopes, "k", () => Promise.resolve(1))).toBe(1);
    });
  });

  it("a direct (database) read never reuses an entry a shared tier answered; a tier read may reuse a direct one", async () => {
    const { scopes } = setup();
    const tier = countingLoad();
    const database = countingLoad();
    await scopes.run(async () => {
      await read(scopes, "k", tier, ["m:User"], false);
      expect(await read(scopes, "k", database)).toEqual({ n: 1, list: [1] });
      expect(database.calls).toBe(1);
      // The direct read replaced the entry: a tier read now reuses it.
      await read(scopes, "k", tier, ["m:User"], false);
      expect(tier.calls).toBe(1);
    });
  });

  it("at most MAX_SCOPE_ENTRIES entries are kept; past it reads still work, unkept", async () => {
    const { scopes } = setup();
    const load = countingLoad();
    await scopes.run(async () => {
      for (let i = 0; i < MAX_SCOPE_ENTRIES; i++) await read(scopes, `k${i}`, () => Promise.resolve(i));
      expect(await read(scopes, "over", load)).toEqual({ n: 1, list: [1] });
      expect(await read(scopes, "over", load)).toEqual({ n: 2, list: [2] });
      await read(scopes, "k0", load);
      expect(load.calls, "entries under the bound are still served").toBe(2);
    });
  });
});

describe("RequestScope: the validity rule", () => {
  it("an entry whose tag versions were unknown dies at any invalidation heard, whatever its tag", async () => {
    const { scopes, mirror } = setup();
    const load = countingLoad();
    await scopes.run(async () => {
      await read(scopes, "k", load, ["m:User"]);
      mirror.invalidated("m:Post", 7);
      await read(scopes, "k", load, ["m:User"]);
      expect(load.calls).toBe(2);
      // The new entry started after that invalidation: served.
      await read(scopes, "k", load, ["m:User"]);
      expect(load.calls).toBe(2);
    });
  });

  it("an entry whose versions were known survives invalidations of other tags, and dies at one of its own", async () => {
    const { scopes, mirror } = setup();
    const load = countingLoad();
    mirror.observe("m:User", 1);
    await scopes.run(async () => {
      await read(scopes, "k", load, ["m:User"]);
      mirror.invalidated("m:Post", 7);
      mirror.forget("m:Tag");
      await read(scopes, "k", load, ["m:User"]);
      expect(load.calls).toBe(1);
      mirror.invalidated("m:User", 2);
      await read(scopes, "k", load, ["m:User"]);
      expect(load.calls).toBe(2);
    });
  });

  it("a mirror reset kills every entry, known versions or not", async () => {
    const { scopes, mirror } = setup();
    const load = countingLoad();
    mirror.observe("m:User", 1);
    await scopes.run(async () => {
      await read(scopes, "k", load, ["m:User"]);
      mirror.reset();
      await read(scopes, "k", load, ["m:User"]);
      expect(load.calls).toBe(2);
    });
  });

  it("a read joining a load that started before an invalidation it heard does not join: it loads again", async () => {
    const { scopes, mirror } = setup();
    let release!: (value: string) => void;
    const slow = () => new Promise<string>((resolve) => (release = resolve));
    await scopes.run(async () => {
      const first = read(scopes, "k", slow);
      mirror.invalidated("m:User", 2);
      const second = read(scopes, "k", () => Promise.resolve("after"));
      release("before");
      expect(await first).toBe("before");
      expect(await second).toBe("after");
    });
  });

  it("while the instance does not hear every invalidation, nothing is kept and nothing is reused", async () => {
    const { scopes, bus } = setup();
    const load = countingLoad();
    await scopes.run(async () => {
      bus.hears = false;
      await read(scopes, "k", load);
      await read(scopes, "k", load);
      expect(load.calls, "not kept").toBe(2);
      bus.hears = true;
      await read(scopes, "k", load);
      bus.hears = false;
      await read(scopes, "k", load);
      expect(load.calls, "not reused").toBe(4);
    });
  });

  it("an unbumped tag (an invalidation Redis has not taken yet) is neither kept nor reused", async () => {
    const { scopes, mirror } = setup();
    const load = countingLoad();
    await scopes.run(async () => {
      await read(scopes, "kept", load, ["m:Post"]);
      mirror.markUnbumped(["m:User"]);
      await read(scopes, "k", load, ["m:User"]);
      await read(scopes, "k", load, ["m:User"]);
      expect(load.calls).toBe(3);
      mirror.markBumped(["m:User"]);
      mirror.observe("m:Post", 1);
      await read(scopes, "p", load, ["m:Post"]);
      mirror.markUnbumped(["m:Post"]);
      await read(scopes, "p", load, ["m:Post"]);
      expect(load.calls).toBe(5);
    });
  });

  it("forget(tags) drops the current scope's entries depending on them, and only those", async () => {
    const { scopes } = setup();
    const load = countingLoad();
    await scopes.run(async () => {
      await read(scopes, "user", load, ["m:User", "q:1"]);
      await read(scopes, "post", load, ["m:Post"]);
      scopes.forget(["m:User", "m:Comment"]);
      await read(scopes, "user", load, ["m:User", "q:1"]);
      await read(scopes, "post", load, ["m:Post"]);
      expect(load.calls).toBe(3);
    });
    expect(() => scopes.forget(["m:User"]), "outside a scope: nothing to do").not.toThrow();
  });
});

describe("RequestScope: scopes", () => {
  it("run() resolves with fn's result, awaiting a thenable inside the scope", async () => {
    const { scopes } = setup();
    let seen: Scope | undefined;
    const lazy = { then: (resolve: (value: string) => void) => ((seen = scopes.current()), resolve("lazy")) };
    expect(await scopes.run(() => lazy as unknown as Promise<string>)).toBe("lazy");
    expect(seen).toBeInstanceOf(Map);
    expect(await scopes.run(() => 5)).toBe(5);
    expect(scopes.current()).toBeUndefined();
  });

  it("a nested run() joins the outer scope", async () => {
    const { scopes } = setup();
    await scopes.run(async () => {
      const outer = scopes.current();
      await scopes.run(async () => expect(scopes.current()).toBe(outer));
    });
  });

  it("concurrent runs have separate scopes", async () => {
    const { scopes } = setup();
    const load = countingLoad();
    let aRead!: () => void;
    const aHasRead = new Promise<void>((resolve) => (aRead = resolve));
    await Promise.all([
      scopes.run(async () => {
        await read(scopes, "k", load);
        aRead();
      }),
      scopes.run(async () => {
        await aHasRead;
        await read(scopes, "k", load);
        await read(scopes, "k", load);
      }),
    ]);
    expect(load.calls).toBe(2);
  });

  it("two instances never share a scope", async () => {
    const a = setup().scopes;
    const b = setup().scopes;
    await a.run(async () => {
      expect(a.current()).toBeInstanceOf(Map);
      expect(b.current()).toBeUndefined();
    });
  });

  it("middleware() runs next in a fresh scope, even inside another one", async () => {
    const { scopes } = setup();
    const middleware = scopes.middleware();
    const seen: (Scope | undefined)[] = [];
    middleware({}, {}, () => seen.push(scopes.current()));
    middleware({}, {}, () => seen.push(scopes.current()));
    await scopes.run(async () => {
      middleware({}, {}, () => seen.push(scopes.current()));
      expect(seen[2]).not.toBe(scopes.current());
    });
    expect(seen.every((scope) => scope instanceof Map)).toBe(true);
    expect(new Set(seen).size).toBe(3);
    expect(middleware.length, "three parameters: Express treats four as an error handler").toBe(3);
  });
});
