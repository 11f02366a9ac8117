import { DurableObject } from "cloudflare:workers";
import { SqliteStore } from "./SqliteStore.ts";

/**
 * Expired rows are invisible the moment they expire; the alarm only reclaims space, so
 * it waits at least this long between sweeps instead of waking for every short TTL.
 */
const SWEEP_INTERVAL_MS = 60_000;

/**
 * One shard of the embedded store (used when Upstash is not configured): a SQLite-backed
 * Durable Object whose RPC methods mirror `Store`. Each runs its SQL synchronously, so
 * every operation is atomic; `DurableObjectStore` spreads keys over several of these.
 */
export class StoreDO extends DurableObject<unknown> {
  readonly #store: SqliteStore;
  /** When the sweep alarm is due (ms), mirrored in memory so writes need not ask storage. */
  #alarmAt: number | null = null;

  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    this.#store = new SqliteStore(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      this.#store.migrate();
      this.#alarmAt = await ctx.storage.getAlarm();
    });
  }

  /** The value at `key`, or null when absent or expired. */
  async get(key: string): Promise<string | null> {
    return this.#store.get(key);
  }

  /** Sets `key` unconditionally; `ttlSecs` makes it expire. */
  async put(key: string, value: string, options?: { ttlSecs?: number }): Promise<void> {
    this.#store.put(key, value, options);
    if (options?.ttlSecs !== undefined) await this.#scheduleSweep();
  }

  /** Sets `key` only if it is absent (or expired); true when this call set it. */
  async putIfAbsent(key: string, value: string, options?: { ttlSecs?: number }): Promise<boolean> {
    const created = this.#store.putIfAbsent(key, value, options);
    if (created && options?.ttlSecs !== undefined) await this.#scheduleSweep();
    return created;
  }

  /** Replaces the value only when the current one equals `expected` (null = absent); `next` null deletes. */
  async compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    options?: { ttlSecs?: number },
  ): Promise<boolean> {
    const swapped = this.#store.compareAndSwap(key, expected, next, options);
    if (swapped && next !== null && options?.ttlSecs !== undefined) await this.#scheduleSweep();
    return swapped;
  }

  /** Deletes `key`; true if it existed. */
  async delete(key: string): Promise<boolean> {
    return this.#store.delete(key);
  }

  /** Adds `by` (default 1) to a counter; a new window gets `ttlSecs`, later ones keep it. */
  /**
   * Adds to a counter. A key that holds something else is answered as data, not thrown:
   * a throw in an RPC method is reported by the runtime as an uncaught exception, and
   * this refusal is expected (the caller throws it again on its side).
   */
  async increment(
    key: string,
    options: { by?: number; ttlSecs: number },
  ): Promise<{ value: number; ttlSecs: number } | { notCounter: true }> {
    let result: { value: number; ttlSecs: number };
    try {
      result = this.#store.increment(key, options);
    } catch (err) {
      if (err instanceof TypeError) return { notCounter: true };
      throw err;
    }
    await this.#scheduleSweep();
    return result;
  }

  /** Sweeps expired rows, then re-arms for the next expiry if any row still has one. */
  override async alarm(): Promise<void> {
    this.#alarmAt = null;
    const { nextExpiresAt } = this.#store.purgeExpired();
    if (nextExpiresAt !== null) await this.#arm(nextExpiresAt);
  }

  /** Arms the sweep after a TTL row was written, unless one is already due. */
  async #scheduleSweep(): Promise<void> {
    if (this.#alarmAt !== null) return;
    const nextExpiresAt = this.#store.nextExpiresAt();
    if (nextExpiresAt !== null) await this.#arm(nextExpiresAt);
  }

  async #arm(expiresAt: number): Promise<void> {
    const at = Math.max(expiresAt, Date.now() + SWEEP_INTERVAL_MS);
    // Set before awaiting so concurrent writers see it and do not arm twice.
    this.#alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }
}
