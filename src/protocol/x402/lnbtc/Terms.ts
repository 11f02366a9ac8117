import { secp256k1 } from "@noble/curves/secp256k1.js";
import { type Bolt11Network, type DecodedInvoice, decodeInvoice } from "../../bolt11/Bolt11.ts";
import { tagCensus } from "../../bolt11/Census.ts";
import { isRecord } from "../../Schema.ts";
import { type ProfileParams, parseProfileParams } from "./Binding.ts";
import { type LnbtcNetworkId, type LnbtcNetworkName, lnbtcNetwork } from "./Networks.ts";
import type { SettleReason } from "./Reasons.ts";

/**
 * The payment terms of one lnbtc `PaymentRequirements`, validated (scheme_exact_lnbtc
 * §PaymentRequirements, §Facilitator Validation steps 2–5). Client, server and
 * facilitator all judge requirements and invoices with these functions, so the three
 * cannot disagree on what a valid offer is.
 */

/** Requirements that passed every one-sided check; the type the checks produce. */
export type LnbtcTerms = {
  scheme: "exact";
  network: LnbtcNetworkId;
  /** The Lightning network, hence the BOLT11 currency. */
  lightning: Bolt11Network;
  asset: "BTC";
  /** Positive integral msat, as the plain decimal string of the wire. */
  amount: string;
  /** 66 lowercase hex: a valid compressed secp256k1 key. */
  payTo: string;
  maxTimeoutSeconds: number;
  requestHash: string;
  binding: ProfileParams;
  /** The invoice in this `extra` (may be empty: step 4 judges it). */
  invoice: unknown;
  extra: Record<string, unknown>;
};

/** A check's outcome: the value, or the first reason it failed for. */
export type Checked<T> = { ok: true; value: T } | { ok: false; errorReason: SettleReason };

const fail = (errorReason: SettleReason): { ok: false; errorReason: SettleReason } => ({
  ok: false,
  errorReason,
});

const AMOUNT = /^[1-9][0-9]*$/;
const HASH = /^[0-9a-f]{64}$/;
const PUBKEY = /^0[23][0-9a-f]{64}$/;

/** Whether `payTo` is a lowercase compressed key that is a point on secp256k1. */
export function isNodeKey(payTo: unknown): payTo is string {
  if (typeof payTo !== "string" || !PUBKEY.test(payTo)) return false;
  try {
    secp256k1.Point.fromHex(payTo);
    return true;
  } catch {
    return false;
  }
}

/** Step 2: the core fields of one side (scheme, network, asset, amount, timeout, payTo). */
export function checkCore(
  side: Record<string, unknown>,
  networks: readonly LnbtcNetworkName[],
): Checked<Pick<LnbtcTerms, "network" | "lightning" | "amount" | "payTo" | "maxTimeoutSeconds">> {
  if (side.scheme !== "exact") return fail("unsupported_scheme");
  const network = typeof side.network === "string" ? side.network : "";
  const lightning = lnbtcNetwork(network, networks);
  if (lightning === null) return fail("unsupported_network");
  if (side.asset !== "BTC") return fail("invalid_exact_lnbtc_asset");
  if (typeof side.amount !== "string" || !AMOUNT.test(side.amount)) {
    return fail("invalid_exact_lnbtc_amount");
  }
  const timeout = side.maxTimeoutSeconds;
  if (typeof timeout !== "number" || !Number.isSafeInteger(timeout) || timeout <= 0) {
    return fail("invalid_exact_lnbtc_max_timeout");
  }
  if (!isNodeKey(side.payTo)) return fail("invalid_exact_lnbtc_pay_to_malformed");
  return {
    ok: true,
    value: {
      network: network as LnbtcNetworkId,
      lightning,
      amount: side.amount,
      payTo: side.payTo,
      maxTimeoutSeconds: timeout,
    },
  };
}

/**
 * Step 3, one side: the transfer method (absent means bolt11), the upfront flow, a
 * lowercase request hash, and a supported profile with well-formed parameters.
 */
export function checkExtra(
  extra: Record<string, unknown>,
): Checked<{ requestHash: string; binding: ProfileParams }> {
  if (extra.assetTransferMethod !== undefined && extra.assetTransferMethod !== "bolt11") {
    return fail("invalid_exact_lnbtc_asset_transfer_method");
  }
  if (extra.paymentFlow !== "upfront") return fail("invalid_exact_lnbtc_payment_flow");
  const { requestHash } = extra;
  if (typeof requestHash !== "string" || !HASH.test(requestHash)) {
    return fail("invalid_exact_lnbtc_request_binding");
  }
  const binding = parseProfileParams(extra.requestBindingProfile, extra.requestBindingParams);
  if (!binding.ok) return fail("invalid_exact_lnbtc_request_binding");
  return { ok: true, value: { requestHash, binding: binding.value } };
}

/** Steps 2 and 3 for one requirements object (what a client or server checks alone). */
export function checkTerms(
  requirements: unknown,
  networks: readonly LnbtcNetworkName[],
): Checked<LnbtcTerms> {
  const side = isRecord(requirements) ? requirements : {};
  const core = checkCore(side, networks);
  if (!core.ok) return core;
  const extra = isRecord(side.extra) ? side.extra : {};
  const checked = checkExtra(extra);
  if (!checked.ok) return checked;
  return {
    ok: true,
    value: {
      scheme: "exact",
      asset: "BTC",
      ...core.value,
      ...checked.value,
      invoice: extra.invoice,
      extra,
    },
  };
}

/** What an invoice is judged against, and when. */
export type InvoiceContext = {
  terms: Pick<LnbtcTerms, "lightning" | "amount" | "payTo" | "maxTimeoutSeconds">;
  /** The expected request hash: the server's, recomputed from the live request. */
  requestHash: string;
  /** Validation time, unix seconds. */
  now: number;
  /** Clock-skew allowance in seconds (default 60 in every caller, §Paid-but-expired Policy). */
  skewSecs: number;
};

/**
 * Step 5: strictly decodes and verifies the invoice and judges it against the terms, in
 * the spec's order: decoding and signature, exactly one `h` and no `d`, the request hash,
 * the signer, the currency, the amount, the expiry, and a creation time not in the future.
 */
export function checkInvoice(invoice: string, ctx: InvoiceContext): Checked<DecodedInvoice> {
  let decoded: DecodedInvoice;
  try {
    decoded = decodeInvoice(invoice);
  } catch {
    return fail("invalid_exact_lnbtc_invoice_decode_failed");
  }
  const census = tagCensus(invoice);
  if (decoded.amountMsat === null || !census.paddingClean) {
    return fail("invalid_exact_lnbtc_invoice_decode_failed");
  }
  if (census.descriptions !== 0 || census.descriptionHashes !== 1) {
    return fail("invalid_exact_lnbtc_invoice_description");
  }
  if (decoded.descriptionHash !== ctx.requestHash) {
    return fail("invalid_exact_lnbtc_invoice_request_mismatch");
  }
  if (decoded.payeeNodeKey !== ctx.terms.payTo)
    return fail("invalid_exact_lnbtc_invoice_payee_mismatch");
  if (decoded.network !== ctx.terms.lightning) {
    return fail("invalid_exact_lnbtc_invoice_currency_mismatch");
  }
  if (String(decoded.amountMsat) !== ctx.terms.amount) {
    return fail("invalid_exact_lnbtc_invoice_amount_mismatch");
  }
  if (decoded.expirySecs !== ctx.terms.maxTimeoutSeconds) {
    return fail("invalid_exact_lnbtc_invoice_expiry_mismatch");
  }
  // Equality at now + skew is valid (§PaymentRequirements check 6).
  if (decoded.timestamp > ctx.now + ctx.skewSecs) {
    return fail("invalid_exact_lnbtc_invoice_created_in_future");
  }
  return { ok: true, value: decoded };
}
