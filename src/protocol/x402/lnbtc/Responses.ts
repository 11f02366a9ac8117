import { reasonMessage } from "./Reasons.ts";
import type { SettleVerdict } from "./Settle.ts";

/**
 * The x402 answers of an lnbtc settle (scheme_exact_lnbtc §Settlement and Replay
 * Protection): on success `transaction` is the payment hash and `network` the concrete
 * lnbtc id; `payer` is always omitted (§Payer Anonymity). On failure `transaction` is
 * empty, as the x402 client requires a string.
 */

/** An x402 v2 `SettleResponse` for lnbtc (no `payer`, ever). */
export type LnbtcSettleResponse =
  | { success: true; transaction: string; network: string }
  | {
      success: false;
      errorReason: string;
      errorMessage: string;
      transaction: "";
      network: string;
    };

/**
 * The answer for a verdict. `requestedNetwork` is the requirements' network string,
 * echoed on failure (it may not be an lnbtc id at all).
 */
export function settleResponse(
  verdict: SettleVerdict,
  requestedNetwork: string,
): LnbtcSettleResponse {
  if (verdict.ok) {
    return { success: true, transaction: verdict.paymentHash, network: verdict.network };
  }
  return {
    success: false,
    errorReason: verdict.errorReason,
    errorMessage: reasonMessage(verdict.errorReason),
    transaction: "",
    network: requestedNetwork,
  };
}

/** The answer when the atomic replay insert found the key taken (§Settlement and Replay Protection). */
export function duplicateSettlement(requestedNetwork: string): LnbtcSettleResponse {
  return settleResponse(
    { ok: false, errorReason: "duplicate_settlement", step: 9 },
    requestedNetwork,
  );
}

/**
 * An x402 `VerifyResponse` for tooling: the upfront flow never needs `/verify`
 * (§Protocol sequence 3), but a facilitator may still answer it without consuming.
 */
export function verifyResponse(
  verdict: SettleVerdict,
): { isValid: true } | { isValid: false; invalidReason: string; invalidMessage: string } {
  return verdict.ok
    ? { isValid: true }
    : {
        isValid: false,
        invalidReason: verdict.errorReason,
        invalidMessage: reasonMessage(verdict.errorReason),
      };
}
