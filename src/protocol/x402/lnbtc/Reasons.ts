/**
 * The stable reason strings of x402 `exact` on lnbtc, verbatim from scheme_exact_lnbtc
 * §Error Vocabulary. Facilitators answer with the first table; clients and servers use
 * the second locally. ln402 adds two reasons of its own for Receiver Key Isolation
 * (§Security Considerations), which the spec leaves to the resource server.
 */

/** Facilitator `errorReason`s (§Error Vocabulary, first table). */
export const SETTLE_REASONS = {
  unsupported_scheme: "Either side is not `exact`.",
  network_mismatch: "`accepted.network` differs from the requirement.",
  unsupported_network: "The concrete `lnbtc` network is unsupported.",
  invalid_exact_lnbtc_asset: "Either side does not specify `BTC`.",
  invalid_exact_lnbtc_amount: "Either amount is not a positive integer.",
  invalid_exact_lnbtc_amount_mismatch: "`accepted.amount` differs from the requirement.",
  invalid_exact_lnbtc_pay_to_mismatch: "`accepted.payTo` differs from the requirement.",
  invalid_exact_lnbtc_pay_to_malformed:
    "`payTo` is not a lowercase compressed secp256k1 public key.",
  invalid_exact_lnbtc_max_timeout_mismatch:
    "`accepted.maxTimeoutSeconds` differs from the requirement.",
  invalid_exact_lnbtc_extra_mismatch:
    "A server-declared `extra` field other than `invoice`, `requestHash`, `requestBindingProfile`, or `requestBindingParams` differs.",
  invalid_exact_lnbtc_request_binding:
    "A request hash, profile, or parameter object is missing or malformed, or a profile is unsupported.",
  invalid_exact_lnbtc_request_mismatch:
    "The accepted request hash, profile, or parameters differ from the requirement.",
  invalid_exact_lnbtc_asset_transfer_method:
    "Either explicit asset transfer method is not `bolt11`.",
  invalid_exact_lnbtc_payment_flow: "Either payment flow is missing or not `upfront`.",
  invalid_exact_lnbtc_invoice_missing: "Either required invoice field is absent.",
  invalid_exact_lnbtc_invoice_decode_failed:
    "Strict BOLT11 decoding, signature validation, or integral-msat validation failed.",
  invalid_exact_lnbtc_invoice_description:
    "The invoice does not contain exactly one description hash or contains an inline description.",
  invalid_exact_lnbtc_invoice_request_mismatch:
    "The signed description hash differs from the expected request hash.",
  invalid_exact_lnbtc_invoice_payee_mismatch: "The invoice signing key differs from `payTo`.",
  invalid_exact_lnbtc_invoice_currency_mismatch: "BOLT11 currency does not match the network.",
  invalid_exact_lnbtc_invoice_amount_mismatch:
    "BOLT11 amount differs from the required millisatoshis.",
  invalid_exact_lnbtc_max_timeout: "`maxTimeoutSeconds` is not a positive integer.",
  invalid_exact_lnbtc_invoice_expiry_mismatch: "BOLT11 expiry does not equal `maxTimeoutSeconds`.",
  invalid_exact_lnbtc_invoice_created_in_future:
    "BOLT11 creation time exceeds validation time plus the clock-skew allowance.",
  duplicate_settlement:
    "The network and payment-hash pair is already used or lost an atomic settlement race.",
  invalid_exact_lnbtc_preimage_missing: "`payload.preimage` is absent.",
  invalid_exact_lnbtc_preimage_malformed: "Preimage contains non-lowercase-hex characters.",
  invalid_exact_lnbtc_preimage_length: "Decoded preimage is not exactly 32 bytes.",
  invalid_exact_lnbtc_preimage_hash_mismatch:
    "SHA-256 of the preimage does not equal the payment hash.",
  invalid_exact_lnbtc_invoice_expired: "The paid-but-expired settlement-time window was exceeded.",
} as const;

/**
 * ln402's Receiver Key Isolation reasons (§Receiver Key Isolation 2.2 and 2.3): the same
 * words ln402's legacy x402 path already answers with.
 */
export const ISOLATION_REASONS = {
  unknown_invoice:
    "The invoice was not issued through ln402 by this merchant for this network, amount and request hash.",
  payment_not_received: "The merchant's wallet has not confirmed that it received this payment.",
} as const;

/** Local client and server reasons (§Error Vocabulary, second table). */
export const LOCAL_REASONS = {
  exact_lnbtc_invoice_issuance_denied: "The server's issuance limiter denied a new invoice.",
  invalid_exact_lnbtc_payer_invoice_mismatch: "The payer adapter returned a different invoice.",
  invalid_exact_lnbtc_payer_payment_hash_mismatch:
    "The payer adapter returned a different payment hash.",
  invalid_exact_lnbtc_payer_amount_mismatch: "The payer adapter returned a different amount.",
  exact_lnbtc_payment_in_flight: "Payment is still in flight and may be retried.",
  exact_lnbtc_payment_not_paid: "The payer did not report a paid status.",
  invalid_exact_lnbtc_payer_preimage_required: "A paid result omitted the mandatory preimage.",
  invalid_exact_lnbtc_payer_preimage_malformed:
    "A payer preimage is not 64 lowercase hex characters.",
  invalid_exact_lnbtc_payer_preimage_hash_mismatch:
    "A payer preimage does not hash to the invoice payment hash.",
} as const;

/** A facilitator settle reason of the spec. */
export type SettleReason = keyof typeof SETTLE_REASONS;
/** A Receiver Key Isolation reason of ln402. */
export type IsolationReason = keyof typeof ISOLATION_REASONS;
/** A local client/server reason of the spec. */
export type LocalReason = keyof typeof LOCAL_REASONS;
/** Any reason an lnbtc check can give. */
export type LnbtcReason = SettleReason | IsolationReason | LocalReason;

/** The human message of a reason (for `errorMessage`; clients switch on the reason). */
export function reasonMessage(reason: LnbtcReason): string {
  return (
    (SETTLE_REASONS as Record<string, string>)[reason] ??
    (ISOLATION_REASONS as Record<string, string>)[reason] ??
    (LOCAL_REASONS as Record<string, string>)[reason] ??
    reason
  );
}
