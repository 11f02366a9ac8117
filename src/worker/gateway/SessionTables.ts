import { PENDING_WAIT_MS, type RefundStatus } from "../../mpp/session/refunds.ts";

/**
 * The gateway's session records in the merchant's Durable Object, beside the session
 * engine's own state: which route each session was opened on (a session bills only the
 * route whose price the payer accepted), and each refund's outcome with its retry
 * schedule, for the alarm and for the stats. Synchronous SQL: each method is one atomic step.
 */

/**
 * Waits before each retry of a failed refund, or each check of a pending one (at least
 * `PENDING_WAIT_MS`, when its attempt counts as dead); after the last one it stays as is.
 */
export const REFUND_BACKOFF_MS = [5_000, 60_000, 10 * 60_000, 60 * 60_000, 6 * 60 * 60_000];

/** Closed sessions are kept this long after their close (as invoices after expiry), then pruned. */
export const SESSION_RETENTION_MS = 30 * 86_400_000;

/** Session counts for `GET /merchants/:id/stats`. */
export type SessionStats = {
  openSessions: number;
  refundsPaid: number;
  refundsFailed: number;
  /** Refunds whose attempt has no outcome yet (the object stopped mid-payment; checked with the wallet on the backoff steps). */
  refundsPending: number;
};

const SCHEMA = `CREATE TABLE IF NOT EXISTS gateway_sessions (
  session_id TEXT PRIMARY KEY,
  route TEXT NOT NULL,
  opened_ms INTEGER NOT NULL,
  closed_ms INTEGER,
  refund_status TEXT,
  refund_msat INTEGER,
  refund_attempts INTEGER NOT NULL DEFAULT 0,
  retry_at_ms INTEGER
);
CREATE INDEX IF NOT EXISTS gateway_sessions_closed ON gateway_sessions (closed_ms);`;

/** The session table over a Durable Object's SQL storage. */
export class SessionTables {
  private readonly sql: SqlStorage;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.migrate();
  }

  /** (Re)creates the table; also after a `deleteAll()`, which drops it. */
  migrate(): void {
    this.sql.exec(SCHEMA);
  }

  /** Records a session opened on `route`. */
  opened(sessionId: string, route: string, nowMs: number): void {
    this.sql.exec(
      "INSERT OR IGNORE INTO gateway_sessions (session_id, route, opened_ms) VALUES (?, ?, ?)",
      sessionId,
      route,
      nowMs,
    );
  }

  /** The route a session was opened on, or null. */
  routeOf(sessionId: string): string | null {
    const row = this.sql
      .exec<{ route: string }>("SELECT route FROM gateway_sessions WHERE session_id = ?", sessionId)
      .toArray()[0];
    return row?.route ?? null;
  }

  /**
   * Records a refund attempt's outcome. A failure is scheduled for a retry, and a pending
   * refund (no recorded outcome) for a check, after the next backoff step, until the
   * steps run out; any other outcome ends the schedule.
   * True when this records the session's close (its first outcome), false for a retry.
   */
  refunded(
    sessionId: string,
    status: RefundStatus,
    refundMsat: number | null,
    nowMs: number,
  ): boolean {
    const row = this.sql
      .exec<{ attempts: number; closed: number | null }>(
        "SELECT refund_attempts AS attempts, closed_ms AS closed FROM gateway_sessions WHERE session_id = ?",
        sessionId,
      )
      .toArray()[0];
    const attempts = (row?.attempts ?? 0) + (status === "skipped" ? 0 : 1);
    const step = REFUND_BACKOFF_MS[attempts - 1];
    let wait: number | undefined;
    if (status === "failed") wait = step;
    else if (status === "pending" && step !== undefined) wait = Math.max(step, PENDING_WAIT_MS);
    this.sql.exec(
      `UPDATE gateway_sessions SET closed_ms = COALESCE(closed_ms, ?), refund_status = ?,
         refund_msat = COALESCE(?, refund_msat), refund_attempts = ?, retry_at_ms = ? WHERE session_id = ?`,
      nowMs,
      status,
      refundMsat,
      attempts,
      wait === undefined ? null : nowMs + wait,
      sessionId,
    );
    return row !== undefined && row.closed === null;
  }

  /** The recorded refund outcome of a session, or null before its close. */
  refundStatusOf(sessionId: string): RefundStatus | null {
    const row = this.sql
      .exec<{ status: RefundStatus | null }>(
        "SELECT refund_status AS status FROM gateway_sessions WHERE session_id = ?",
        sessionId,
      )
      .toArray()[0];
    return row?.status ?? null;
  }

  /**
   * Puts every pending refund with no check scheduled on the schedule at `nowMs`: those
   * recorded before pending refunds were checked, and those whose checks ran out. Run at
   * start-up, so each start of the object asks the wallet about them once more.
   */
  scheduleUncheckedPending(nowMs: number): void {
    this.sql.exec(
      "UPDATE gateway_sessions SET retry_at_ms = ? WHERE refund_status = 'pending' AND retry_at_ms IS NULL",
      nowMs,
    );
  }

  /** Takes a session off the retry schedule (nothing left to retry). */
  stopRetry(sessionId: string): void {
    this.sql.exec("UPDATE gateway_sessions SET retry_at_ms = NULL WHERE session_id = ?", sessionId);
  }

  /** Sessions whose failed refund is due for a retry, or pending one for a check, at `nowMs`. */
  dueRetries(nowMs: number): string[] {
    return this.sql
      .exec<{ id: string }>(
        "SELECT session_id AS id FROM gateway_sessions WHERE retry_at_ms IS NOT NULL AND retry_at_ms <= ?",
        nowMs,
      )
      .toArray()
      .map((r) => r.id);
  }

  /**
   * Up to `limit` sessions closed before `beforeMs` whose refund has a final outcome (paid,
   * skipped, or failed with no retry left): a pending one is still the engine's to finish.
   */
  closedBefore(beforeMs: number, limit: number): string[] {
    return this.sql
      .exec<{ id: string }>(
        `SELECT session_id AS id FROM gateway_sessions
         WHERE closed_ms < ? AND refund_status != 'pending' AND retry_at_ms IS NULL LIMIT ?`,
        beforeMs,
        limit,
      )
      .toArray()
      .map((r) => r.id);
  }

  /** Deletes a session's record. */
  forget(sessionId: string): void {
    this.sql.exec("DELETE FROM gateway_sessions WHERE session_id = ?", sessionId);
  }

  /** When the next refund retry is due (unix ms), or null. */
  nextRetryAt(): number | null {
    const row = this.sql
      .exec<{ next: number | null }>("SELECT MIN(retry_at_ms) AS next FROM gateway_sessions")
      .toArray()[0];
    return row?.next ?? null;
  }

  /** Open sessions now, and refund outcomes of sessions closed since `sinceMs`. */
  stats(sinceMs: number): SessionStats {
    const row = this.sql
      .exec<{ open: number; paid: number; failed: number; pending: number }>(
        `SELECT
           COALESCE(SUM(closed_ms IS NULL), 0) AS open,
           COALESCE(SUM(closed_ms >= ? AND refund_status = 'succeeded'), 0) AS paid,
           COALESCE(SUM(closed_ms >= ? AND refund_status = 'failed'), 0) AS failed,
           COALESCE(SUM(closed_ms >= ? AND refund_status = 'pending'), 0) AS pending
         FROM gateway_sessions`,
        sinceMs,
        sinceMs,
        sinceMs,
      )
      .one();
    return {
      openSessions: row.open,
      refundsPaid: row.paid,
      refundsFailed: row.failed,
      refundsPending: row.pending,
    };
  }
}
