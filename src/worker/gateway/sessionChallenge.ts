import { receiptFor } from "../../mpp/session/answers.ts";
import { parsePayload, SessionRequest } from "../../mpp/session/wire.ts";
import { PROBLEM_BASE } from "../../protocol/Errors.ts";
import * as Challenge from "../../protocol/mpp/Challenge.ts";
import type * as Credential from "../../protocol/mpp/Credential.ts";
import * as Problems from "../../protocol/mpp/Problems.ts";
import * as Receipt from "../../protocol/mpp/Receipt.ts";
import { paymentHashOf } from "../../protocol/Preimage.ts";
import { SchemaIssue } from "../../protocol/Schema.ts";
import { type MppIssuer, opaqueOf } from "./mppChallenge.ts";
import type { SessionPrice } from "./RouteConfig.ts";
import type { GatewayOffer, SessionProof } from "./types.ts";

/**
 * The Worker's half of the gateway's MPP `lightning`/`session` intent
 * (draft-lightning-session-00, with ln402's bearer token, mpp-specs #311): the 402 that
 * offers a deposit invoice, the stateless check of a session credential (HMAC, realm,
 * merchant, expiry, payload shape, preimage against the hash it must prove), and the
 * receipt. Balances, consume-once and refunds are the merchant's object's.
 */

/** The `WWW-Authenticate: Payment` value offering a session whose deposit is `offer`'s invoice. */
export function sessionChallenge(
  issuer: MppIssuer,
  offer: GatewayOffer,
  price: SessionPrice,
  description: string,
): string {
  const request: SessionRequest = {
    amount: String(price.satsPerUnit),
    currency: "sat",
    unitType: "event",
    depositInvoice: offer.invoice,
    paymentHash: offer.paymentHash,
    depositAmount: String(price.depositSats),
    idleTimeout: String(price.idleTimeoutSecs),
    // mpp-specs #311: offered, not required, so clients that know only the draft can pay.
    bearerToken: "offered",
    ...(description !== "" && { description }),
  };
  return Challenge.serialize(
    Challenge.from({
      secretKey: issuer.secretKey,
      realm: issuer.realm,
      method: "lightning",
      intent: "session",
      request,
      expires: new Date(offer.expiresAt * 1000).toISOString(),
      opaque: opaqueOf(issuer.merchantId),
      ...(description !== "" && { description }),
    }),
  );
}

/** The 402 of a session route: the session challenge and a problem body naming the deposit. */
export function sessionChallengeResponse(
  issuer: MppIssuer,
  offer: GatewayOffer,
  price: SessionPrice,
  description: string,
): Response {
  const body = {
    type: `${PROBLEM_BASE}payment-required`,
    title: "Payment required",
    status: 402,
    detail: `This route is metered: ${price.satsPerUnit} sats per event, from a prepaid deposit of ${price.depositSats} sats. Open an MPP lightning session (WWW-Authenticate) by paying the deposit invoice; the unspent rest is refunded when the session closes.`,
    invoice: offer.invoice,
    paymentHash: offer.paymentHash,
    depositSats: price.depositSats,
    satsPerUnit: price.satsPerUnit,
    expiresAt: offer.expiresAt,
  };
  return new Response(JSON.stringify(body), {
    status: 402,
    headers: {
      "Content-Type": "application/problem+json",
      "Cache-Control": "no-store",
      "WWW-Authenticate": sessionChallenge(issuer, offer, price, description),
    },
  });
}

/**
 * Checks a session credential's own evidence; throws a PaymentProblem. The echoed
 * challenge must be this gateway's, for this merchant, unexpired (core -01: bearer and
 * close echo the most recent unexpired challenge); open and topUp must prove its deposit
 * invoice, bearer and close the session id (§bearer, §close: sessionId = sha256(preimage)).
 */
export function checkSessionCredential(
  issuer: MppIssuer,
  credential: Credential.Credential,
  nowMs: number,
): SessionProof {
  const echo = credential.challenge;
  if (
    echo.realm !== issuer.realm ||
    echo.opaque !== opaqueOf(issuer.merchantId) ||
    !Challenge.verify(echo, issuer.secretKey)
  )
    throw Problems.invalidChallenge(
      "The echoed challenge was not issued by this gateway for this merchant; pay a fresh challenge.",
    );
  if (!(nowMs < Date.parse(echo.expires ?? "")))
    throw Problems.paymentExpired(
      "The echoed challenge has expired; send the request without a credential for a fresh one.",
    );
  let payload: SessionProof["payload"];
  let request: SessionRequest;
  try {
    payload = parsePayload(credential.payload, "payload");
    request = SessionRequest(echo.request, "challenge.request");
  } catch (err) {
    if (!(err instanceof SchemaIssue)) throw err;
    throw Problems.lightningMalformedCredential(`${err.message}.`);
  }
  const proven = payload.action === "topUp" ? payload.topUpPreimage : payload.preimage;
  const mustProve =
    payload.action === "open" || payload.action === "topUp"
      ? request.paymentHash
      : payload.sessionId;
  if (paymentHashOf(proven) !== mustProve)
    throw Problems.invalidPreimage(
      payload.action === "open" || payload.action === "topUp"
        ? "sha256(preimage) is not the deposit invoice's payment hash."
        : "sha256(preimage) is not the sessionId.",
    );
  return {
    protocol: "mpp-session",
    payload,
    terms: {
      satsPerUnit: Number(request.amount),
      depositHash: request.paymentHash,
      idleTimeoutSecs: Number(request.idleTimeout ?? "300"),
    },
  };
}

/** The `Payment-Receipt` of a session answer (reference = sessionId, with `challengeId`). */
export function sessionReceipt(
  sessionId: string,
  challengeId: string,
  nowMs: number,
  extra: Record<string, unknown> = {},
): string {
  return Receipt.serialize(receiptFor(sessionId, challengeId, nowMs, extra));
}
