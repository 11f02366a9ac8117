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
