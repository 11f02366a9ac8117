import type { RouteStats } from "./types.ts";

/**
 * The gateway's SQLite tables in the merchant's Durable Object: per-minute counters per
 * route (pruned after `STATS_RETENTION_SECS`), and the retry grants that keep a paid
 * proof redeemable once more after the upstream failed. Synchronous SQL in a Durable
 * Object: each method is one atomic step.
 */

/** Counters are kept this long, then pruned. */
export const STATS_RETENTION_SECS = 30 * 86_400;
/** How long after an upstream failure the same bound request may be retried with the same proof. */
export const RETRY_WINDOW_MS = 10 * 60_000;

/** Increments of one bucket. */
export type StatsDelta = Partial<Omit<RouteStats, "route">>;

const SCHEMA = `CREATE TABLE IF NOT EXISTS gateway_stats (
  minute INTEGER NOT NULL,
  route TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  paid INTEGER NOT NULL DEFAULT 0,
  revenue_msat INTEGER NOT NULL DEFAULT 0,
  dry_run INTEGER NOT NULL DEFAULT 0,
  would_charge_msat INTEGER NOT NULL DEFAULT 0,
  upstream_failures INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, route)
);
CREATE TABLE IF NOT EXISTS gateway_retries (
  payment_hash TEXT PRIMARY KEY,
  request_hash TEXT NOT NULL,
  until_ms INTEGER NOT NULL,
  uses_left INTEGER NOT NULL
);`;

/** The gateway's counters and retry grants over a Durable Object's SQL storage. */
export class GatewayTables {
  private readonly sql: SqlStorage;
  private prunedMinute = 0;

  constructor(sql: SqlStorage) {
    this.sql = sql;
    this.migrate();
  }

  /** (Re)creates the tables; also after a `deleteAll()`, which drops them. */
  migrate(): void {
    this.sql.exec(SCHEMA);
  }

  /** Adds `delta` to the route's bucket of the minute containing `nowMs`. */
  count(route: string, nowMs: number, delta: StatsDelta): void {
    const minute = Math.floor(nowMs / 60_000);
    this.sql.exec(
      `INSERT INTO gateway_stats (minute, route, requests, paid, revenue_msat, dry_run, would_charge_msat, upstream_failures)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (minute, route) DO UPDATE SET
         requests = requests + excluded.requests,
         paid = paid + excluded.paid,
         revenue_msat = revenue_msat + excluded.revenue_msat,
         dry_run = dry_run + excluded.dry_run,
         would_charge_msat = would_charge_msat + excluded.would_charge_msat,
         upstream_failures = upstream_failures + excluded.upstream_failures`,
      minute,
      route,
      delta.requests ?? 0,
      delta.paidRequests ?? 0,
      delta.revenueMsat ?? 0,
      delta.dryRunRequests ?? 0,
      delta.dryRunWouldChargeMsat ?? 0,
      delta.upstreamFailures ?? 0,
    );
    // Once a minute is plenty: buckets are per minute.
    if (minute !== this.prunedMinute) {
      this.prunedMinute = minute;
      this.prune(nowMs);
    }
  }

  /** Sums per route of the buckets from `sinceMs` (rounded down to its minute) on. */
  stats(sinceMs: number): RouteStats[] {
    return this.sql
      .exec<{
        route: string;
        requests: number;
        paid: number;
        revenue: number;
        dry: number;
        would: number;
        failures: number;
      }>(
        `SELECT route, SUM(requests) AS requests, SUM(paid) AS paid, SUM(revenue_msat) AS revenue,
           SUM(dry_run) AS dry, SUM(would_charge_msat) AS would, SUM(upstream_failures) AS failures
         FROM gateway_stats WHERE minute >= ? GROUP BY route ORDER BY route`,
        Math.floor(sinceMs / 60_000),
      )
      .toArray()
      .map((r) => ({
        route: r.route,
        requests: r.requests,
        paidRequests: r.paid,
        revenueMsat: r.revenue,
        dryRunRequests: r.dry,
        dryRunWouldChargeMsat: r.would,
        upstreamFailures: r.failures,
      }));
  }

  /**
   * Grants one retry of the bound request `requestHash` with the proof of `paymentHash`
   * until `untilMs`. Only the first failure grants: a failed retry finds the row and
   * changes nothing, so a proof buys at most one delivery attempt more.
   */
  grantRetry(paymentHash: string, requestHash: string, untilMs: number): boolean {
    const cursor = this.sql.exec(
      `INSERT INTO gateway_retries (payment_hash, request_hash, until_ms, uses_left)
       VALUES (?, ?, ?, 1) ON CONFLICT DO NOTHING`,
      paymentHash,
      requestHash,
      untilMs,
    );
    return cursor.rowsWritten > 0;
  }

  /** Uses the retry grant of `paymentHash` for `requestHash`; false when there is none left. */
  useRetry(paymentHash: string, requestHash: string, nowMs: number): boolean {
    const cursor = this.sql.exec(
      `UPDATE gateway_retries SET uses_left = uses_left - 1
       WHERE payment_hash = ? AND request_hash = ? AND until_ms > ? AND uses_left > 0`,
      paymentHash,
      requestHash,
      nowMs,
    );
    return cursor.rowsWritten > 0;
  }

  private prune(nowMs: number): void {
    this.sql.exec(
      "DELETE FROM gateway_stats WHERE minute < ?",
      Math.floor((nowMs - STATS_RETENTION_SECS * 1000) / 60_000),
    );
    this.sql.exec("DELETE FROM gateway_retries WHERE until_ms < ?", nowMs - 86_400_000);
  }
}
