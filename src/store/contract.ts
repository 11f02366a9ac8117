import { beforeAll, describe, expect, it } from "vitest";
import type { Store } from "./Store.ts";

/** How the contract lets time pass: real adapters sleep, a `MemoryStore` moves its clock. */
export type ContractOptions = {
  /** Lets `ms` pass for the store; default a real `setTimeout`. Called once per suite. */
  elapse?: (ms: number) => Promise<void>;
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Registers the behaviour every `Store` adapter must have. `make` may return a shared
 * store: every test writes under its own random key prefix.
 */
export function describeStoreContract(
  name: string,
  make: () => Promise<Store> | Store,
  options: ContractOptions = {},
): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeAll(async () => {
      store = await make();
    });
    const keys = () => {
      const prefix = `contract:${crypto.randomUUID()}:`;
      return (name: string) => prefix + name;
    };

    it("behavior: a missing key reads as null and deletes as false", async () => {
      const key = keys();
      expect(await store.get(key("missing"))).toBeNull();
      expect(await store.delete(key("missing"))).toBe(false);
    });

    it("behavior: put, get, overwrite and delete round-trip", async () => {
      const key = keys();
      await store.put(key("a"), "one");
      expect(await store.get(key("a"))).toBe("one");
      await store.put(key("a"), "two");
      expect(await store.get(key("a"))).toBe("two");
      expect(await store.delete(key("a"))).toBe(true);
      expect(await store.get(key("a"))).toBeNull();
      expect(await store.delete(key("a"))).toBe(false);
    });

    it("behavior: unicode, JSON, empty and look-alike values come back exactly", async () => {
      const key = keys();
      // "OK" is what Redis answers to SET; "1" and "null" look like other replies.
      const values = [
        "",
        "OK",
        "1",
        "null",
        '{"a":[1,"ü"]}',
        "⚡ sats → 𝔹 ₿ 日本語 e\u0301",
        "a\nb\tc",
      ];
      for (const [i, value] of values.entries()) await store.put(key(`v${i}`), value);
      for (const [i, value] of values.entries()) expect(await store.get(key(`v${i}`))).toBe(value);
      await store.put(key("ключ ⚡"), "unicode key");
      expect(await store.get(key("ключ ⚡"))).toBe("unicode key");
    });

    it("behavior: a 100 KB value round-trips", async () => {
      const key = keys();
      const value = "ln402-⚡".repeat(12_800); // 102,400 UTF-16 units, more in UTF-8
      await store.put(key("big"), value);
      expect(await store.get(key("big"))).toBe(value);
    });

    it("behavior: putIfAbsent sets once, then refuses and leaves the value", async () => {
      const key = keys();
      expect(await store.putIfAbsent(key("p"), "first")).toBe(true);
      expect(await store.putIfAbsent(key("p"), "second")).toBe(false);
      expect(await store.get(key("p"))).toBe("first");
    });

    it("behavior: compareAndSwap creates only when absent, swaps only on a match, deletes with null", async () => {
      const key = keys();
      expect(await store.compareAndSwap(key("c"), "nope", "x")).toBe(false);
      expect(await store.get(key("c"))).toBeNull();
      expect(await store.compareAndSwap(key("c"), null, "v1")).toBe(true);
      expect(await store.compareAndSwap(key("c"), null, "again")).toBe(false);
      expect(await store.compareAndSwap(key("c"), "stale", "v2")).toBe(false);
      expect(await store.get(key("c"))).toBe("v1");
      expect(await store.compareAndSwap(key("c"), "v1", "v2")).toBe(true);
      expect(await store.get(key("c"))).toBe("v2");
      expect(await store.compareAndSwap(key("c"), "v2", null)).toBe(true);
      expect(await store.get(key("c"))).toBeNull();
      expect(await store.compareAndSwap(key("c"), "v2", null)).toBe(false);
    });

    it("behavior: increment counts by 1 or `by`, starting the window once and keeping it", async () => {
      const key = keys();
      const first = await store.increment(key("n"), { ttlSecs: 60 });
      expect(first.value).toBe(1);
      expect(first.ttlSecs).toBeGreaterThan(0);
      expect(first.ttlSecs).toBeLessThanOrEqual(60);
      const second = await store.increment(key("n"), { by: 5, ttlSecs: 3600 });
      expect(second.value).toBe(6);
      expect(second.ttlSecs).toBeLessThanOrEqual(60); // the later, longer window is ignored
      expect(await store.get(key("n"))).toBe("6");
      expect((await store.increment(key("n"), { by: -10, ttlSecs: 60 })).value).toBe(-4);
    });

    it("behavior: increment gives a counter that a put left without expiry a window", async () => {
      const key = keys();
      await store.put(key("n"), "41");
      const result = await store.increment(key("n"), { ttlSecs: 30 });
      expect(result.value).toBe(42);
      expect(result.ttlSecs).toBeGreaterThan(0);
      expect(result.ttlSecs).toBeLessThanOrEqual(30);
    });

    it("error: increment of a non-integer value and invalid TTLs or steps are rejected", async () => {
      const key = keys();
      await store.put(key("s"), "not a number");
      await expect(store.increment(key("s"), { ttlSecs: 10 })).rejects.toThrow(/integer counter/);
      expect(await store.get(key("s"))).toBe("not a number");
      await expect(store.put(key("t"), "v", { ttlSecs: 0 })).rejects.toThrow(/ttlSecs/);
      await expect(store.putIfAbsent(key("t"), "v", { ttlSecs: -1 })).rejects.toThrow(/ttlSecs/);
      await expect(store.increment(key("t"), { ttlSecs: Number.NaN })).rejects.toThrow(/ttlSecs/);
      await expect(store.increment(key("t"), { by: 1.5, ttlSecs: 10 })).rejects.toThrow(/by/);
      expect(await store.get(key("t"))).toBeNull();
    });

    it("behavior: keys expire after their TTL for every kind of write (one real wait)", async () => {
      const key = keys();
      await store.put(key("put"), "v", { ttlSecs: 1 });
      expect(await store.putIfAbsent(key("pia"), "v", { ttlSecs: 1 })).toBe(true);
      expect(await store.compareAndSwap(key("cas"), null, "v", { ttlSecs: 1 })).toBe(true);
      expect((await store.increment(key("inc"), { ttlSecs: 1 })).value).toBe(1);
      await store.put(key("stays"), "v", { ttlSecs: 60 });
      await store.put(key("forever"), "v", { ttlSecs: 1 });
      await store.put(key("forever"), "v"); // a write without ttlSecs clears the expiry
      expect(await store.get(key("put"))).toBe("v");

      await (options.elapse ?? sleep)(1_500);

      for (const name of ["put", "pia", "cas", "inc"])
        expect(await store.get(key(name))).toBeNull();
      expect(await store.get(key("stays"))).toBe("v");
      expect(await store.get(key("forever"))).toBe("v");
      expect(await store.delete(key("put"))).toBe(false);
      expect(await store.putIfAbsent(key("pia"), "again")).toBe(true);
      expect(await store.compareAndSwap(key("cas"), null, "again")).toBe(true);
      expect((await store.increment(key("inc"), { ttlSecs: 60 })).value).toBe(1);
    });

    it("concurrency: of 50 simultaneous putIfAbsent on one key exactly one wins", async () => {
      const key = keys();
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.putIfAbsent(key("race"), `writer-${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.get(key("race"))).toBe(`writer-${results.indexOf(true)}`);
    });

    it("concurrency: 50 simultaneous increments count to 50, each seeing a distinct value", async () => {
      const key = keys();
      const results = await Promise.all(
        Array.from({ length: 50 }, () => store.increment(key("count"), { ttlSecs: 60 })),
      );
      const seen = results.map((r) => r.value).sort((a, b) => a - b);
      expect(seen).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(await store.get(key("count"))).toBe("50");
    });

    it("concurrency: of 20 simultaneous compareAndSwap from one value exactly one wins", async () => {
      const key = keys();
      await store.put(key("cas"), "start");
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.compareAndSwap(key("cas"), "start", `next-${i}`),
        ),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.get(key("cas"))).toBe(`next-${results.indexOf(true)}`);
    });

    it("concurrency: of 20 simultaneous creates with expected null exactly one wins", async () => {
      const key = keys();
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.compareAndSwap(key("new"), null, `n-${i}`)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await store.get(key("new"))).toBe(`n-${results.indexOf(true)}`);
    });
  });
}
