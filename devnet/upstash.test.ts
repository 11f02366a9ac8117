import { randomUUID } from "node:crypto";
import { errors, Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, redisServerAvailable, startRedis } from "./redis.ts";
import { startUpstash, type UpstashServer } from "./upstash.ts";

/**
 * The stand-in as `@upstash/redis` sees it: every call below goes through the real SDK
 * (auto-pipelining and base64 responses on, as by default), or through raw HTTP where the
 * wire format itself is what is being shown. Keys are random: the Redis may be shared.
 */

const skip = !process.env.REDIS_URL && !redisServerAvailable() && !process.env.CI;
if (skip) {
  console.warn(
    "Upstash stand-in tests skipped: install redis-server (apt-get install -y redis-server) or set REDIS_URL",
  );
}

const created: string[] = [];
/** A fresh key, removed again after the suite so a shared Redis is left as it was. */
function key(name: string): string {
  const k = `test:upstash:${name}:${randomUUID()}`;
  created.push(k);
  return k;
}

describe.skipIf(skip)("devnet Upstash stand-in", () => {
  let redisServer: RedisServer | null = null;
  let upstash: UpstashServer;
  let redis: Redis;
  let singleCommands: Redis;

  /** A raw POST, for what the SDK hides: status codes and the bytes on the wire. */
  async function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(`${upstash.url}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${upstash.token}`, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  }

  beforeAll(async () => {
    redisServer = await startRedis();
    if (redisServer === null) {
      throw new Error(
        "CI needs a Redis: install redis-server (apt-get install -y redis-server) or set REDIS_URL",
      );
    }
    upstash = await startUpstash({ redisUrl: redisServer.url });
    const credentials = { url: upstash.url, token: upstash.token, enableTelemetry: false };
    redis = new Redis(credentials);
    singleCommands = new Redis({ ...credentials, enableAutoPipelining: false, retry: false });
  });

  afterAll(async () => {
    if (created.length > 0) await redis?.del(...created);
    await upstash?.stop();
    await redisServer?.stop();
  });

  describe("through @upstash/redis", () => {
    it("behavior: set then get returns the stored value", async () => {
      const k = key("get");
      expect(await redis.set(k, "hello")).toBe("OK");
      expect(await redis.get(k)).toBe("hello");
      expect(await singleCommands.get(k)).toBe("hello");
    });

    it("behavior: set with ex gives the key that many seconds to live", async () => {
      const k = key("ex");
      await redis.set(k, "v", { ex: 60 });
      const ttl = await redis.ttl(k);
      expect(ttl).toBeGreaterThan(58);
      expect(ttl).toBeLessThanOrEqual(60);
    });

    it("behavior: set with px removes the key after that many milliseconds", async () => {
      const k = key("px");
      await redis.set(k, "v", { px: 100 });
      expect(await redis.get(k)).toBe("v");
      await new Promise((resolve) => setTimeout(resolve, 250));
      expect(await redis.get(k)).toBeNull();
    });

    it("behavior: objects round-trip as JSON", async () => {
      const k = key("json");
      const invoice = { amountMsat: 21_000, tags: ["a", "b"], paid: false, memo: null };
      await redis.set(k, invoice);
      expect(await redis.get(k)).toEqual(invoice);
    });

    it("behavior: incr counts up from nothing and del removes the key", async () => {
      const k = key("incr");
      expect(await redis.incr(k)).toBe(1);
      expect(await redis.incrby(k, 41)).toBe(42);
      expect(await redis.del(k)).toBe(1);
      expect(await redis.get(k)).toBeNull();
    });

    it("behavior: setnx and set nx write only when the key is absent", async () => {
      const [a, b] = [key("setnx"), key("setnx")];
      expect(await redis.setnx(a, "first")).toBe(1);
      expect(await redis.setnx(a, "second")).toBe(0);
      expect(await redis.set(b, "first", { nx: true })).toBe("OK");
      expect(await redis.set(b, "second", { nx: true })).toBeNull();
      expect(await redis.mget(a, b)).toEqual(["first", "first"]);
    });

    it("behavior: a pipeline answers each command in order", async () => {
      const [k, n] = [key("pipe"), key("pipe")];
      expect(await redis.pipeline().set(k, "a").get(k).incr(n).exec()).toEqual(["OK", "a", 1]);
    });

    it("behavior: a failing command in a pipeline does not fail the others", async () => {
      const k = key("pipe-error");
      const results = await redis
        .pipeline()
        .set(k, "text")
        .incr(k)
        .get(k)
        .exec({ keepErrors: true });
      expect(results[0]).toMatchObject({ result: "OK" });
      expect(results[1]).toMatchObject({ error: "ERR value is not an integer or out of range" });
      expect(results[2]).toMatchObject({ result: "text" });
    });

    it("behavior: multi-exec runs the commands as one transaction", async () => {
      const k = key("multi");
      expect(await redis.multi().set(k, 5).incr(k).get(k).exec()).toEqual(["OK", 6, 6]);
    });

    it("behavior: concurrent transactions never interleave", async () => {
      const k = key("concurrent");
      const runs = Array.from({ length: 20 }, () => redis.multi().incr(k).incr(k).exec());
      const results = await Promise.all(runs);
      expect(await redis.get(k)).toBe(40);
      // Each transaction saw its two increments back to back, with no other in between.
      for (const [first, second] of results) expect(second).toBe(first + 1);
    });

    it("behavior: unicode and control characters round-trip, with and without base64", async () => {
      const plain = new Redis({ url: upstash.url, token: upstash.token, responseEncoding: false });
      const k = key("unicode");
      const value = 'naïve ☕ 🚀 日本語 \u0000\u0001\t\n "quoted" \\ ÿ';
      await redis.set(k, value);
      expect(await redis.get(k)).toBe(value);
      expect(await plain.get(k)).toBe(value);
    });

    it("error: a Redis error reply is thrown with its message", async () => {
      const k = key("error");
      await redis.set(k, "not a number");
      const message = /ERR value is not an integer or out of range/;
      await expect(redis.incr(k)).rejects.toThrow(message);
      await expect(singleCommands.incr(k)).rejects.toThrow(message);
      await expect(singleCommands.incr(k)).rejects.toBeInstanceOf(errors.UpstashError);
    });

    it("error: a wrong token is refused", async () => {
      const intruder = new Redis({ url: upstash.url, token: "wrong", retry: false });
      await expect(intruder.get(key("auth"))).rejects.toThrow(/Unauthorized/);
    });
  });

  describe("on the wire", () => {
    it("behavior: base64 encodes bulk strings, also in arrays, and leaves OK, integers and null", async () => {
      const [k, ok, n] = [key("wire"), key("wire"), key("wire")];
      const base64 = { "upstash-encoding": "base64" };
      expect(await post("/", ["SET", k, "hi"], base64)).toEqual({
        status: 200,
        body: { result: "OK" },
      });
      expect(await post("/", ["GET", k], base64)).toEqual({
        status: 200,
        body: { result: "aGk=" },
      });
      // The SDK keeps a top-level "OK" as is but decodes every string inside an array.
      await post("/", ["SET", ok, "OK"]);
      expect(
        await post(
          "/pipeline",
          [
            ["INCR", n],
            ["MGET", k, ok, key("none")],
          ],
          base64,
        ),
      ).toEqual({
        status: 200,
        body: [{ result: 1 }, { result: ["aGk=", "T0s=", null] }],
      });
      expect(await post("/", ["GET", k])).toEqual({ status: 200, body: { result: "hi" } });
    });

    it("behavior: bytes that are not UTF-8 survive base64 encoding", async () => {
      const k = key("bytes");
      await post("/pipeline", [
        ["SETBIT", k, 0, 1],
        ["SETBIT", k, 7, 1],
      ]);
      const got = await post("/", ["GET", k], { "upstash-encoding": "base64" });
      expect(got.body).toEqual({ result: Buffer.from([0x81]).toString("base64") });
    });

    it("error: a command Redis rejects answers 400 with the Redis error", async () => {
      const k = key("wire-error");
      await post("/", ["SET", k, "x"]);
      expect(await post("/", ["INCR", k])).toEqual({
        status: 400,
        body: { error: "ERR value is not an integer or out of range" },
      });
    });

    it("error: a transaction Redis aborts answers 400 with EXECABORT and writes nothing", async () => {
      const k = key("abort");
      const got = await post("/multi-exec", [["SET", k, "v"], ["NOSUCHCOMMAND"]]);
      expect(got.status).toBe(400);
      expect(got.body).toEqual({ error: expect.stringMatching(/^EXECABORT/) });
      expect(await redis.exists(k)).toBe(0);
    });

    it("error: a missing or wrong token answers 401", async () => {
      for (const authorization of ["", "Bearer wrong", `Basic ${upstash.token}`]) {
        const got = await post("/", ["PING"], { authorization });
        expect(got).toEqual({ status: 401, body: { error: "Unauthorized" } });
      }
    });

    it("error: malformed bodies answer 400 and the server keeps serving", async () => {
      const bad: Array<[string, unknown]> = [
        ["/", "{not json"],
        ["/", { command: "GET" }],
        ["/", []],
        ["/", ["GET", { nested: true }]],
        ["/", ["MULTI"]],
        ["/pipeline", []],
        ["/pipeline", ["GET", "k"]],
        ["/multi-exec", [["SUBSCRIBE", "channel"]]],
      ];
      for (const [path, body] of bad) {
        const got = await post(path, body);
        expect(got.status, JSON.stringify(body)).toBe(400);
        expect(got.body).toEqual({ error: expect.any(String) });
      }
      expect(await post("/", ["PING"])).toEqual({ status: 200, body: { result: "PONG" } });
    });

    it("error: a body over 1 MiB answers 413", async () => {
      const got = await post("/", ["SET", key("big"), "x".repeat(1024 * 1024)]);
      expect(got).toEqual({ status: 413, body: { error: expect.stringMatching(/1 MiB/) } });
    });

    it("behavior: after stop() the endpoint refuses connections", async () => {
      if (redisServer === null) throw new Error("no Redis");
      const other = await startUpstash({ redisUrl: redisServer.url });
      const client = new Redis({ url: other.url, token: other.token, retry: false });
      expect(await client.set(key("stop"), "v")).toBe("OK");
      await other.stop();
      await expect(client.get(key("stop"))).rejects.toThrow();
    });
  });
});
