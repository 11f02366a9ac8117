import { incrementStep, NOT_A_COUNTER, type Store, ttlMs } from "./Store.ts";
import type { StoreDO } from "./StoreDO.ts";

/** How many StoreDO shards keys are spread over unless told otherwise. */
export const DEFAULT_SHARDS = 16;

/**
 * The embedded `Store`: calls `StoreDO` shards by RPC. Each key always lands on the same
 * shard (FNV-1a of its UTF-8 bytes), so per-key atomicity is the shard's; spreading keys
 * keeps one object from being the bottleneck for the whole registry.
 *
 * Arguments are checked here too, so a bad TTL fails without a round trip. Each call is
 * awaited before returning: handing back the RPC promise itself let its rejection
 * surface as unhandled in workerd even though the caller handled it.
 *
 * The shard count is part of where data lives: changing it for an existing deployment
 * moves keys to other shards, where they read as absent.
 */
export class DurableObjectStore implements Store {
  readonly #namespace: DurableObjectNamespace<StoreDO>;
  readonly #ids: DurableObjectId[];

  constructor(namespace: DurableObjectNamespace<StoreDO>, options: { shards?: number } = {}) {
    const shards = options.shards ?? DEFAULT_SHARDS;
    if (!Number.isSafeInteger(shards) || shards < 1) {
      throw new RangeError(`shards must be a positive integer, got ${shards}`);
    }
    this.#namespace = namespace;
    this.#ids = Array.from({ length: shards }, (_, i) => namespace.idFromName(`store-shard-${i}`));
  }

  /** The value at `key`, or null when absent or expired. */
  async get(key: string): Promise<string | null> {
    return await this.#shard(key).get(key);
  }

  /** Sets `key` unconditionally; `ttlSecs` makes it expire. */
  async put(key: string, value: string, options?: { ttlSecs?: number }): Promise<void> {
    ttlMs(options?.ttlSecs);
    return await this.#shard(key).put(key, value, options);
  }

  /** Sets `key` only if it is absent (or expired); true when this call set it. */
  async putIfAbsent(key: string, value: string, options?: { ttlSecs?: number }): Promise<boolean> {
    ttlMs(options?.ttlSecs);
    return await this.#shard(key).putIfAbsent(key, value, options);
  }

  /** Replaces the value only when the current one equals `expected` (null = absent); `next` null deletes. */
  async compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    options?: { ttlSecs?: number },
  ): Promise<boolean> {
    ttlMs(options?.ttlSecs);
    return await this.#shard(key).compareAndSwap(key, expected, next, options);
  }

  /** Deletes `key`; true if it existed. */
  async delete(key: string): Promise<boolean> {
    return await this.#shard(key).delete(key);
  }

  /** Adds `by` (default 1) to a counter; a new window gets `ttlSecs`, later ones keep it. */
  async increment(
    key: string,
    options: { by?: number; ttlSecs: number },
  ): Promise<{ value: number; ttlSecs: number }> {
    incrementStep(options.by);
    ttlMs(options.ttlSecs);
    const result = await this.#shard(key).increment(key, options);
    if ("notCounter" in result) throw new TypeError(NOT_A_COUNTER);
    return { value: result.value, ttlSecs: result.ttlSecs };
  }

  /**
   * The stub for `key`'s shard, made per call (it is cheap): a stub that has thrown fails
   * every later call, so one is never kept (Durable Objects docs, "Durable Object Stub").
   */
  #shard(key: string): DurableObjectStub<StoreDO> {
    const id = this.#ids[shardOf(key, this.#ids.length)];
    if (id === undefined) throw new Error("unreachable: shard index out of range");
    return this.#namespace.get(id);
  }
}

/** The shard index (0 ≤ i < `shards`) of `key`: 32-bit FNV-1a, which only has to spread keys. */
export function shardOf(key: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(key)) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
