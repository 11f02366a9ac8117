import { canonicalize } from "../../Jcs.ts";
import { proves } from "../../Preimage.ts";
import { isRecord } from "../../Schema.ts";
import { sameProfileParams } from "./Binding.ts";
import { type LnbtcNetworkId, type LnbtcNetworkName, SPEC_NETWORKS } from "./Networks.ts";
import type { IsolationReason, SettleReason } from "./Reasons.ts";
import { checkCore, checkExtra, checkInvoice } from "./Terms.ts";

/**
 * The facilitator's `/settle` check for x402 `exact` on lnbtc (scheme_exact_lnbtc
 * §Facilitator Validation), pure: steps 1–7 in the spec's order with its reasons, then
 * ln402's Receiver Key Isolation (§Security Considerations) from facts the caller looked
 * up. The caller then inserts `replayKey` atomically and durably (§Settlement and Replay
 * Protection); a failed insert is `duplicate_settlement`. Nothing here reads a clock,
 * a store or a wallet.
 */

/** The untrusted halves of a settle request, as received. */
export type SettleInput = {
  /** `paymentPayload.accepted`. */
  accepted: unknown;
  /** `paymentPayload.payload`: `{ preimage }`. */
  payload: unknown;
  /** `paymentRequirements`, as the resource server recomputed them from the live request. */
  requirements: unknown;
};

/** When and where the check runs. */
export type SettleOptions = {
  /** The facilitator's settlement time, unix seconds. */
  now: number;
  /** Clock-skew allowance in seconds; the spec's default is 60. */
  skewSecs?: number;
  /** Networks served; default mainnet and testnet. Add regtest only for the devnet. */
  networks?: readonly LnbtcNetworkName[];
};

/** A proof that passed every check: what to insert and what to answer. */
export type SettleAccepted = {
  ok: true;
  /** 64 lowercase hex: the accepted invoice's payment hash (the `transaction`). */
  paymentHash: string;
  network: LnbtcNetworkId;
  /** `network + ":" + paymentHash`, the canonical consumption key. */
  replayKey: string;
  /** Unix seconds: keep the replay entry at least until then (`invoice_end + skew + 1 h`). */
  keepUntil: number;
  /** `invoice_creation_time + invoice_expiry_seconds`, unix seconds. */
  invoiceEnd: number;
  amountMsat: number;
  requestHash: string;
  /** The accepted invoice, lowercase. */
  invoice: string;
};

/** A refused proof: nothing is consumed. `step` is the spec's step (8 for isolation). */
export type SettleRefused = {
  ok: false;
  errorReason: SettleReason | IsolationReason;
  step: number;
};

/** The outcome of a settle check. */
export type SettleVerdict = SettleAccepted | SettleRefused;

const DEFAULT_SKEW_SECS = 60;
/** §Settlement and Replay Protection: "at least one hour after invoice_end + skew". */
const REPLAY_RETENTION_SECS = 3600;
/** Fields of `extra` that step 3 judges by their own rules (or that may differ, `invoice`). */
const BINDING_FIELDS = new Set([
  "invoice",
  "requestHash",
  "requestBindingProfile",
  "requestBindingParams",
  "assetTransferMethod",
  "paymentFlow",
]);
/** Step 1: each compared field and the reason its difference gives. */
const STEP1: ReadonlyArray<[string, SettleReason]> = [
  ["scheme", "unsupported_scheme"],
  ["network", "network_mismatch"],
  ["amount", "invalid_exact_lnbtc_amount_mismatch"],
  ["asset", "invalid_exact_lnbtc_asset"],
  ["payTo", "invalid_exact_lnbtc_pay_to_mismatch"],
  ["maxTimeoutSeconds", "invalid_exact_lnbtc_max_timeout_mismatch"],
];

/** Runs §Facilitator Validation steps 1–7 on an lnbtc settle request. */
export function checkSettlement(input: SettleInput, options: SettleOptions): SettleVerdict {
  const skew = options.skewSecs ?? DEFAULT_SKEW_SECS;
  if (!Number.isSafeInteger(skew) || skew < 0) throw new RangeError("skewSecs must be >= 0.");
  const networks = options.networks ?? SPEC_NETWORKS;
  const refuse = (errorReason: SettleReason, step: number): SettleRefused => ({
    ok: false,
    errorReason,
    step,
  });
  const accepted = isRecord(input.accepted) ? input.accepted : {};
  const required = isRecord(input.requirements) ? input.requirements : {};

  // 1. The accepted core fields equal the requirement's.
  for (const [field, reason] of STEP1) {
    if (!samePrimitive(accepted[field], required[field])) return refuse(reason, 1);
  }
  // 2. Both sides (equal by now) name a supported, well-formed offer.
  const core = checkCore(required, networks);
  if (!core.ok) return refuse(core.errorReason, 2);
  const terms = core.value;

  // 3. Transfer method, flow and binding on both sides, then equal, then other extra fields.
  const acceptedExtra = isRecord(accepted.extra) ? accepted.extra : {};
  const requiredExtra = isRecord(required.extra) ? required.extra : {};
  const mine = checkExtra(requiredExtra);
  const theirs = checkExtra(acceptedExtra);
  if (!mine.ok || !theirs.ok) {
    // The spec's order within step 3: transfer method, then flow, then binding, either side.
    const reasons = [theirs, mine].flatMap((side) => (side.ok ? [] : [side.errorReason]));
    reasons.sort((a, b) => rank(a) - rank(b));
    return refuse(reasons[0] ?? "invalid_exact_lnbtc_request_binding", 3);
  }
  if (
    mine.value.requestHash !== theirs.value.requestHash ||
    !sameProfileParams(mine.value.binding, theirs.value.binding)
  ) {
    return refuse("invalid_exact_lnbtc_request_mismatch", 3);
  }
  for (const [key, value] of Object.entries(requiredExtra)) {
    if (BINDING_FIELDS.has(key)) continue;
    if (!sameJson(value, acceptedExtra[key]))
      return refuse("invalid_exact_lnbtc_extra_mismatch", 3);
  }

  // 4. Both invoices present; the accepted one is settled (they need not be equal).
  const invoice = acceptedExtra.invoice;
  if (!nonEmpty(requiredExtra.invoice) || !nonEmpty(invoice)) {
    return refuse("invalid_exact_lnbtc_invoice_missing", 4);
  }

  // 5. The accepted invoice against the server's expected digest and the terms.
  const checked = checkInvoice(invoice, {
    terms,
    requestHash: mine.value.requestHash,
    now: options.now,
    skewSecs: skew,
  });
  if (!checked.ok) return refuse(checked.errorReason, 5);
  const decoded = checked.value;

  // 6. The preimage: 64 lowercase hex, hashing to the payment hash.
  const preimage = isRecord(input.payload) ? input.payload.preimage : undefined;
  if (preimage === undefined || preimage === null) {
    return refuse("invalid_exact_lnbtc_preimage_missing", 6);
  }
  if (typeof preimage !== "string" || !/^[0-9a-f]*$/.test(preimage)) {
    return refuse("invalid_exact_lnbtc_preimage_malformed", 6);
  }
  if (preimage.length !== 64) return refuse("invalid_exact_lnbtc_preimage_length", 6);
  if (!proves(preimage, decoded.paymentHash)) {
    return refuse("invalid_exact_lnbtc_preimage_hash_mismatch", 6);
  }

  // 7. Paid-but-expired: valid while now <= invoice_end + skew (§Paid-but-expired Policy).
  const invoiceEnd = decoded.timestamp + decoded.expirySecs;
  if (options.now > invoiceEnd + skew) return refuse("invalid_exact_lnbtc_invoice_expired", 7);

  return {
    ok: true,
    paymentHash: decoded.paymentHash,
    network: terms.network,
    replayKey: `${terms.network}:${decoded.paymentHash}`,
    keepUntil: invoiceEnd + skew + REPLAY_RETENTION_SECS,
    invoiceEnd,
    amountMsat: decoded.amountMsat ?? 0,
    requestHash: mine.value.requestHash,
    invoice: decoded.invoice,
  };
}

/** What the merchant's invoice book recorded when it issued an invoice (§Receiver Key Isolation 2.1). */
export type IssuedRecord = { network: string; amountMsat: number; requestHash: string };

/**
 * §Receiver Key Isolation 2.2 and 2.3 on an accepted proof: the payment hash must be one
 * this merchant issued with the same network, amount and request hash, and the merchant's
 * wallet must have confirmed receipt (a payee's own preimage proves nothing). Pass
 * `receiptConfirmed: true` for a merchant with exclusive issuance authority (option 1).
 */
export function checkIsolation(
  verdict: SettleAccepted,
  facts: { issued: IssuedRecord | null; receiptConfirmed: boolean },
): SettleVerdict {
  const { issued } = facts;
  if (
    issued === null ||
    issued.network !== verdict.network ||
    issued.amountMsat !== verdict.amountMsat ||
    issued.requestHash !== verdict.requestHash
  ) {
    return { ok: false, errorReason: "unknown_invoice", step: 8 };
  }
  if (!facts.receiptConfirmed) return { ok: false, errorReason: "payment_not_received", step: 8 };
  return verdict;
}

/** Spec order of the one-sided step-3 reasons: method, flow, then binding. */
function rank(reason: SettleReason): number {
  if (reason === "invalid_exact_lnbtc_asset_transfer_method") return 0;
  if (reason === "invalid_exact_lnbtc_payment_flow") return 1;
  return 2;
}

function samePrimitive(a: unknown, b: unknown): boolean {
  return a === b && (a === undefined || typeof a !== "object");
}

function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  try {
    return b !== undefined && canonicalize(a) === canonicalize(b);
  } catch {
    return false;
  }
}

function nonEmpty(value: unknown): value is string {
  return typeof value === "string" && value !== "";
}
