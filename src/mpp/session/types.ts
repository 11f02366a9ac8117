import type { LightningProvider } from "../../providers/LightningProvider.ts";
import type { Store } from "../../store/Store.ts";
import type { RefundStatus } from "./refunds.ts";
import type { CloseReason, SessionView } from "./state.ts";

export type { CloseReason, RefundStatus, SessionView };

/* The results of `Sessions` (draft-lightning-session-00); amounts are msat. */

/** Options of `new Sessions`. */
export type SessionsOptions = {
  store: Store;
  /** The issuing server's scope (`scopeOf(realm, serverId)`); every key is under it. Default "". */
  scope?: string;
  /** The merchant's provider; refunds are paid through it. */
  provider: LightningProvider;
  /** Clock in unix ms (default `Date.now`). */
  now?: () => number;
  /** How often waiters re-read the store for changes made by another instance (default 1000 ms). */
  pollIntervalMs?: number;
  /** How long a close waits for streams to settle what they delivered (default 5000 ms). */
  closeGraceMs?: number;
  /** Routing fee cap for refund payments. */
  refundMaxFeeMsat?: number;
};

/** Arguments of `Sessions.open`; the session id is the deposit invoice's payment hash. */
export type OpenArgs = {
  sessionId: string;
  depositMsat: number;
  /** The client's no-amount BOLT11 invoice the refund is paid to. */
  returnInvoice: string;
  amountPerUnitMsat: number;
  idleTimeoutSecs: number;
  /** sha256 of the client's bearer token, when it registered one. */
  bearerTokenHash?: string;
};

/** The outcome of `open`. */
export type OpenResult =
  | { ok: true; session: SessionView }
  | { ok: false; reason: "deposit-consumed" | "session-exists" };

/** Why an action on a session was refused (names follow the draft's problem types). */
export type SessionRefusal = "session-not-found" | "session-closed";

/** The outcome of `deduct`. */
export type DeductResult =
  | { ok: true; balanceMsat: number; spentMsat: number }
  | {
      ok: false;
      reason: "insufficient-balance" | SessionRefusal;
      balanceMsat: number;
      requiredMsat: number;
      spentMsat: number;
    };

/** The outcome of `reserve`; `renewAt` (unix ms) is when the stream should settle and reserve again so the session does not go idle. */
export type ReserveResult =
  | { ok: true; reservedMsat: number; balanceMsat: number; renewAt: number }
  | {
      ok: false;
      reason: "insufficient-balance" | "too-many-reservations" | SessionRefusal;
      balanceMsat: number;
      requiredMsat: number;
      spentMsat: number;
    };

/** The outcome of `settleReservation`; `releasedMsat` went back to the balance. */
export type SettleResult =
  | { ok: true; spentMsat: number; balanceMsat: number; releasedMsat: number }
  | { ok: false; reason: "reservation-not-found" | SessionRefusal };

/** The outcome of `topUp`. */
export type TopUpResult =
  | { ok: true; balanceMsat: number }
  | { ok: false; reason: "payment-consumed" | SessionRefusal };

/** The outcome of `touch`. */
export type TouchResult = { ok: true } | { ok: false; reason: SessionRefusal };

/** The outcome of `close`: the refund as recorded, the same for every retry. */
export type CloseResult =
  | {
      ok: true;
      sessionId: string;
      refundMsat: number;
      refundStatus: RefundStatus;
      preimage?: string;
      closeReason: CloseReason;
      /** True when an earlier call closed the session (this one reports its outcome). */
      alreadyClosed: boolean;
    }
  | { ok: false; reason: "session-not-found" };
