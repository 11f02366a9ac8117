import { counterValue, incrementStep, type Store, secsLeft, ttlMs } from "./Store.ts";

/** The `Store` operations answered synchronously, as code inside a Durable Object can. */
export type SyncStore = {
  [Op in keyof Store]: (...args: Parameters<Store[Op]>) => Awaited<ReturnType<Store[Op]>>;
};

type Row = { value: string; expires_at: number | null };

/**
 * The `Store` logic over a SQLite-backed Durable Object's `ctx.storage.sql`. Every
 * method is one synchronous run of statements with no await in between, which inside a
 * Durable Object (single-threaded, output-gated) makes it atomic. Expired rows read as
 * absent everywhere; they are deleted when met and by `purgeExpired` (the DO's alarm).
 */
export class SqliteStore implements SyncStore {
  readonly #sql: SqlStorage;
  readonly #now: () => number;

  constructor(sql: SqlStorage, options: { now?: () => number } = {}) {
    this.#sql = sql;
    this.#now = options.now ?? Date.now;
  }

  /** Creates the `kv` table if it is missing; run once when the object starts. */
  migrate(): void {
    // expires_at is in ms since the epoch; NULL means the row never expires.
    this.#sql.exec(
      "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)",
    );
    this.#sql.exec("CREATE INDEX IF NOT EXISTS kv_expires_at ON kv (expires_at)");
  }

  /** The value at `key`, or null when absent or expired. */
  get(key: string): string | null {
    return this.#live(key)?.value ?? null;
  }

  /** Sets `key` unconditionally; `ttlSecs` makes it expire. */
  put(key: string, value: string, options?: { ttlSecs?: number }): void {
    this.#write(key, value, ttlMs(options?.ttlSecs));
  }

  /** Sets `key` only if it is absent (or expired); true when this call set it. */
  putIfAbsent(key: string, value: string, options?: { ttlSecs?: number }): boolean {
    const ttl = ttlMs(options?.ttlSecs);
    if (this.#live(key)) return false;
    this.#write(key, value, ttl);
    return true;
  }

  /** Replaces the value only when the current one equals `expected` (null = absent); `next` null deletes. */
  compareAndSwap(
    key: string,
    expected: string | null,
    next: string | null,
    options?: { ttlSecs?: number },
  ): boolean {
    const ttl = ttlMs(options?.ttlSecs);
    if ((this.#live(key)?.value ?? null) !== expected) return false;
    if (next === null) this.#sql.exec("DELETE FROM kv WHERE key = ?", key);
    else this.#write(key, next, ttl);
    return true;
  }

  /** Deletes `key`; true if it existed (an expired row is deleted too, but did not exist). */
  delete(key: string): boolean {
    const now = this.#now();
    const rows = this.#sql
      .exec<Pick<Row, "expires_at">>("DELETE FROM kv WHERE key = ? RETURNING expires_at", key)
      .toArray();
    return rows.some((row) => row.expires_at === null || row.expires_at > now);
  }

  /** Adds `by` (default 1) to a counter; a new window gets `ttlSecs`, later ones keep it. */
  increment(
    key: string,
    options: { by?: number; ttlSecs: number },
  ): { value: number; ttlSecs: number } {
    const step = incrementStep(options.by);
    const ttl = ttlMs(options.ttlSecs) ?? 0;
    const now = this.#now();
    const current = this.#live(key);
    const value = (current ? counterValue(current.value) : 0) + step;
    // A counter without expiry (one `put` wrote) gets the window too: never a permanent limit.
    const expiresAt = current?.expires_at ?? now + ttl;
    this.#upsert(key, String(value), expiresAt);
    return { value, ttlSecs: secsLeft(expiresAt, now) };
  }

  /** Deletes the keys starting with `prefix` whose value `doomed` picks; returns how many went. */
  deleteWhere(prefix: string, doomed: (value: string) => boolean): number {
    // Keys are ASCII: every key with the prefix sorts below prefix + U+FFFF (an index range).
    const rows = this.#sql
      .exec<{ key: string; value: string }>(
        "SELECT key, value FROM kv WHERE key >= ? AND key < ?",
        prefix,
        `${prefix}\uffff`,
      )
      .toArray();
    let deleted = 0;
    for (const row of rows) {
      if (!doomed(row.value)) continue;
      this.#sql.exec("DELETE FROM kv WHERE key = ?", row.key);
      deleted++;
    }
    return deleted;
  }

  /** Deletes every expired row; returns how many went and the next expiry (ms) still pending. */
  purgeExpired(): { deleted: number; nextExpiresAt: number | null } {
    const now = this.#now();
    const deleted = this.#sql.exec(
      "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?",
      now,
    ).rowsWritten;
    return { deleted, nextExpiresAt: this.nextExpiresAt() };
  }

  /** The earliest expiry (ms) of any row, or null when no row expires. */
  nextExpiresAt(): number | null {
    const row = this.#sql
      .exec<{ next: number | null }>("SELECT MIN(expires_at) AS next FROM kv")
      .toArray()[0];
    return row?.next ?? null;
  }

  /** The live row at `key`; an expired one is deleted on the way (lazy purge). */
  #live(key: string): Row | undefined {
    const row = this.#sql
      .exec<Row>("SELECT value, expires_at FROM kv WHERE key = ?", key)
      .toArray()[0];
    if (row?.expires_at != null && row.expires_at <= this.#now()) {
      this.#sql.exec("DELETE FROM kv WHERE key = ?", key);
      return undefined;
    }
    return row;
  }

  #write(key: string, value: string, ttl: number | null): void {
    this.#upsert(key, value, ttl === null ? null : this.#now() + ttl);
  }

  #upsert(key: string, value: string, expiresAt: number | null): void {
    this.#sql.exec(
      `INSERT INTO kv (key, value, expires_at) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`,
      key,
      value,
      expiresAt,
    );
  }
}

/**
 * The async `Store` face of a `SqliteStore`, for code written against `Store` (the MPP
 * session engine) running inside the Durable Object that owns the database. Each call
 * is still one synchronous step: the promise only wraps its result, so nothing can
 * interleave between its statements.
 */
export function asyncStore(sync: SqliteStore): Store {
  return {
    get: async (key) => sync.get(key),
    put: async (key, value, options) => sync.put(key, value, options),
    putIfAbsent: async (key, value, options) => sync.putIfAbsent(key, value, options),
    compareAndSwap: async (key, expected, next, options) =>
      sync.compareAndSwap(key, expected, next, options),
    delete: async (key) => sync.delete(key),
    increment: async (key, options) => sync.increment(key, options),
  };
}
