/**
 * Redeemed payment proofs of one merchant, and short reservations taken by `/verify`.
 * A payment hash is redeemed once, ever: the row is written in the same synchronous step
 * that checks for it (a Durable Object runs one such step at a time), so of any number
 * of concurrent settles exactly one wins. A reservation makes a second concurrent
 * verify of the same proof invalid until the first settles or its lease lapses, so the
 * standard verify → handler → settle middleware runs the handler once per proof.
 */

/** A redeemed proof. `settledAt` is unix seconds. */
export type Redemption = { paymentHash: string; settledAt: number; amountMsat: number };

const SCHEMA = `CREATE TABLE IF NOT EXISTS redemptions (
  payment_hash TEXT PRIMARY KEY,
  settled_at INTEGER NOT NULL,
  amount_msat INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS reservations (
  payment_hash TEXT PRIMARY KEY,
  until_ms INTEGER NOT NULL
);`;

/** The redemptions and reservations tables over a DO's SQL storage. */
export class Redemptions {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.migrate();
  }

  /** (Re)creates the tables; also after a `deleteAll()`, which drops them. */
  migrate(): void {
    this.sql.exec(SCHEMA);
    // Before redemptions, settled proofs lived in `claims` (with idempotent replays):
    // keep every redeemed hash redeemed.
    const legacy = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE name = 'claims'")
      .one().n;
    if (legacy > 0) {
      this.sql.exec(
        "INSERT OR IGNORE INTO redemptions SELECT payment_hash, settled_at, 0 FROM claims",
      );
      this.sql.exec("DROP TABLE claims");
    }
  }

  /** The redemption of `paymentHash`, or null. */
  get(paymentHash: string): Redemption | null {
    const row = this.sql
      .exec<{ payment_hash: string; settled_at: number; amount_msat: number }>(
        "SELECT * FROM redemptions WHERE payment_hash = ?",
        paymentHash,
      )
      .toArray()[0];
    return row
      ? { paymentHash: row.payment_hash, settledAt: row.settled_at, amountMsat: row.amount_msat }
      : null;
  }

  /** Redeems a proof; false if it was already redeemed (nothing changes then). */
  redeem(redemption: Redemption): boolean {
    const cursor = this.sql.exec(
      "INSERT INTO redemptions (payment_hash, settled_at, amount_msat) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
      redemption.paymentHash,
      redemption.settledAt,
      redemption.amountMsat,
    );
    if (cursor.rowsWritten === 0) return false;
    this.sql.exec("DELETE FROM reservations WHERE payment_hash = ?", redemption.paymentHash);
    return true;
  }

  /** Takes the lease on `paymentHash` until `untilMs`; false while another live lease holds it. */
  reserve(paymentHash: string, nowMs: number, untilMs: number): boolean {
    const cursor = this.sql.exec(
      `INSERT INTO reservations (payment_hash, until_ms) VALUES (?, ?)
       ON CONFLICT (payment_hash) DO UPDATE SET until_ms = excluded.until_ms
       WHERE reservations.until_ms <= ?`,
      paymentHash,
      untilMs,
      nowMs,
    );
    return cursor.rowsWritten > 0;
  }

  /** Forgets redemptions and leases of invoices pruned from the book. */
  prune(paymentHashes: readonly string[]): void {
    for (const hash of paymentHashes) {
      this.sql.exec("DELETE FROM redemptions WHERE payment_hash = ?", hash);
      this.sql.exec("DELETE FROM reservations WHERE payment_hash = ?", hash);
    }
  }
}
