import { errors, Redis } from "@upstash/redis/cloudflare";
import { UnavailableError } from "../protocol/Errors.ts";
import { incrementStep, NOT_A_COUNTER, type Store, ttlMs } from "./Store.ts";

/**
 * KEYS[1]; ARGV = expected given ("1"/"0"), expected, next given ("1"/"0"), next, TTL in
 * ms ("0" = none). Sets or deletes the key only when its value equals `expected` (or it is
 * absent, when none is given); returns 1 when it did, 0 otherwise. GET yields false for
 * a missing key, which never equals a string.
 */
const COMPARE_AND_SWAP = `
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '0' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] == '0' then
  redis.call('SET', KEYS[1], ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
end
return 1`;

/**
 * KEYS[1]; ARGV = step, window in ms. Adds the step and gives the key the window only
 * when it has no expiry (a new key, or one a plain put wrote), so a counter can never
 * become permanent. Returns {value, ms left}, or nil (false) when the key holds
 * something other than an integer, which INCRBY would turn into an opaque error.
 */
const INCREMENT = `
local current = redis.call('GET', KEYS[1])
if current and not string.match(current, '^%-?%d+$') then return false end
local value = redis.call('INCRBY', KEYS[1], ARGV[1])
local left = redis.call('PTTL', KEYS[1])
if left < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  left = tonumber(ARGV[2])
end
return {value, left}`;

/** How `UpstashStore` reaches Upstash: the REST URL and token, and retries for idempotent calls. */
export type UpstashStoreOptions = {
  url: string;
  token: string;
  /** Resends of `get` and `put` after a network error (default 2); other calls are sent once. */
  retries?: number;
};

/**
 * The production `Store`: Upstash Redis over its REST API. Conditional writes and
 * counters are single commands or Lua scripts, which Redis runs atomically. Every
 * failure becomes a 503 `store-unavailable` problem that names neither URL nor token.
 */
export class UpstashStore implements Store {
  readonly #redis: Redis;
  readonly #retries: number;
  readonly #secrets: string[];

  constructor(options: UpstashStoreOptions) {
    this.#redis = new Redis({
      url: options.url,
      token: options.token,
      // Values are opaque strings: no JSON guessing on the way back.
      automaticDeserialization: false,
      // The SDK resends a whole request (an auto-pipelined batch too) after a network
      // error, though the first may have been applied: an increment would count twice
      // and a putIfAbsent that won would report false. So the SDK never retries
      // (`retry: false` still allows one resend in 1.39, hence retries: 0) and
      // #call retries only the idempotent commands.
      retry: { retries: 0 },
      enableTelemetry: false,
    });
    this.#retries = options.retries ?? 2;
    // The host too: a network error may name it without the rest of the URL.
    const host = URL.parse(options.url)?.host ?? "";
    this.#secrets = [options.token, options.url, host].filter((s) => s !== "");
  }

  /** The value at `key`, or null when absent or expired. */
  async get(key: string): Promise<string | null> {
    return this.#call("get", true, () => this.#redis.get<string>(key));
  }

  /** Sets `key` unconditionally; `ttlSecs` makes it expire. */
  async put(key: string, value: string, options?: { ttlSecs?: number }): Promise<void> {
    const px = ttlMs(options?.ttlSecs);
    await this.#call("put", true, () =>
      px === null ? this.#redis.set(key, value) : this.#redis.set(key, value, { px }),
    );
  }

  /** Sets `key` only if it is absent (or expired); true when this call set it (SET NX). */
  async putIfAbsent(key: string, value: string, options?: { ttlSecs?: number }): Promise<boolean> {
    const px = ttlMs(options?.ttlSecs);
    const reply = await this.#call("putIfAbsent", false, () =>
      px === null
        ? this.#redis.set(key, value, { nx: true })
        : this.#redis.set(key, value, { nx: true, px }),
    );
    return reply === "OK";
  }

  /** Replaces the value only when the current one equals `expected` (null = absent); `next` null deletes. */
  async compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    options?: { ttlSecs?: number },
  ): Promise<boolean> {
    const px = ttlMs(options?.ttlSecs) ?? 0;
    const args = [
      expected === null ? "0" : "1",
      expected ?? "",
      next === null ? "0" : "1",
      next ?? "",
      String(px),
    ];
    const reply = await this.#call("compareAndSwap", false, () =>
      this.#redis.eval(COMPARE_AND_SWAP, [key], args),
    );
    return reply === 1;
  }

  /** Deletes `key`; true if it existed. Sent once: a resend would answer false. */
  async delete(key: string): Promise<boolean> {
    return (await this.#call("delete", false, () => this.#redis.del(key))) === 1;
  }

  /** Adds `by` (default 1) to a counter; a new window gets `ttlSecs`, later ones keep it. */
  async increment(
    key: string,
    options: { by?: number; ttlSecs: number },
  ): Promise<{ value: number; ttlSecs: number }> {
    const step = incrementStep(options.by);
    const px = ttlMs(options.ttlSecs) ?? 0;
    const reply = await this.#call("increment", false, () =>
      this.#redis.eval(INCREMENT, [key], [String(step), String(px)]),
    );
    if (reply === null) {
      throw new TypeError(NOT_A_COUNTER);
    }
    const [value, leftMs] = Array.isArray(reply) ? reply : [];
    if (typeof value !== "number" || typeof leftMs !== "number") {
      throw this.#unavailable("increment", new Error("unexpected reply to the increment script"));
    }
    return { value, ttlSecs: Math.max(1, Math.ceil(leftMs / 1000)) };
  }

  /**
   * Runs one SDK call, resending an idempotent one after a network error (a thrown fetch;
   * an answer from Upstash, even an error, is never resent), and turns failures into 503s.
   */
  async #call<T>(op: string, idempotent: boolean, run: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await run();
      } catch (error) {
        const answered = error instanceof errors.UpstashError;
        if (!idempotent || answered || attempt >= this.#retries) throw this.#unavailable(op, error);
        await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
      }
    }
  }

  /**
   * The 503 for a failed call. Its `cause` keeps the reason for logs, cut before the
   * command the SDK echoes (keys and values) and with the URL and token removed.
   */
  #unavailable(op: string, error: unknown): UnavailableError {
    let reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    reason = reason.split(", command was:")[0] ?? "";
    for (const secret of this.#secrets) reason = reason.replaceAll(secret, "[redacted]");
    return new UnavailableError(
      "store-unavailable",
      "Store unavailable",
      `The store (Upstash Redis) did not complete ${op}. Try again shortly.`,
      { cause: new Error(`Upstash ${op} failed: ${reason.slice(0, 300)}`) },
    );
  }
}
