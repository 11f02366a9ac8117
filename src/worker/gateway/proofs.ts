import { decodePaymentSignatureHeader } from "@x402/core/http";
import { BadRequestError, type ProblemError } from "../../protocol/Errors.ts";
import * as Credential from "../../protocol/mpp/Credential.ts";
import { PaymentProblem } from "../../protocol/mpp/Problems.ts";
import { isRecord } from "../../protocol/Schema.ts";
import { checkCredential, type MppIssuer } from "./mppChallenge.ts";
import { checkSessionCredential } from "./sessionChallenge.ts";
import type { GatewayProof } from "./types.ts";

/**
 * Reads the payment proof a gateway request carries, if any, in this order: an x402
 * `PAYMENT-SIGNATURE` (lnbtc or legacy, told apart by the accepted network), an MPP
 * `Authorization: Payment` credential (lightning charge or session), or the browser page's `Ln402-Paid: <paymentHash>`.
 * Only the form is judged here; the merchant's object decides whether it pays.
 */

/** The header the browser paywall retries with: the payment hash of the invoice it paid. */
export const PAID_HEADER = "Ln402-Paid";

/** A proof, none, or why the one sent cannot be read. `challengeId` is kept for the MPP receipt. */
export type ProofRead =
  | { ok: true; proof: GatewayProof | null; challengeId: string | null }
  | { ok: false; problem: ProblemError };

const MAX_HEADER_CHARS = 16 * 1024;

/** Reads the request's proof. */
export function readRequestProof(headers: Headers, issuer: MppIssuer, nowMs: number): ProofRead {
  const signature = headers.get("PAYMENT-SIGNATURE");
  if (signature !== null) return readX402(signature);
  const authorization = headers.get("Authorization");
  if (authorization !== null && isPaymentCredential(authorization)) {
    try {
      const credential = Credential.parse(authorization);
      if (credential.challenge.method === "lightning" && credential.challenge.intent === "session")
        return {
          ok: true,
          proof: checkSessionCredential(issuer, credential, nowMs),
          challengeId: credential.challenge.id,
        };
      const proof = checkCredential(issuer, credential, nowMs);
      return {
        ok: true,
        proof: { protocol: "mpp", paymentHash: proof.paymentHash, preimage: proof.preimage },
        challengeId: proof.challengeId,
      };
    } catch (err) {
      if (err instanceof PaymentProblem) return { ok: false, problem: err };
      return { ok: false, problem: new BadRequestError("The Payment credential cannot be read.") };
    }
  }
  const paid = headers.get(PAID_HEADER);
  if (paid !== null) {
    const hash = paid.trim().toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(hash))
      return {
        ok: false,
        problem: new BadRequestError(
          `${PAID_HEADER} must be the paid invoice's payment hash: 64 hex characters.`,
        ),
      };
    return { ok: true, proof: { protocol: "browser", paymentHash: hash }, challengeId: null };
  }
  return { ok: true, proof: null, challengeId: null };
}

/** Whether an Authorization value uses the Payment scheme (and is then ln402's, not the upstream's). */
export function isPaymentCredential(authorization: string): boolean {
  return /^\s*payment\s/i.test(authorization);
}

function readX402(header: string): ProofRead {
  const malformed = {
    ok: false as const,
    problem: new BadRequestError(
      "PAYMENT-SIGNATURE must be base64 of an x402 v2 PaymentPayload JSON with accepted and payload.",
    ),
  };
  if (header.length > MAX_HEADER_CHARS) return malformed;
  let decoded: unknown;
  try {
    decoded = decodePaymentSignatureHeader(header);
  } catch {
    return malformed;
  }
  if (!isRecord(decoded) || !isRecord(decoded.accepted) || !isRecord(decoded.payload))
    return malformed;
  const network = decoded.accepted.network;
  const protocol =
    typeof network === "string" && network.startsWith("lnbtc:") ? "x402" : "x402-legacy";
  return {
    ok: true,
    proof: { protocol, accepted: decoded.accepted, payload: decoded.payload },
    challengeId: null,
  };
}
