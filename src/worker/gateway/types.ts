import type { SessionPayload } from "../../mpp/session/wire.ts";
import type { Bolt11Network } from "../../protocol/bolt11/Bolt11.ts";
import type { GatewayRoute, Protocol } from "./RouteConfig.ts";

/**
 * What crosses between the gateway's Worker side and the merchant's Durable Object:
 * plain data only (Durable Object RPC), decided once by the object, rendered by the Worker.
 */

/** The protocol a proof came in: a route's protocols, the browser page's `Ln402-Paid`, or an MPP session credential. */
export type ProofProtocol = Protocol | "browser" | "mpp-session";

/** What the session challenge a credential echoes offered (its HMAC checked by the Worker). */
export type SessionTerms = {
  /** The per-unit price the payer accepted (draft-lightning-session-00 §request `amount`). */
  satsPerUnit: number;
  /** The payment hash of the challenge's deposit invoice. */
  depositHash: string;
  idleTimeoutSecs: number;
};

/** An MPP session credential, its challenge and preimage already checked by the Worker. */
export type SessionProof = {
  protocol: "mpp-session";
  payload: SessionPayload;
  terms: SessionTerms;
};

/**
 * A payment proof as the Worker read it from the request, before the merchant's object
 * judges it. x402 payloads are passed as decoded (the object runs the spec's checks);
 * an MPP credential arrives with its challenge's HMAC already checked by the Worker.
 */
export type GatewayProof =
  | { protocol: "x402"; accepted: unknown; payload: unknown }
  | { protocol: "x402-legacy"; accepted: unknown; payload: unknown }
  | { protocol: "mpp"; paymentHash: string; preimage: string }
  | { protocol: "browser"; paymentHash: string }
  | SessionProof;

/** One gateway request, as bound: `requestHash` is the lnbtc `http:1` hash of the live request. */
export type AdmitInput = {
  method: string;
  /** The raw path under `/gw/:merchantId` (starts with "/"). */
  path: string;
  /** The full request URL, as bound (the `resource.url` of the offer). */
  url: string;
  requestHash: string;
  proof: GatewayProof | null;
  /** False when the client is over its limit of unpaid requests: no invoice may be minted. */
  mayIssue: boolean;
};

/** The one invoice of a 402, and the wallet facts every protocol's offer needs. */
export type GatewayOffer = {
  invoice: string;
  paymentHash: string;
  amountMsat: number;
  /** Unix seconds. */
  expiresAt: number;
  expirySecs: number;
  network: Bolt11Network;
  /** The merchant's node key (lnbtc `payTo`). */
  nodePubkey: string;
  merchantId: string;
};

/** A paid (or retried) request the object admitted. */
export type PaidAdmission = {
  protocol: ProofProtocol;
  paymentHash: string;
  network: Bolt11Network;
  /** True when this is the one retry allowed after an upstream failure. */
  retry: boolean;
};

/** Why a proof was refused; `retryAfterSecs` when waiting may help (receipt not yet seen). */
export type Refusal = { reason: string; detail: string; retryAfterSecs?: number };

/** The object's decision on one gateway request. */
export type AdmitOutcome =
  | { kind: "no-route" }
  | { kind: "rate-limited"; routeKey: string }
  | { kind: "challenge"; route: GatewayRoute; routeKey: string; offer: GatewayOffer }
  | {
      kind: "forward";
      route: GatewayRoute;
      routeKey: string;
      /** The upstream secret (plaintext: it goes to the upstream in a header). */
      secret: string;
      paid: PaidAdmission | null;
    }
  | {
      kind: "refused";
      route: GatewayRoute;
      routeKey: string;
      protocol: ProofProtocol;
      refusal: Refusal;
    }
  | SessionAnswer
  | SessionServe;

/** A session action answered by the object itself (§topUp, §close): a 200 management body. */
export type SessionAnswer = {
  kind: "session-answer";
  routeKey: string;
  sessionId: string;
  body: Record<string, unknown>;
  /** Members the receipt carries besides the standard ones (the close outcome). */
  receiptExtra: Record<string, unknown>;
};

/** An open or bearer request to serve through the object's metered stream (its `fetch`). */
export type SessionServe = {
  kind: "session-serve";
  routeKey: string;
  sessionId: string;
};

/** What the Worker reports after the upstream failed a paid request. */
export type UpstreamFailure = {
  routeKey: string;
  /** Null for a dry-run request (counted, nothing to keep redeemable). */
  paymentHash: string | null;
  requestHash: string;
};

/** Whether the failed payment may be retried, and until when (unix ms). */
export type RetryWindow = { retryable: boolean; untilMs: number | null };

/** Per-route counters over a time window (`GET /merchants/:id/stats`). */
export type RouteStats = {
  route: string;
  requests: number;
  paidRequests: number;
  revenueMsat: number;
  dryRunRequests: number;
  dryRunWouldChargeMsat: number;
  upstreamFailures: number;
};
