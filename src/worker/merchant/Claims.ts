/**
 * Redeemed payment proofs of one merchant: a payment hash settles once. The row is
 * written in the same synchronous step that checks for it (a Durable Object runs one
 * such step at a time), so of any number of concurrent settles exactly one wins.
 */

/** A settled proof and the answer it got (kept for idempotent retries). */
export type Claim = {
  paymentHash: string;
  settledAt: number;
  idempotencyKey: string | null;
  response: string;
};

const SCHEMA = `CREATE TABLE IF NOT EXISTS claims (
  payment_hash TEXT PRIMARY KEY,
  settled_at INTEGER NOT NULL,
  idempotency_key TEXT,
  response TEXT NOT NULL
)`;

/** The claims table over a DO's SQL storage. */
export class Claims {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    sql.exec(SCHEMA);
  }

  /** The claim on `paymentHash`, or null. */
  get(paymentHash: string): Claim | null {
    const row = this.sql
      .exec<{
        payment_hash: string;
        settled_at: number;
        idempotency_key: string | null;
        response: string;
      }>("SELECT * FROM claims WHERE payment_hash = ?", paymentHash)
      .toArray()[0];
    return row
      ? {
          paymentHash: row.payment_hash,
          settledAt: row.settled_at,
          idempotencyKey: row.idempotency_key,
          response: row.response,
        }
      : null;
  }

  /** Records a claim; false if the hash was already claimed (nothing is changed then). */
  insert(claim: Claim): boolean {
    const cursor = this.sql.exec(
      "INSERT INTO claims (payment_hash, settled_at, idempotency_key, response) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      claim.paymentHash,
      claim.settledAt,
      claim.idempotencyKey,
      claim.response,
    );
    return cursor.rowsWritten > 0;
  }
}
