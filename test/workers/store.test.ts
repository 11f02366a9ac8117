import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, inject, it } from "vitest";
import { describeStoreContract } from "../../src/store/contract.ts";
import { DurableObjectStore, shardOf } from "../../src/store/DurableObjectStore.ts";
import { createStore } from "../../src/store/index.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";
import { SqliteStore } from "../../src/store/SqliteStore.ts";
import type { StoreDO } from "../../src/store/StoreDO.ts";
import { UpstashStore } from "../../src/store/UpstashStore.ts";

const upstash = inject("upstash");
if (upstash === null) {
  console.warn(
    "store.test.ts: no Redis for the Upstash stand-in, so UpstashStore is not tested (apt-get install -y redis-server)",
  );
}

let fakeNow = Date.UTC(2026, 0, 1);
describeStoreContract("MemoryStore", () => new MemoryStore({ now: () => fakeNow }), {
  elapse: async (ms) => {
    fakeNow += ms;
  },
});

describeStoreContract("DurableObjectStore", () => new DurableObjectStore(env.STORE));

describe.skipIf(upstash === null)("UpstashStore", () => {
  describeStoreContract("UpstashStore", () => new UpstashStore(upstash ?? { url: "", token: "" }));

  it("error: a wrong token is a 503 store-unavailable problem that names neither token nor URL", async () => {
    const url = upstash?.url ?? "";
    const token = `wrong-${crypto.randomUUID()}`;
    const store = new UpstashStore({ url, token });
    const error = await store.get("any").catch((err: unknown) => err);
    expect(error).toMatchObject({
      name: "ProblemError",
      status: 503,
      type: "urn:ln402:problem:store-unavailable",
    });
    const exposed = JSON.stringify(error) + String((error as Error).cause);
    expect(exposed).not.toContain(token);
    expect(exposed).not.toContain(url);
    expect(String((error as Error).cause)).toContain("Unauthorized");
  });

  it("error: an unreachable Upstash is a 503 after the idempotent retries", async () => {
    const store = new UpstashStore({
      url: "http://127.0.0.1:1",
      token: "t0ken-secret",
      retries: 1,
    });
    const error = await store.put("any", "v").catch((err: unknown) => err);
    expect(error).toMatchObject({ status: 503, type: "urn:ln402:problem:store-unavailable" });
    expect(String((error as Error).cause)).not.toContain("t0ken-secret");
    await expect(store.increment("any", { ttlSecs: 1 })).rejects.toMatchObject({ status: 503 });
  });
});

describe("StoreDO and SqliteStore", () => {
  it("behavior: expired rows read as absent and are deleted when met", async () => {
    const stub = env.STORE.get(env.STORE.idFromName(`sqlite-lazy-${crypto.randomUUID()}`));
    const rows = await runInDurableObject(stub, (_instance: StoreDO, state) => {
      let now = 1_000_000;
      const store = new SqliteStore(state.storage.sql, { now: () => now });
      store.put("short", "v", { ttlSecs: 1 });
      store.put("long", "v", { ttlSecs: 10 });
      now += 1_000; // the TTL ends at exactly this instant: expired
      const seen = { short: store.get("short"), long: store.get("long") };
      const left = state.storage.sql.exec<{ key: string }>("SELECT key FROM kv").toArray();
      return { seen, left: left.map((row) => row.key) };
    });
    expect(rows).toEqual({ seen: { short: null, long: "v" }, left: ["long"] });
  });

  it("behavior: the alarm sweeps expired rows no one read, keeps live ones and re-arms", async () => {
    const stub = env.STORE.get(env.STORE.idFromName(`sqlite-sweep-${crypto.randomUUID()}`));
    await runInDurableObject(stub, (_instance: StoreDO, state) => {
      const insert = "INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?)";
      state.storage.sql.exec(insert, "expired", "x", Date.now() - 1_000);
      state.storage.sql.exec(insert, "forever", "y", null);
    });
    await stub.put("live", "z", { ttlSecs: 3600 }); // a TTL write arms the sweep
    expect(await runDurableObjectAlarm(stub)).toBe(true);

    const after = await runInDurableObject(stub, async (_instance: StoreDO, state) => ({
      keys: state.storage.sql
        .exec<{ key: string }>("SELECT key FROM kv ORDER BY key")
        .toArray()
        .map((row) => row.key),
      alarm: await state.storage.getAlarm(),
    }));
    expect(after.keys).toEqual(["forever", "live"]);
    expect(after.alarm).toBeGreaterThan(Date.now()); // for "live", still pending
  });

  it("behavior: without TTL rows no alarm is armed", async () => {
    const stub = env.STORE.get(env.STORE.idFromName(`sqlite-no-alarm-${crypto.randomUUID()}`));
    await stub.put("k", "v");
    expect(await stub.putIfAbsent("k2", "v")).toBe(true);
    expect(await runDurableObjectAlarm(stub)).toBe(false);
  });

  it("behavior: keys spread over the shards by a stable hash", () => {
    const counts = new Array<number>(16).fill(0);
    for (let i = 0; i < 1_600; i++) {
      const shard = shardOf(`merchant:${i}`, 16);
      counts[shard] = (counts[shard] ?? 0) + 1;
    }
    expect(Math.min(...counts)).toBeGreaterThan(50);
    expect(shardOf("merchant:1", 16)).toBe(shardOf("merchant:1", 16));
    expect(shardOf("", 16)).toBe(0x811c9dc5 % 16); // FNV-1a offset basis
    expect(() => new DurableObjectStore(env.STORE, { shards: 0 })).toThrow(/shards/);
  });
});

describe("createStore", () => {
  it("behavior: without Upstash variables it is the embedded Durable-Object store", () => {
    expect(createStore({ STORE: env.STORE })).toBeInstanceOf(DurableObjectStore);
    expect(
      createStore({ STORE: env.STORE, UPSTASH_REDIS_REST_URL: "", UPSTASH_REDIS_REST_TOKEN: "" }),
    ).toBeInstanceOf(DurableObjectStore);
  });

  it("behavior: with both variables it is Upstash (https, or http on this machine)", () => {
    for (const url of [
      "https://eu1-example.upstash.io",
      "http://127.0.0.1:8079",
      "http://localhost",
    ]) {
      const store = createStore({
        STORE: env.STORE,
        UPSTASH_REDIS_REST_URL: url,
        UPSTASH_REDIS_REST_TOKEN: "token",
      });
      expect(store).toBeInstanceOf(UpstashStore);
    }
  });

  it("error: half a configuration or a non-https URL names the variable to fix", () => {
    const make = (url?: string, token?: string) => () =>
      createStore({
        STORE: env.STORE,
        UPSTASH_REDIS_REST_URL: url,
        UPSTASH_REDIS_REST_TOKEN: token,
      });
    expect(make("https://x.upstash.io", undefined)).toThrow(/UPSTASH_REDIS_REST_TOKEN is not/);
    expect(make(undefined, "token")).toThrow(/UPSTASH_REDIS_REST_URL is not/);
    for (const url of [
      "http://x.upstash.io",
      "ftp://x",
      "x.upstash.io",
      "http://127.0.0.2.nip.io",
    ]) {
      expect(make(url, "token")).toThrow(/UPSTASH_REDIS_REST_URL must be an https:\/\/ URL/);
    }
  });
});
