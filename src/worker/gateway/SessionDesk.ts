import { keysOf } from "../../mpp/keys.ts";
import { closeAnswer } from "../../mpp/session/answers.ts";
import type { RefundStatus } from "../../mpp/session/refunds.ts";
import { Sessions } from "../../mpp/session/Sessions.ts";
import { decodeInvoice } from "../../protocol/bolt11/Bolt11.ts";
import { paymentHashOf } from "../../protocol/Preimage.ts";
import { isRecord } from "../../protocol/Schema.ts";
import type { OutgoingPaymentState } from "../../providers/LightningProvider.ts";
import { asyncStore, SqliteStore } from "../../store/SqliteStore.ts";
import type { BookEntry, InvoiceBook } from "../merchant/InvoiceBook.ts";
import type { InvoiceInput, IssuedInvoice } from "../merchant/MerchantDO.ts";
import type { Redemptions } from "../merchant/Redemptions.ts";
import type { WalletRecord } from "../merchant/registration.ts";
import { GATEWAY_INVOICE_EXPIRY_SECS } from "./offers.ts";
import type { GatewayRoute, SessionPrice } from "./RouteConfig.ts";
import { refundProvider, runDueRefunds } from "./refundSteps.ts";
import { SESSION_RETENTION_MS, type SessionStats, SessionTables } from "./SessionTables.ts";
import type { AdmitInput, AdmitOutcome, SessionProof } from "./types.ts";

/** What the session desk needs from its merchant's Durable Object. */
export type SessionDeskDeps = {
  sql: SqlStorage;
  book: InvoiceBook;
  /** The one consume-once table of every payment this merchant's gateway accepts. */
  redemptions: Redemptions;
  wallet(): WalletRecord;
  issue(input: InvoiceInput): Promise<IssuedInvoice>;
  /** Whether the wallet received the payment of `entry` (see GatewayDesk.received). */
  received(entry: BookEntry, preimage: string): Promise<boolean>;
  /** Pays a refund from the merchant's wallet; throws when the payment failed. */
  payRefund(invoice: string, amountMsat: number): Promise<{ preimage: string }>;
  /** What the merchant's wallet says of a payment it sent (settles refunds an eviction left pending). */
  lookupRefund?(paymentHash: string): Promise<OutgoingPaymentState>;
  /** Adds what a closed session earned to its route's revenue (see `SessionDesk.closed`). */
  countRevenue(routeKey: string, msat: number): void;
  /** Re-arms the object's one alarm (idle deadlines and refund retries included). */
  schedule(): Promise<void>;
  nowMs(): number;
};

/** A route whose price is a session. */
export type SessionRoute = GatewayRoute & { price: SessionPrice };

/** The engine's store scope in this object (its keys are built by `keysOf`). */
const SCOPE = "gateway";
/** Most sessions one alarm run prunes: a backlog is worked off over later runs. */
const PRUNE_BATCH = 200;

/** The description of every deposit invoice: it tells them from charge invoices (which bind a request hash). */
export const DEPOSIT_DESCRIPTION = "ln402 session deposit";

/**
 * Metered sessions inside the merchant's Durable Object (draft-lightning-session-00):
 * deposit (open), bearer, top-up and close, over ln402's session engine with its state
 * in this object's SQLite. The object is the single writer, so a balance is never
 * overdrawn; deposits and top-ups are redeemed in the same redemptions table as charge
 * proofs, so one payment buys one thing. Idle closes and refund retries run from the
 * object's one alarm.
 */
export class SessionDesk {
  /** The engine; streams bill through it (see sessionStream.ts). */
  readonly sessions: Sessions;
  private readonly deps: SessionDeskDeps;
  private readonly kv: SqliteStore;
  private readonly tables: SessionTables;

  constructor(deps: SessionDeskDeps) {
    this.deps = deps;
    this.kv = new SqliteStore(deps.sql, { now: deps.nowMs });
    this.kv.migrate();
    this.tables = new SessionTables(deps.sql);
    this.tables.scheduleUncheckedPending(deps.nowMs());
    const provider = refundProvider(deps.payRefund, deps.lookupRefund);
    // Every change is made in this object, so its own wake-ups reach every waiting
    // stream at once; the poll is only a backstop.
    this.sessions = new Sessions({
      store: asyncStore(this.kv),
      scope: SCOPE,
      provider,
      now: deps.nowMs,
      pollIntervalMs: 5_000,
    });
  }

  /** Recreates the tables after the merchant's storage was erased. */
  reset(): void {
    this.kv.migrate();
    this.tables.migrate();
  }

  /** The route a session was opened on (it bills only there), or null. */
  routeOf(sessionId: string): string | null {
    return this.tables.routeOf(sessionId);
  }

  /** Decides one request to a session route: a deposit challenge, a served request, a management answer, or a refusal. */
  async admit(route: SessionRoute, routeKey: string, input: AdmitInput): Promise<AdmitOutcome> {
    const refused = (reason: string, detail: string, retryAfterSecs?: number): AdmitOutcome => ({
      kind: "refused",
      route,
      routeKey,
      protocol: input.proof?.protocol ?? "mpp-session",
      refusal: { reason, detail, ...(retryAfterSecs !== undefined && { retryAfterSecs }) },
    });
    const proof = input.proof;
    if (proof === null) {
      if (!input.mayIssue) return { kind: "rate-limited", routeKey };
      return this.challenge(route, routeKey);
    }
    if (proof.protocol !== "mpp-session")
      return refused(
        "protocol_not_offered",
        "This route is metered: open an MPP lightning session with its session challenge.",
      );
    const { payload } = proof;
    switch (payload.action) {
      case "open":
        return this.open(routeKey, proof, refused);
      case "topUp":
        return this.topUp(routeKey, proof, refused);
      case "bearer":
      case "close": {
        const session = await this.sessions.get(payload.sessionId);
        if (!session) return refused("session_not_found", "No session has this id.");
        // mpp-specs #311: a session that registered a token needs it (routing nodes know the preimage).
        const token = payload.bearerToken;
        if (
          session.bearerTokenHash !== undefined &&
          (token === undefined || paymentHashOf(token) !== session.bearerTokenHash)
        )
          return refused(
            "bearer_token_mismatch",
            "This session is bound to a bearer token: send the bearerToken registered at open.",
          );
        if (session.status !== "open")
          return refused("session_closed", "This session is closed; open a new one.");
        if (payload.action === "close") return this.close(routeKey, payload.sessionId, refused);
        if (this.tables.routeOf(payload.sessionId) !== routeKey)
          return refused(
            "session_route_mismatch",
            "This session was opened on another route; it bills only the route whose price it accepted.",
          );
        const touched = await this.sessions.touch(payload.sessionId);
        if (!touched.ok)
          return refused("session_closed", "This session is closed; open a new one.");
        await this.deps.schedule();
        return { kind: "session-serve", routeKey, sessionId: payload.sessionId };
      }
    }
  }

  /** Closes idle sessions, retries failed refunds and settles stale pending ones that are due (the object's alarm). */
  async runDue(nowMs: number): Promise<void> {
    for (const closed of await this.sessions.closeIdle(nowMs)) {
      if (!closed.ok) continue;
      // A session found closed but still indexed (the object stopped mid-close) reports
      // its recorded outcome: record it unless it was recorded already.
      if (closed.alreadyClosed && this.tables.refundStatusOf(closed.sessionId) !== null) continue;
      await this.closed(closed.sessionId, closed.refundStatus, closed.refundMsat, nowMs);
    }
    await runDueRefunds(this.sessions, this.tables, nowMs, this.deps.nowMs);
  }

  /**
   * Forgets sessions closed over `SESSION_RETENTION_MS` ago (the object's alarm): the
   * engine's record, refund record and consumed markers, and the gateway's row. Safe to
   * forget: their deposit and top-up invoices expired before the close, so the invoice
   * book and the redemptions (pruned together, 30 days after expiry) refuse any replay of
   * their proofs on their own. One synchronous step; returns how many went.
   */
  prune(nowMs: number): number {
    const ids = this.tables.closedBefore(nowMs - SESSION_RETENTION_MS, PRUNE_BATCH);
    if (ids.length === 0) return 0;
    const keys = keysOf(SCOPE);
    for (const id of ids) {
      this.kv.delete(keys.session(id));
      this.kv.delete(keys.refund(id));
      this.kv.delete(keys.consumed(id));
      this.tables.forget(id);
    }
    // Top-up markers are keyed by their payment hash; their value names the session.
    const gone = new Set(ids);
    this.kv.deleteWhere(keys.consumed(""), (value) => gone.has(markerSession(value)));
    return ids.length;
  }

  /** When the alarm must next run for sessions (unix ms), or null. */
  async nextWakeMs(): Promise<number | null> {
    const idle = await this.sessions.nextIdleDeadline();
    const retry = this.tables.nextRetryAt();
    if (idle === null) return retry;
    return retry === null ? idle : Math.min(idle, retry);
  }

  /** Open sessions and refund outcomes since `sinceMs`. */
  stats(sinceMs: number): SessionStats {
    return this.tables.stats(sinceMs);
  }

  private async challenge(route: SessionRoute, routeKey: string): Promise<AdmitOutcome> {
    const wallet = this.deps.wallet();
    // No description hash: a deposit is not bound to one request (the stream, top-ups and
    // the close come from other requests), and so can never pass as a charge proof.
    const issued = await this.deps.issue({
      amountMsat: route.price.depositSats * 1000,
      description: DEPOSIT_DESCRIPTION,
      expirySecs: GATEWAY_INVOICE_EXPIRY_SECS,
    });
    return {
      kind: "challenge",
      route,
      routeKey,
      offer: {
        ...issued,
        expirySecs: GATEWAY_INVOICE_EXPIRY_SECS,
        network: wallet.network,
        nodePubkey: wallet.nodePubkey ?? "",
        merchantId: wallet.merchantId,
      },
    };
  }

  /**
   * The deposit (or top-up) invoice a proof pays, once it is this merchant's, a deposit,
   * received by the wallet and not yet redeemed; a refusal otherwise. Nothing is consumed.
   */
  private async depositFor(
    paymentHash: string,
    preimage: string,
    refused: Refuse,
  ): Promise<BookEntry | AdmitOutcome> {
    const entry = this.deps.book.get(paymentHash);
    if (!entry || entry.descriptionHash !== null || entry.description !== DEPOSIT_DESCRIPTION)
      return refused("unknown_invoice", "This merchant issued no such deposit invoice.");
    if (this.deps.redemptions.get(paymentHash))
      return refused(
        "already_redeemed",
        "This payment was already used (draft-lightning-session-00 §Replay Prevention); pay a fresh challenge.",
      );
    if (!(await this.deps.received(entry, preimage)))
      return refused(
        "payment_not_received",
        "The merchant's wallet has not seen this payment yet; retry in a moment.",
        1,
      );
    return entry;
  }

  private async open(
    routeKey: string,
    proof: SessionProof,
    refused: Refuse,
  ): Promise<AdmitOutcome> {
    const { payload, terms } = proof;
    if (payload.action !== "open") throw new TypeError("not an open");
    const nowMs = this.deps.nowMs();
    // §open: the refund goes to a no-amount invoice of the payer's, on this network.
    let returnOk = false;
    try {
      const back = decodeInvoice(payload.returnInvoice);
      returnOk =
        back.amountMsat === null &&
        back.network === this.deps.wallet().network &&
        back.expiresAt * 1000 > nowMs;
    } catch {
      returnOk = false;
    }
    if (!returnOk)
      return refused(
        "invalid_return_invoice",
        `returnInvoice must be an unexpired no-amount ${this.deps.wallet().network} invoice.`,
      );
    const entry = await this.depositFor(terms.depositHash, payload.preimage, refused);
    if ("kind" in entry) return entry;
    // From here to the session's creation every step is synchronous SQL: of any number
    // of concurrent opens (or a charge) with this payment, exactly one wins.
    if (!this.redeem(entry)) return refused("already_redeemed", "This payment was already used.");
    const opened = await this.sessions.open({
      sessionId: entry.paymentHash,
      depositMsat: entry.amountMsat,
      returnInvoice: payload.returnInvoice,
      // The payer accepted the challenge's price and timeout (HMAC-bound), fixed at open.
      amountPerUnitMsat: terms.satsPerUnit * 1000,
      idleTimeoutSecs: terms.idleTimeoutSecs,
      ...(payload.bearerTokenHash !== undefined && { bearerTokenHash: payload.bearerTokenHash }),
    });
    if (!opened.ok) return refused("already_redeemed", "This deposit already opened a session.");
    this.tables.opened(entry.paymentHash, routeKey, nowMs);
    await this.deps.schedule();
    return { kind: "session-serve", routeKey, sessionId: entry.paymentHash };
  }

  private async topUp(
    routeKey: string,
    proof: SessionProof,
    refused: Refuse,
  ): Promise<AdmitOutcome> {
    const { payload } = proof;
    if (payload.action !== "topUp") throw new TypeError("not a topUp");
    const session = await this.sessions.get(payload.sessionId);
    if (!session) return refused("session_not_found", "No session has this id.");
    if (session.status !== "open")
      return refused("session_closed", "This session is closed; its top-up was not taken.");
    const entry = await this.depositFor(proof.terms.depositHash, payload.topUpPreimage, refused);
    if ("kind" in entry) return entry;
    // Synchronous from the check above to the credit: the session cannot close in between.
    if (!this.redeem(entry)) return refused("already_redeemed", "This payment was already used.");
    const credited = await this.sessions.topUp(
      payload.sessionId,
      entry.paymentHash,
      entry.amountMsat,
    );
    if (!credited.ok) throw new Error(`top-up of an open session refused: ${credited.reason}`);
    // §TopUp Action: 200 {"status":"ok"}; the waiting streams were woken by the engine.
    const body = {
      status: "ok",
      sessionId: payload.sessionId,
      balanceSats: credited.balanceMsat / 1000,
      topUpSats: entry.amountMsat / 1000,
    };
    return {
      kind: "session-answer",
      routeKey,
      sessionId: payload.sessionId,
      body,
      receiptExtra: {},
    };
  }

  private async close(routeKey: string, sessionId: string, refused: Refuse): Promise<AdmitOutcome> {
    const closed = await this.sessions.close(sessionId, "client");
    if (!closed.ok || closed.alreadyClosed)
      return refused("session_closed", "This session is closed already.");
    await this.closed(sessionId, closed.refundStatus, closed.refundMsat, this.deps.nowMs());
    if (closed.refundStatus === "failed" || closed.refundStatus === "pending")
      await this.deps.schedule();
    // §close receipt: refundStatus is the recorded outcome; a failed refund is never "succeeded".
    const body = closeAnswer(closed);
    return { kind: "session-answer", routeKey, sessionId, body, receiptExtra: { ...body } };
  }

  /**
   * Records a close and, the first time only, counts the session's revenue: what it
   * billed (units × its price). Counted at the close because only then is the amount
   * final: before it, units a live stream reserved are neither spent nor refunded, and the
   * spent total moves inside the engine's settle steps, which this desk does not see.
   */
  private async closed(
    sessionId: string,
    status: RefundStatus,
    refundMsat: number,
    nowMs: number,
  ): Promise<void> {
    const spentMsat = (await this.sessions.get(sessionId))?.spentMsat ?? 0;
    // No await from here on: the close's record and its revenue are one atomic step.
    if (!this.tables.refunded(sessionId, status, refundMsat, nowMs)) return;
    const route = this.tables.routeOf(sessionId);
    if (route !== null && spentMsat > 0) this.deps.countRevenue(route, spentMsat);
  }

  private redeem(entry: BookEntry): boolean {
    return this.deps.redemptions.redeem({
      paymentHash: entry.paymentHash,
      settledAt: Math.floor(this.deps.nowMs() / 1000),
      amountMsat: entry.amountMsat,
    });
  }
}

type Refuse = (reason: string, detail: string, retryAfterSecs?: number) => AdmitOutcome;

/** The session a consumed marker names ("" when it names none). */
function markerSession(value: string): string {
  try {
    const parsed: unknown = JSON.parse(value);
    return isRecord(parsed) && typeof parsed.sessionId === "string" ? parsed.sessionId : "";
  } catch {
    return "";
  }
}
