/**
 * The wire shapes of the `lightning`/`session` intent (draft-lightning-session-00 §request,
 * §credential): the challenge request and the four payload actions, as schemas that also
 * give the types. Amounts are sats as decimal strings, as on the wire.
 */
import {
  type Infer,
  object,
  oneOf,
  optional,
  required,
  SchemaIssue,
  string,
} from "../../protocol/Schema.ts";

const sats = (v: unknown, path: string): string => {
  if (typeof v !== "string" || !/^[1-9]\d{0,15}$/.test(v))
    throw new SchemaIssue(path, "a positive whole number of sats as a decimal string");
  return v;
};

const seconds = (v: unknown, path: string): string => {
  if (typeof v !== "string" || !/^[1-9]\d{0,9}$/.test(v))
    throw new SchemaIssue(path, "a positive whole number of seconds as a decimal string");
  return v;
};

/** 64 lowercase hex characters (a preimage, a payment hash, a session id). */
export const lowerHex64 = (v: unknown, path: string): string => {
  if (typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v))
    throw new SchemaIssue(path, "64 lowercase hex characters");
  return v;
};

/** draft-lightning-session-00 §request: `amount` per unit; `paymentHash` is the deposit invoice's. */
export const SessionRequest = object({
  amount: required("amount", sats),
  currency: required("currency", oneOf(["sat"] as const)),
  description: optional("description", string(639)),
  unitType: optional("unitType", string(64)),
  depositInvoice: required("depositInvoice", string(7089)),
  paymentHash: required("paymentHash", lowerHex64),
  /** Optional (§request): absent, the deposit is the invoice's amount. */
  depositAmount: optional("depositAmount", sats),
  /** Optional (§request): absent, the server's default (300 s). */
  idleTimeout: optional("idleTimeout", seconds),
  /**
   * ln402 extension (mpp-specs #311): the server accepts ("offered") or demands
   * ("required") a bearer token registered at open, which routing nodes cannot learn.
   */
  bearerToken: optional("bearerToken", oneOf(["offered", "required"] as const)),
});
/** A lightning/session challenge request. */
export type SessionRequest = Infer<typeof SessionRequest>;

/** §open: the deposit's preimage and the client's no-amount refund invoice. */
export const OpenPayload = object({
  action: required("action", oneOf(["open"] as const)),
  preimage: required("preimage", lowerHex64),
  returnInvoice: required("returnInvoice", string(7089)),
  /** ln402 extension: sha256 of the client's bearer token; later actions must show the token. */
  bearerTokenHash: optional("bearerTokenHash", lowerHex64),
});

/** §bearer: authorizes one request against an open session. */
export const BearerPayload = object({
  action: required("action", oneOf(["bearer"] as const)),
  sessionId: required("sessionId", lowerHex64),
  preimage: required("preimage", lowerHex64),
  /** ln402 extension: the token whose hash was registered at open. */
  bearerToken: optional("bearerToken", lowerHex64),
});

/** §topUp: the preimage of the fresh deposit invoice of this credential's challenge. */
export const TopUpPayload = object({
  action: required("action", oneOf(["topUp"] as const)),
  sessionId: required("sessionId", lowerHex64),
  topUpPreimage: required("topUpPreimage", lowerHex64),
});

/** §close: ends the session and refunds the balance to the return invoice. */
export const ClosePayload = object({
  action: required("action", oneOf(["close"] as const)),
  sessionId: required("sessionId", lowerHex64),
  preimage: required("preimage", lowerHex64),
  /** ln402 extension: the token whose hash was registered at open. */
  bearerToken: optional("bearerToken", lowerHex64),
});

/** Any session payload, checked by its `action`. */
export type SessionPayload =
  | Infer<typeof OpenPayload>
  | Infer<typeof BearerPayload>
  | Infer<typeof TopUpPayload>
  | Infer<typeof ClosePayload>;

const ACTIONS = {
  open: OpenPayload,
  bearer: BearerPayload,
  topUp: TopUpPayload,
  close: ClosePayload,
};

/** Parses a session payload by its `action`; throws SchemaIssue. */
export function parsePayload(value: unknown, path: string): SessionPayload {
  const action = object({
    action: required("action", oneOf(["open", "bearer", "topUp", "close"] as const)),
  })(value, path).action;
  return ACTIONS[action](value, path);
}

/** The body of a close answer and the extra members of its receipt. */
export type CloseAnswer = {
  status: "closed";
  sessionId: string;
  refundSats: number;
  refundStatus: "succeeded" | "failed" | "skipped" | "pending";
};
