import { type Bolt11Network, decodeInvoice } from "../../protocol/bolt11/Bolt11.ts";
import { proves } from "../../protocol/Preimage.ts";
import { isRecord } from "../../protocol/Schema.ts";
import type { LnbtcNetworkName } from "../../protocol/x402/lnbtc/Networks.ts";
import { reasonMessage } from "../../protocol/x402/lnbtc/Reasons.ts";
import { checkSettlement } from "../../protocol/x402/lnbtc/Settle.ts";
import { lightningNetwork } from "../../protocol/x402/Networks.ts";
import { lnbtcAccept } from "./offers.ts";
import type { GatewayProof, Refusal } from "./types.ts";

/**
 * The stateless half of judging a gateway proof, per protocol: which invoice it claims
 * to pay and whether its own evidence holds (for lnbtc, scheme_exact_lnbtc §Facilitator
 * Validation steps 1–7 against requirements recomputed from the live request). Pure.
 * Whether the invoice is this merchant's, for this request, received and unredeemed is
 * the merchant's object's to decide next.
 */

/** What a proof is judged against. */
export type ProofContext = {
  amountMsat: number;
  requestHash: string;
  network: Bolt11Network;
  nodePubkey: string;
  merchantId: string;
  /** Unix seconds. */
  nowSecs: number;
  networks: readonly LnbtcNetworkName[];
};

/** The invoice a proof names, and the payer's preimage when it carries one. */
export type ReadProof =
  | { ok: true; paymentHash: string; preimage: string | null }
  | { ok: false; refusal: Refusal };

const HASH = /^[0-9a-f]{64}$/;
const refuse = (reason: string, detail: string): ReadProof => ({
  ok: false,
  refusal: { reason, detail },
});

/** Reads and checks a proof's own evidence. */
export function readProof(proof: GatewayProof, ctx: ProofContext): ReadProof {
  switch (proof.protocol) {
    case "x402":
      return readLnbtc(proof.accepted, proof.payload, ctx);
    case "x402-legacy":
      return readLegacy(proof.accepted, proof.payload, ctx);
    case "mpp":
      return proves(proof.preimage, proof.paymentHash)
        ? { ok: true, paymentHash: proof.paymentHash, preimage: proof.preimage }
        : refuse("invalid_preimage", "The preimage does not hash to the invoice's payment hash.");
    case "mpp-session":
      return refuse(
        "protocol_not_offered",
        "This route charges per request; pay its charge challenge, not a session.",
      );
    case "browser":
      return HASH.test(proof.paymentHash)
        ? { ok: true, paymentHash: proof.paymentHash, preimage: null }
        : refuse("unknown_invoice", "Ln402-Paid must be a payment hash: 64 lowercase hex.");
  }
}

/** The binding is the server's, recomputed from the live request; the client's invoice fills `invoice`. */
function readLnbtc(accepted: unknown, payload: unknown, ctx: ProofContext): ReadProof {
  const echoed =
    isRecord(accepted) && isRecord(accepted.extra) ? accepted.extra.invoice : undefined;
  const requirements = lnbtcAccept({
    network: ctx.network,
    nodePubkey: ctx.nodePubkey,
    merchantId: ctx.merchantId,
    amountMsat: ctx.amountMsat,
    requestHash: ctx.requestHash,
    invoice: typeof echoed === "string" ? echoed : "",
  });
  const verdict = checkSettlement(
    { accepted, payload, requirements },
    { now: ctx.nowSecs, networks: ctx.networks },
  );
  if (!verdict.ok) return refuse(verdict.errorReason, reasonMessage(verdict.errorReason));
  const preimage =
    isRecord(payload) && typeof payload.preimage === "string" ? payload.preimage : null;
  return { ok: true, paymentHash: verdict.paymentHash, preimage };
}

/** Legacy `{ preimage }` or `{ invoice }` payloads (DESIGN §3, x402 legacy). */
function readLegacy(accepted: unknown, payload: unknown, ctx: ProofContext): ReadProof {
  const side = isRecord(accepted) ? accepted : {};
  const body = isRecord(payload) ? payload : {};
  if (side.scheme !== "exact")
    return refuse("unsupported_scheme", "The accepted scheme must be exact.");
  if (typeof side.network !== "string" || lightningNetwork(side.network) !== ctx.network)
    return refuse("network_mismatch", "The accepted network is not this merchant's.");
  if (side.amount !== String(ctx.amountMsat))
    return refuse("amount_mismatch", "The accepted amount is not this route's price.");
  const extra = isRecord(side.extra) ? side.extra : {};
  const invoice = typeof body.invoice === "string" ? body.invoice : extra.invoice;
  if (typeof invoice !== "string" || invoice === "" || invoice.length > 7089)
    return refuse("invalid_payload", "The payload names no invoice.");
  let paymentHash: string;
  try {
    paymentHash = decodeInvoice(invoice).paymentHash;
  } catch {
    return refuse("invalid_payload", "The invoice does not decode.");
  }
  const preimage = body.preimage;
  if (preimage === undefined) return { ok: true, paymentHash, preimage: null };
  if (typeof preimage !== "string" || !proves(preimage, paymentHash))
    return refuse("invalid_preimage", "The preimage does not hash to the invoice's payment hash.");
  return { ok: true, paymentHash, preimage: preimage.toLowerCase() };
}
