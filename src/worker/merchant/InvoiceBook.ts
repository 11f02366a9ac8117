/**
 * A merchant's invoice book: every invoice ln402 issued for the merchant, in the
 * merchant's Durable Object SQLite storage. It is the authority on "did ln402 issue
 * this invoice, for whom, for how much" and, kept current by wallet notifications and
 * lookups, on "is it paid". Synchronous SQL inside a DO: each method is atomic.
 */

/** One invoice as the book knows it. Times: `*At` unix seconds, `checkedAtMs` ms. */
export type BookEntry = {
  paymentHash: string;
  invoice: string;
  amountMsat: number;
  description: string | null;
  /** The invoice's `h` field when it was issued for a description hash (x402 lnbtc request hash). */
  descriptionHash: string | null;
  createdAt: number;
  expiresAt: number;
  status: "pending" | "paid";
  settledAt: number | null;
  /** When the wallet last confirmed this entry's status (creation, notification or lookup). */
  checkedAtMs: number;
};

type Row = {
  payment_hash: string;
  invoice: string;
  amount_msat: number;
  description: string | null;
  description_hash: string | null;
  created_at: number;
  expires_at: number;
  status: string;
  settled_at: number | null;
  checked_at_ms: number;
};

const SCHEMA = `CREATE TABLE IF NOT EXISTS invoices (
  payment_hash TEXT PRIMARY KEY,
  invoice TEXT NOT NULL,
  amount_msat INTEGER NOT NULL,
  description TEXT,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'paid')),
  settled_at INTEGER,
  preimage TEXT,
  checked_at_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS invoices_pending ON invoices (status, expires_at);`;

/** The invoice book over a DO's SQL storage. */
export class InvoiceBook {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.migrate();
  }

  /** (Re)creates the table; also after a `deleteAll()`, which drops it. */
  migrate(): void {
    this.sql.exec(SCHEMA);
    // The column is kept for old rows' sake; a preimage proves nothing once stored.
    this.sql.exec("UPDATE invoices SET preimage = NULL WHERE preimage IS NOT NULL");
    const columns = this.sql
      .exec<{ name: string }>("SELECT name FROM pragma_table_info('invoices')")
      .toArray()
      .map((c) => c.name);
    if (!columns.includes("description_hash"))
      this.sql.exec("ALTER TABLE invoices ADD COLUMN description_hash TEXT");
  }

  /** Records a new pending invoice. */
  add(entry: Omit<BookEntry, "status" | "settledAt">): void {
    this.sql.exec(
      `INSERT INTO invoices (payment_hash, invoice, amount_msat, description, description_hash, created_at, expires_at, status, checked_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
      entry.paymentHash,
      entry.invoice,
      entry.amountMsat,
      entry.description,
      entry.descriptionHash,
      entry.createdAt,
      entry.expiresAt,
      entry.checkedAtMs,
    );
  }

  /** The entry for `paymentHash`, or null if this merchant never issued it. */
  get(paymentHash: string): BookEntry | null {
    const row = this.sql
      .exec<Row>("SELECT * FROM invoices WHERE payment_hash = ?", paymentHash)
      .toArray()[0];
    return row ? toEntry(row) : null;
  }

  /**
   * Marks an invoice paid, once: later calls (a notification and a lookup racing)
   * change nothing. Only for what proves a payment: the wallet saying it received it,
   * or a payer presenting the preimage. Returns true when this call made the change.
   */
  markPaid(paymentHash: string, settledAt: number, nowMs: number): boolean {
    const cursor = this.sql.exec(
      `UPDATE invoices SET status = 'paid', settled_at = ?, checked_at_ms = ?
       WHERE payment_hash = ? AND status = 'pending'`,
      settledAt,
      nowMs,
      paymentHash,
    );
    return cursor.rowsWritten > 0;
  }

  /** Records that the wallet confirmed the entry is still unpaid. */
  markChecked(paymentHash: string, nowMs: number): void {
    this.sql.exec(
      "UPDATE invoices SET checked_at_ms = ? WHERE payment_hash = ?",
      nowMs,
      paymentHash,
    );
  }

  /** Unpaid, unexpired invoices (oldest first), which notifications or lookups must settle. */
  pending(nowSecs: number, limit = 100): BookEntry[] {
    return this.sql
      .exec<Row>(
        "SELECT * FROM invoices WHERE status = 'pending' AND expires_at > ? ORDER BY created_at LIMIT ?",
        nowSecs,
        limit,
      )
      .toArray()
      .map(toEntry);
  }

  /**
   * Deletes entries that expired more than `retentionSecs` ago (paid or not) and returns
   * their hashes. A proof for a pruned invoice is then an unknown invoice: refused.
   */
  prune(nowSecs: number, retentionSecs: number, limit = 500): string[] {
    const rows = this.sql
      .exec<{ payment_hash: string }>(
        "SELECT payment_hash FROM invoices WHERE expires_at <= ? LIMIT ?",
        nowSecs - retentionSecs,
        limit,
      )
      .toArray();
    for (const row of rows)
      this.sql.exec("DELETE FROM invoices WHERE payment_hash = ?", row.payment_hash);
    return rows.map((r) => r.payment_hash);
  }

  /** Counts by status, with expired split out from pending. */
  counts(nowSecs: number): { pending: number; paid: number; expired: number } {
    const row = this.sql
      .exec<{ pending: number; paid: number; expired: number }>(
        `SELECT
           COALESCE(SUM(status = 'pending' AND expires_at > ?1), 0) AS pending,
           COALESCE(SUM(status = 'paid'), 0) AS paid,
           COALESCE(SUM(status = 'pending' AND expires_at <= ?1), 0) AS expired
         FROM invoices`,
        nowSecs,
      )
      .one();
    return { pending: row.pending, paid: row.paid, expired: row.expired };
  }
}

function toEntry(row: Row): BookEntry {
  return {
    paymentHash: row.payment_hash,
    invoice: row.invoice,
    amountMsat: row.amount_msat,
    description: row.description,
    descriptionHash: row.description_hash ?? null,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    status: row.status === "paid" ? "paid" : "pending",
    settledAt: row.settled_at,
    checkedAtMs: row.checked_at_ms,
  };
}
