import { type Bolt11Network, readInvoice } from "../bolt11/Bolt11.ts";
import { isRecord } from "../Schema.ts";
import type { FacilitatorRequest } from "./Messages.ts";
import { lightningNetwork } from "./Networks.ts";
import { type Rejection, reject } from "./Reasons.ts";

/**
 * The stateless half of verifying an x402 Lightning payment: everything that can be
 * judged from the request alone (version, scheme, network, `accepted` against the
 * requirements, the payload's form, the invoice's own fields). What remains — is the
 * invoice in the named merchant's book, paid, not yet redeemed — is the merchant's
 * Durable Object's to decide, with `PaymentCheck` as its input.
 */

/** What the merchant's object checks against its invoice book. */
export type PaymentCheck = {
  paymentHash: string;
  /** The invoice the payload or requirements name, if any (must equal the book's). */
  invoice: string | null;
  /** The payer's proof, when the payload is `{ preimage }`. */
  preimage: string | null;
  amountMsat: number;
  network: Bolt11Network;
};

/** A request ready for the merchant's object, or the reason it is invalid already. */
export type Prepared =
  | {
      ok: true;
      merchantId: string;
      check: PaymentCheck;
      network: string;
    }
  | { ok: false; rejection: Rejection; network: string };

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Runs the stateless checks of `/verify` and `/settle`. */
export function preparePayment(request: FacilitatorRequest): Prepared {
  const { paymentPayload: pp, paymentRequirements: req } = request;
  const fail = (rejection: Rejection): Prepared => ({ ok: false, rejection, network: req.network });

  if (pp.x402Version !== 2 || (request.x402Version !== undefined && request.x402Version !== 2)) {
    return fail(reject("invalid_x402_version"));
  }
  if (req.scheme !== "exact") return fail(reject("unsupported_scheme"));
  const network = lightningNetwork(req.network);
  if (!network) return fail(reject("unsupported_network"));
  if (req.asset !== "BTC") return fail(reject("unsupported_asset"));
  if (!/^[1-9][0-9]{0,15}$/.test(req.amount) || !Number.isSafeInteger(Number(req.amount))) {
    return fail(
      reject(
        "invalid_requirements",
        "amount must be a positive whole number of msat, as a string.",
      ),
    );
  }
  const amountMsat = Number(req.amount);
  const extra = req.extra ?? {};
  const merchantId = extra.merchantId;
  if (typeof merchantId !== "string" || merchantId === "") {
    return fail(
      reject(
        "invalid_requirements",
        "extra.merchantId must name the ln402 merchant the payment is for.",
      ),
    );
  }
  const mismatch = acceptedMismatch(pp.accepted, req);
  if (mismatch)
    return fail(
      reject(
        "accepted_mismatch",
        `paymentPayload.accepted.${mismatch} differs from paymentRequirements.${mismatch}.`,
      ),
    );

  // The invoice: the payload's (the `{ invoice }` form) or the requirements'.
  const body = pp.payload;
  const preimage = typeof body.preimage === "string" ? body.preimage : null;
  const payloadInvoice = typeof body.invoice === "string" ? body.invoice : null;
  if (preimage === null && payloadInvoice === null) return fail(reject("invalid_payload"));
  if (preimage !== null && !HEX64.test(preimage)) {
    return fail(reject("invalid_payload", "preimage must be 64 hex characters."));
  }
  const requiredInvoice = typeof extra.invoice === "string" ? extra.invoice : null;
  const invoice = payloadInvoice ?? requiredInvoice;
  let paymentHash = typeof extra.paymentHash === "string" ? extra.paymentHash.toLowerCase() : null;
  if (invoice !== null) {
    // No signature check here: the merchant's object accepts only an invoice string it
    // issued (and verified) itself, so that match is the proof. Saves an ECDSA recovery.
    let decoded: ReturnType<typeof readInvoice>;
    try {
      decoded = readInvoice(invoice);
    } catch {
      return fail(reject("invalid_invoice"));
    }
    if (
      payloadInvoice !== null &&
      requiredInvoice !== null &&
      decoded.invoice !== requiredInvoice.toLowerCase()
    ) {
      return fail(reject("invoice_mismatch"));
    }
    if (paymentHash !== null && paymentHash !== decoded.paymentHash)
      return fail(reject("invoice_mismatch"));
    if (decoded.amountMsat !== amountMsat) return fail(reject("amount_mismatch"));
    if (decoded.network !== network) return fail(reject("network_mismatch"));
    paymentHash = decoded.paymentHash;
  }
  const claimedHash = typeof body.paymentHash === "string" ? body.paymentHash.toLowerCase() : null;
  if (claimedHash !== null && paymentHash !== null && claimedHash !== paymentHash)
    return fail(reject("invoice_mismatch"));
  paymentHash ??= claimedHash;
  if (paymentHash === null || !HEX64.test(paymentHash)) {
    return fail(
      reject("invalid_requirements", "Name the invoice: extra.invoice or extra.paymentHash."),
    );
  }
  return {
    ok: true,
    merchantId,
    network: req.network,
    check: {
      paymentHash,
      invoice: invoice?.toLowerCase() ?? null,
      preimage: preimage?.toLowerCase() ?? null,
      amountMsat,
      network,
    },
  };
}

/**
 * The first field where `accepted` disagrees with the requirements, or null. Compared:
 * everything that decides what is paid and to whom. `extra` keys the requirements set
 * must be echoed unchanged; the client may add its own.
 */
function acceptedMismatch(
  accepted: Record<string, unknown>,
  req: FacilitatorRequest["paymentRequirements"],
): string | null {
  for (const key of ["scheme", "network", "amount", "asset", "payTo"] as const) {
    if (req[key] !== undefined && accepted[key] !== req[key]) return key;
  }
  const acceptedExtra = isRecord(accepted.extra) ? accepted.extra : {};
  for (const key of ["merchantId", "invoice", "paymentHash", "paymentMethod"]) {
    const wanted = req.extra?.[key];
    if (wanted !== undefined && acceptedExtra[key] !== wanted) return `extra.${key}`;
  }
  return null;
}
