/**
 * The registry and global-index store: merchant records (encrypted secrets, key
 * hashes, settings) and indexes such as paymentHash → merchantId. Values are strings
 * (callers encode JSON). Every operation that money depends on is atomic per key.
 */
export interface Store {
  /** The value at `key`, or null when absent or expired. */
  get(key: string): Promise<string | null>;
  /** Sets `key` unconditionally; `ttlSecs` makes it expire. */
  put(key: string, value: string, options?: { ttlSecs?: number }): Promise<void>;
  /** Sets `key` only if it is absent (or expired); true when this call set it. */
  putIfAbsent(key: string, value: string, options?: { ttlSecs?: number }): Promise<boolean>;
  /**
   * Replaces the value only when the current one equals `expected` (null = absent);
   * `next` null deletes. True when this call made the change.
   */
  compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    options?: { ttlSecs?: number },
  ): Promise<boolean>;
  /** Deletes `key`; true if it existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Atomically adds `by` (default 1) to an integer counter. The first increment of a
   * window creates it with `ttlSecs`; later ones keep that expiry. Returns the new
   * value and the seconds left in the window (for rate limits and Retry-After).
   */
  increment(
    key: string,
    options: { by?: number; ttlSecs: number },
  ): Promise<{ value: number; ttlSecs: number }>;
}

/*
 * The rules every adapter applies the same way, so the contract suite holds for all.
 * A write without `ttlSecs` (put, putIfAbsent, compareAndSwap) leaves the key without
 * expiry, as Redis `SET` does.
 */

/** The TTL in ms for a `ttlSecs` option (null = none); throws on a non-positive or non-finite TTL. */
export function ttlMs(ttlSecs: number | undefined): number | null {
  if (ttlSecs === undefined) return null;
  if (!Number.isFinite(ttlSecs) || ttlSecs <= 0) {
    throw new RangeError(`ttlSecs must be a positive number of seconds, got ${ttlSecs}`);
  }
  return Math.ceil(ttlSecs * 1000);
}

/** The step of an `increment`; throws unless it is a safe integer. */
export function incrementStep(by: number | undefined): number {
  const step = by ?? 1;
  if (!Number.isSafeInteger(step)) throw new RangeError(`by must be a safe integer, got ${step}`);
  return step;
}

/** What `increment` throws (a TypeError) when the key holds something other than a counter. */
export const NOT_A_COUNTER = "increment: the key holds a value that is not an integer counter";

/** The integer a counter holds; throws when the key holds something else. */
export function counterValue(stored: string): number {
  const value = Number(stored);
  if (!/^-?\d+$/.test(stored) || !Number.isSafeInteger(value)) throw new TypeError(NOT_A_COUNTER);
  return value;
}

/** Whole seconds left until `expiresAtMs`, rounded up, as `increment` reports them. */
export function secsLeft(expiresAtMs: number, nowMs: number): number {
  return Math.max(1, Math.ceil((expiresAtMs - nowMs) / 1000));
}
