import { counterValue, incrementStep, type Store, secsLeft, ttlMs } from "./Store.ts";

type Entry = { value: string; expiresAt: number | null };

/**
 * A `Store` in one process's memory, for unit tests and library use. Each method runs
 * to completion without awaiting, so it is atomic per key like the real adapters.
 * `now` (ms) is injectable so TTLs can be tested without sleeping.
 */
export class MemoryStore implements Store {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** The value at `key`, or null when absent or expired. */
  async get(key: string): Promise<string | null> {
    return this.#live(key)?.value ?? null;
  }

  /** Sets `key` unconditionally; `ttlSecs` makes it expire. */
  async put(key: string, value: string, options?: { ttlSecs?: number }): Promise<void> {
    this.#set(key, value, ttlMs(options?.ttlSecs));
  }

  /** Sets `key` only if it is absent (or expired); true when this call set it. */
  async putIfAbsent(key: string, value: string, options?: { ttlSecs?: number }): Promise<boolean> {
    const ttl = ttlMs(options?.ttlSecs);
    if (this.#live(key)) return false;
    this.#set(key, value, ttl);
    return true;
  }

  /** Replaces the value only when the current one equals `expected` (null = absent); `next` null deletes. */
  async compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    options?: { ttlSecs?: number },
  ): Promise<boolean> {
    const ttl = ttlMs(options?.ttlSecs);
    if ((this.#live(key)?.value ?? null) !== expected) return false;
    if (next === null) this.#entries.delete(key);
    else this.#set(key, next, ttl);
    return true;
  }

  /** Deletes `key`; true if it existed. */
  async delete(key: string): Promise<boolean> {
    const existed = this.#live(key) !== undefined;
    this.#entries.delete(key);
    return existed;
  }

  /** Adds `by` (default 1) to a counter; a new window gets `ttlSecs`, later ones keep it. */
  async increment(
    key: string,
    options: { by?: number; ttlSecs: number },
  ): Promise<{ value: number; ttlSecs: number }> {
    const step = incrementStep(options.by);
    const ttl = ttlMs(options.ttlSecs) ?? 0;
    const now = this.#now();
    const current = this.#live(key);
    const value = (current ? counterValue(current.value) : 0) + step;
    // A counter without expiry (one `put` wrote) gets the window too: never a permanent limit.
    const expiresAt = current?.expiresAt ?? now + ttl;
    this.#entries.set(key, { value: String(value), expiresAt });
    return { value, ttlSecs: secsLeft(expiresAt, now) };
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt != null && entry.expiresAt <= this.#now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  #set(key: string, value: string, ttl: number | null): void {
    this.#entries.set(key, { value, expiresAt: ttl === null ? null : this.#now() + ttl });
  }
}
