import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { base64urlnopad } from "@scure/base";
import { ChargePayload, ChargeRequest } from "../../mpp/charge.ts";
import { decodeInvoice } from "../../protocol/bolt11/Bolt11.ts";
import { canonicalize } from "../../protocol/Jcs.ts";
import { encodeText } from "../../protocol/mpp/Base64Url.ts";
import * as Challenge from "../../protocol/mpp/Challenge.ts";
import type * as Credential from "../../protocol/mpp/Credential.ts";
import * as Problems from "../../protocol/mpp/Problems.ts";
import * as Receipt from "../../protocol/mpp/Receipt.ts";
import { proves } from "../../protocol/Preimage.ts";
import type { GatewayOffer } from "./types.ts";

/**
 * The gateway's MPP `lightning`/`charge` challenges (draft-httpauth-payment-00,
 * draft-lightning-charge-00), over ln402's MPP core: one challenge per 402 naming the
 * gateway invoice, its id an HMAC under a key derived from SECRETS_KEY, the merchant
 * bound in `opaque` so a challenge of one merchant never verifies at another. The
 * invoice book stays the authority: this check only refuses forgeries early.
 */

/** Who issues and checks challenges: the HMAC key, the realm (the gateway's host) and the merchant. */
export type MppIssuer = { secretKey: string; realm: string; merchantId: string };

const keys = new WeakMap<Uint8Array, string>();

/** The challenge HMAC key, derived once from the deployment's SECRETS_KEY (never stored). */
export function mppSecretKey(secretsKey: Uint8Array): string {
  let key = keys.get(secretsKey);
  if (key === undefined) {
    key = base64urlnopad.encode(
      hmac(sha256, secretsKey, new TextEncoder().encode("ln402 gateway mpp challenge v1")),
    );
    keys.set(secretsKey, key);
  }
  return key;
}

/** The `opaque` that binds a challenge to one merchant. */
export function opaqueOf(merchantId: string): string {
  return encodeText(canonicalize({ server: merchantId }));
}

/** The `WWW-Authenticate: Payment` value for the 402's invoice. */
export function mppChallenge(issuer: MppIssuer, offer: GatewayOffer, description: string): string {
  const request: ChargeRequest = {
    amount: String(offer.amountMsat / 1000),
    currency: "sat",
    methodDetails: {
      invoice: offer.invoice,
      paymentHash: offer.paymentHash,
      network: offer.network,
    },
  };
  if (description !== "") request.description = description;
  const challenge = Challenge.from({
    secretKey: issuer.secretKey,
    realm: issuer.realm,
    method: "lightning",
    intent: "charge",
    request,
    expires: new Date(offer.expiresAt * 1000).toISOString(),
    opaque: opaqueOf(issuer.merchantId),
    ...(description !== "" && { description }),
  });
  return Challenge.serialize(challenge);
}

/** A checked credential: the invoice it pays and the payer's preimage. */
export type MppProof = { paymentHash: string; preimage: string; challengeId: string };

/**
 * Checks a parsed credential: issued here for this merchant (HMAC, realm, opaque), a
 * lightning charge, unexpired, with a preimage of its invoice. Throws a PaymentProblem.
 */
export function checkCredential(
  issuer: MppIssuer,
  credential: Credential.Credential,
  nowMs: number,
): MppProof {
  const echo = credential.challenge;
  if (echo.method !== "lightning" || echo.intent !== "charge")
    throw Problems.methodUnsupported(
      `${echo.method}/${echo.intent} is not offered here; pay the lightning charge challenge.`,
    );
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
      "The challenge has expired; send the request again for a fresh one.",
    );
  let preimage: string;
  let invoice: string;
  try {
    preimage = ChargePayload(credential.payload, "payload").preimage;
    invoice = ChargeRequest(echo.request, "challenge.request").methodDetails.invoice;
  } catch {
    throw Problems.lightningMalformedCredential(
      "Send { preimage: <64 lowercase hex> } for the challenge's invoice.",
    );
  }
  const paymentHash = decodeInvoice(invoice).paymentHash;
  if (!proves(preimage, paymentHash))
    throw Problems.invalidPreimage("sha256(preimage) is not the invoice's payment hash.");
  return { paymentHash, preimage, challengeId: echo.id };
}

/** The `Payment-Receipt` value of a paid answer (draft-lightning-charge-00 §receipt). */
export function mppReceipt(paymentHash: string, challengeId: string, nowMs: number): string {
  return Receipt.serialize({
    status: "success",
    method: "lightning",
    intent: "charge",
    reference: paymentHash,
    challengeId,
    timestamp: new Date(nowMs).toISOString(),
  });
}
