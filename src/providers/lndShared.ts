import { sha256 } from "@noble/hashes/sha2.js";
import { hex } from "@scure/base";
import { type Bolt11Network, decodeInvoice, readInvoice } from "../protocol/bolt11/Bolt11.ts";
import {
  ConnectionError,
  InsufficientBalanceError,
  LightningError,
  PaymentTimeoutError,
  RouteNotFoundError,
} from "./errors.ts";
import type {
  CreateInvoiceArgs,
  InvoiceState,
  PayInvoiceArgs,
  PaymentResult,
  ProviderInvoice,
} from "./LightningProvider.ts";

/**
 * What LND's REST and gRPC transports share: the payment plan, the checks on what the
 * node answers (a node is an upstream: trust, but verify) and the meaning of LND's
 * states and failure reasons. Transport-free; each transport only moves bytes.
 */

/** `createInvoice` arguments for LND, which can also set the BOLT11 description hash. */
export type LndInvoiceArgs = CreateInvoiceArgs & {
  /** sha256 of a description kept out of the invoice (64 hex): LND's `description_hash`. */
  descriptionHash?: string;
};

/** 64 lowercase hex characters (payment hashes and preimages). */
export const HASH = /^[0-9a-f]{64}$/;
const DEFAULT_FEE_FLOOR_MSAT = 10_000; // fee cap without maxFeeMsat: 1% of the amount, ≥ 10 sat

/** A SendPaymentV2 request, transport-neutral (msat and seconds as numbers). */
export type PaymentPlan = {
  invoice: string;
  paymentHash: string;
  timeoutSecs: number;
  feeLimitMsat: number;
  /** Set for no-amount invoices only (LND refuses an amount on an invoice that has one). */
  amtMsat?: number;
};

/** Decodes the invoice and works out the fee cap and timeout of paying it. */
export function planPayment(args: PayInvoiceArgs, defaultTimeoutSecs: number): PaymentPlan {
  let decoded: ReturnType<typeof readInvoice>;
  try {
    decoded = readInvoice(args.invoice);
  } catch (cause) {
    throw new LightningError("invalid_request", "Not a valid BOLT11 invoice.", { cause });
  }
  const amountMsat = decoded.amountMsat ?? args.amountMsat ?? 0;
  return {
    invoice: args.invoice,
    paymentHash: decoded.paymentHash,
    timeoutSecs: args.timeoutSecs ?? defaultTimeoutSecs,
    feeLimitMsat: args.maxFeeMsat ?? Math.max(DEFAULT_FEE_FLOOR_MSAT, Math.ceil(amountMsat / 100)),
    ...(decoded.amountMsat === null && args.amountMsat !== undefined
      ? { amtMsat: args.amountMsat }
      : {}),
  };
}

/** Checks the node's invoice against the request: hash, amount and description hash. */
export function checkInvoice(
  paymentRequest: unknown,
  paymentHash: string,
  args: LndInvoiceArgs,
): ProviderInvoice {
  let decoded: ReturnType<typeof decodeInvoice>;
  try {
    decoded = decodeInvoice(typeof paymentRequest === "string" ? paymentRequest : "");
  } catch (cause) {
    throw new ConnectionError("LND sent an invalid payment_request.", { cause });
  }
  const wanted = args.descriptionHash?.toLowerCase();
  if (
    decoded.paymentHash !== paymentHash ||
    decoded.amountMsat !== (args.amountMsat || null) ||
    (wanted !== undefined && decoded.descriptionHash !== wanted)
  )
    throw new ConnectionError("LND's invoice differs from the request.");
  const { invoice, amountMsat, expiresAt } = decoded;
  return { invoice, paymentHash, amountMsat, expiresAt };
}

/** An LND invoice state (`OPEN`, `SETTLED`, `CANCELED`, `ACCEPTED`) as ln402's. */
export function lookupState(state: unknown, expired: boolean): InvoiceState["state"] {
  // Settled only from the state: the payee always knows its own preimage.
  if (state === "SETTLED") return "settled";
  if (state === "ACCEPTED") return "accepted";
  // LND cancels invoices that expire unpaid: the clock tells expiry from a cancel.
  if (expired) return "expired";
  if (state === "CANCELED") return "canceled";
  if (state === "OPEN") return "pending";
  throw new ConnectionError(`LND reported an unknown invoice state "${String(state)}".`);
}

/** A SUCCEEDED payment: its preimage must hash to the invoice's payment hash. */
export function succeeded(preimage: unknown, feeMsat: unknown, paymentHash: string): PaymentResult {
  const value = typeof preimage === "string" ? preimage.toLowerCase() : "";
  if (!HASH.test(value) || hex.encode(sha256(hex.decode(value))) !== paymentHash)
    throw new LightningError("payment_failed", "LND reported a preimage of another hash.");
  return { preimage: value, feesPaidMsat: int(feeMsat) };
}

/** The `failure_reason` of a FAILED payment (lnrpc.PaymentFailureReason). */
export function failure(reason: string): LightningError {
  if (reason === "FAILURE_REASON_NO_ROUTE") return new RouteNotFoundError();
  if (reason === "FAILURE_REASON_INSUFFICIENT_BALANCE") return new InsufficientBalanceError();
  if (reason === "FAILURE_REASON_TIMEOUT")
    return new PaymentTimeoutError("LND gave up on the payment (timeout_seconds elapsed).");
  if (reason === "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS")
    return new LightningError("payment_failed", "The payee rejected it (paid, unknown, amount).");
  return new LightningError("payment_failed", `LND failed the payment (${reason.slice(0, 64)}).`);
}

/** GetInfo's `chains[0].network` as a BOLT11 network. */
export function networkOf(network: unknown): Bolt11Network {
  if (network === "mainnet" || network === "signet" || network === "regtest") return network;
  if (network === "testnet" || network === "testnet4") return "testnet";
  throw new LightningError("unsupported", `LND reports network "${String(network)}".`);
}

/** Checks a hex argument of 32 bytes (payment hash, preimage) and lowercases it. */
export function checkHex(name: string, value: string): string {
  const lower = value.toLowerCase();
  if (!HASH.test(lower)) throw new LightningError("invalid_request", `${name} must be 64 hex.`);
  return lower;
}

/** int64 fields arrive as decimal strings (proto3 JSON, proto-loader `longs: String`). */
export function int(value: unknown): number {
  const n = typeof value === "string" && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isSafeInteger(n) ? n : 0;
}

/** One way of reaching LND (REST or gRPC); arguments arrive checked, hashes as lowercase hex. */
export interface LndTransport {
  createInvoice(args: LndInvoiceArgs): Promise<ProviderInvoice>;
  lookupInvoice(paymentHash: string): Promise<InvoiceState>;
  payInvoice(plan: PaymentPlan): Promise<PaymentResult>;
  getNetwork(): Promise<Bolt11Network>;
  createHoldInvoice(args: LndInvoiceArgs & { paymentHash: string }): Promise<ProviderInvoice>;
  settleHoldInvoice(preimage: string): Promise<void>;
  cancelHoldInvoice(paymentHash: string): Promise<void>;
  close(): void;
}

/** Whether an invoice created at `creationDate` with `expiry` (seconds) has expired at `nowMs`. */
export function isExpired(creationDate: unknown, expiry: unknown, nowMs: number): boolean {
  return Math.floor(nowMs / 1000) >= int(creationDate) + int(expiry);
}
