/**
 * The stable vocabulary of `invalidReason` (verify) and `errorReason` (settle) that
 * ln402 answers with. Clients may switch on these; messages are for people.
 */
export const REASONS = {
  invalid_x402_version: "Only x402Version 2 is supported.",
  unsupported_scheme: 'Lightning payments use scheme "exact".',
  unsupported_network:
    "The network is not a Lightning network ln402 serves (bip122:… or lightning:…).",
  unsupported_asset: 'Lightning payments are in asset "BTC" (amounts in msat).',
  invalid_requirements: "The payment requirements are incomplete or malformed.",
  accepted_mismatch: "paymentPayload.accepted does not agree with paymentRequirements.",
  invalid_payload: "The payload must carry a preimage (64 hex) or the paid invoice.",
  invalid_invoice: "The invoice is not a valid BOLT11 invoice.",
  unknown_invoice: "The invoice was not issued by ln402 for the merchant the requirements name.",
  invoice_mismatch: "The paid invoice is not the invoice of these requirements.",
  amount_mismatch: "The invoice amount differs from the required amount.",
  network_mismatch: "The invoice is for another network than the requirements.",
  invoice_expired: "The invoice expired unpaid.",
  invalid_preimage: "The preimage does not hash to the invoice's payment hash.",
  payment_not_received: "The merchant's wallet has not received this payment.",
  wallet_unavailable: "The merchant's wallet could not be asked; retry shortly.",
  already_settled: "This payment was already settled; a proof redeems once.",
  payment_in_progress:
    "Another request is redeeming this proof right now; a proof buys one delivery.",
} as const;

/** One of ln402's x402 reasons. */
export type Reason = keyof typeof REASONS;

/** A rejected payment: the reason code and a message that says what was wrong. */
export type Rejection = { reason: Reason; message: string };

/** Builds a rejection, with the standard message unless a more precise one is given. */
export function reject(reason: Reason, message: string = REASONS[reason]): Rejection {
  return { reason, message };
}
