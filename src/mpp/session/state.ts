import {
  array,
  count,
  hex,
  type Infer,
  object,
  oneOf,
  optional,
  required,
  string,
} from "../../protocol/Schema.ts";

/*
 * The durable shape of a Lightning session (draft-lightning-session-00 §Session State)
 * and of its refund record, as stored in a `Store`. Amounts are msat; times are unix ms.
 * Values are parsed with a schema on every read: the store may be shared and outlive
 * this code's version, so a stored value is not trusted to have the right shape.
 */

/** Most reservations one session may hold at once (one per live stream). */
export const MAX_RESERVATIONS = 1_000;

/** Why a session was closed. */
export type CloseReason = "client" | "idle";

/**
 * Schema of a stream's reservation: msat moved out of the balance so a stream can bill
 * events locally (`Sessions.reserve`), until settled (`Sessions.settleReservation`).
 */
export const ReservationSchema = object({
  streamId: required("streamId", string(64)),
  msat: required("msat", count),
  unitMsat: required("unitMsat", count),
});

/** A stream's reservation as stored. */
export type Reservation = Infer<typeof ReservationSchema>;

/** Schema of a stored session; `version` grows by one with every write. */
export const SessionStateSchema = object({
  version: required("version", count),
  sessionId: required("sessionId", hex(64)),
  /** `closing`: no new reservations; streams settle what they delivered before the refund is fixed. */
  status: required("status", oneOf(["open", "closing", "closed"])),
  depositMsat: required("depositMsat", count),
  topUpMsat: required("topUpMsat", count),
  spentMsat: required("spentMsat", count),
  units: required("units", count),
  amountPerUnitMsat: required("amountPerUnitMsat", count),
  returnInvoice: required("returnInvoice", string(4_000)),
  idleTimeoutSecs: required("idleTimeoutSecs", count),
  openedAt: required("openedAt", count),
  lastActivityAt: required("lastActivityAt", count),
  closedAt: optional("closedAt", count),
  closeReason: optional("closeReason", oneOf<CloseReason>(["client", "idle"])),
  /** Open reservations of live streams (absent: none); their sum is not in the balance. */
  reservations: optional("reservations", array(ReservationSchema, MAX_RESERVATIONS)),
  /** sha256 of the bearer token the client registered at open (mpp-specs #311); absent: none. */
  bearerTokenHash: optional("bearerTokenHash", hex(64)),
  /** Fixed when the session closes: deposit + top-ups − spent (reservations included). */
  refundMsat: optional("refundMsat", count),
});

/** A session as stored. */
export type SessionState = Infer<typeof SessionStateSchema>;

/** Schema of a refund record: `pending` until the one payment attempt has an outcome. */
export const RefundRecordSchema = object({
  status: required("status", oneOf(["pending", "succeeded", "failed"])),
  refundMsat: required("refundMsat", count),
  attemptedAt: required("attemptedAt", count),
  preimage: optional("preimage", hex(64)),
  /** The provider's error code when the payment failed (never a stack trace). */
  error: optional("error", string(200)),
});

/** A refund record as stored. */
export type RefundRecord = Infer<typeof RefundRecordSchema>;

/** Schema of the open-session index (ids only; deadlines live in each session). */
export const ActiveIndexSchema = array(hex(64), 1_000_000);

/** Parses a stored JSON value with `schema`; throws when the store holds something else. */
export function parseStored<T>(
  raw: string,
  schema: (value: unknown, path: string) => T,
  key: string,
): T {
  return schema(JSON.parse(raw), key);
}

/** The msat held by streams' reservations. */
export function reservedOf(state: SessionState): number {
  let msat = 0;
  for (const r of state.reservations ?? []) msat += r.msat;
  return msat;
}

/** The available balance in msat: deposit + top-ups − spent − reserved. */
export function balanceOf(state: SessionState): number {
  return unspentOf(state) - reservedOf(state);
}

/** What the payer is owed at close in msat: deposit + top-ups − spent, reservations included. */
export function unspentOf(state: SessionState): number {
  return state.depositMsat + state.topUpMsat - state.spentMsat;
}

/** When an open session becomes idle (unix ms), per draft-lightning-session-00 §Server-Initiated Close. */
export function idleDeadline(state: SessionState): number {
  return state.lastActivityAt + state.idleTimeoutSecs * 1000;
}

/** A session as stored, with its available balance and the msat its streams hold reserved. */
export type SessionView = SessionState & { balanceMsat: number; reservedMsat: number };

/** The session with its balance computed. */
export function view(state: SessionState): SessionView {
  return { ...state, balanceMsat: balanceOf(state), reservedMsat: reservedOf(state) };
}

/** One step of a read-modify-CAS update: the record to write (none: leave it) and the caller's result. */
export type Step<R> = { write?: SessionState; result: R };

/** The next version of `s`, with activity recorded at `now` (never moving backwards). */
export function bump(s: SessionState, now: number): SessionState {
  return { ...s, version: s.version + 1, lastActivityAt: Math.max(now, s.lastActivityAt) };
}
