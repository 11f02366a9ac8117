import { BadRequestError } from "../Errors.ts";
import {
  array,
  count,
  hex,
  type Infer,
  isRecord,
  lenient,
  object,
  oneOf,
  optional,
  type Parser,
  required,
  SchemaIssue,
  string,
} from "../Schema.ts";
import { NwcResponseError, NwcWalletError } from "./NwcErrors.ts";

/**
 * NIP-47 messages as plain data: request builders for the methods ln402 calls, and
 * validators for everything a wallet sends back (responses, notifications, the info
 * event). Wallet output is untrusted: it is parsed here, once, into typed values or
 * typed errors (`NwcWalletError` when the wallet says no, `NwcResponseError` when what
 * it said is malformed). Pure: no I/O, no clock.
 */

export { ERROR_CODES, type NwcErrorCode, NwcResponseError, NwcWalletError } from "./NwcErrors.ts";

/** NIP-47 methods ln402 calls. */
export const METHODS = [
  "get_info",
  "get_balance",
  "make_invoice",
  "lookup_invoice",
  "pay_invoice",
] as const;

/** A NIP-47 method ln402 calls. */
export type NwcMethod = (typeof METHODS)[number];

/** A request before encryption: NIP-47 §request `{ method, params }`. */
export type NwcRequest = { method: NwcMethod; params: Record<string, unknown> };

/** The largest invoice ln402 will send or accept (what a QR code can carry). */
const MAX_INVOICE_CHARS = 7089;

/** `get_info`, with no params. */
export function getInfoRequest(): NwcRequest {
  return { method: "get_info", params: {} };
}

/** `get_balance`, with no params. */
export function getBalanceRequest(): NwcRequest {
  return { method: "get_balance", params: {} };
}

/** Arguments of make_invoice: amount in msat, expiry in seconds, a description or its SHA-256. */
export type MakeInvoiceArgs = {
  amountMsat: number;
  description?: string;
  descriptionHash?: string;
  expirySecs?: number;
};
/** Arguments of lookup_invoice: one of payment hash and invoice. */
export type LookupInvoiceArgs = { paymentHash: string } | { invoice: string };
/** Arguments of pay_invoice; `amountMsat` only for invoices that carry no amount. */
export type PayInvoiceArgs = { invoice: string; amountMsat?: number };

/** `make_invoice` (NIP-47 names: `amount`, `description_hash`, `expiry`). */
export function makeInvoiceRequest(args: MakeInvoiceArgs): NwcRequest {
  const params: Record<string, unknown> = { amount: positive("amountMsat", args.amountMsat) };
  if (args.description !== undefined) params.description = args.description;
  if (args.descriptionHash !== undefined)
    params.description_hash = hexArg("descriptionHash", args.descriptionHash);
  if (args.expirySecs !== undefined) params.expiry = positive("expirySecs", args.expirySecs);
  return { method: "make_invoice", params };
}

/** `lookup_invoice` by payment hash or by invoice. */
export function lookupInvoiceRequest(args: LookupInvoiceArgs): NwcRequest {
  const params =
    "paymentHash" in args
      ? { payment_hash: hexArg("paymentHash", args.paymentHash) }
      : { invoice: invoiceArg(args.invoice) };
  return { method: "lookup_invoice", params };
}

/** `pay_invoice`. */
export function payInvoiceRequest(args: PayInvoiceArgs): NwcRequest {
  const params: Record<string, unknown> = { invoice: invoiceArg(args.invoice) };
  if (args.amountMsat !== undefined) params.amount = positive("amountMsat", args.amountMsat);
  return { method: "pay_invoice", params };
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new BadRequestError(`${name} must be a positive integer; got ${String(value)}.`);
  return value;
}

function hexArg(name: string, value: string): string {
  if (!/^[0-9a-f]{64}$/.test(value))
    throw new BadRequestError(`${name} must be 64 lowercase hex characters (a SHA-256).`);
  return value;
}

function invoiceArg(value: string): string {
  if (value.length === 0 || value.length > MAX_INVOICE_CHARS)
    throw new BadRequestError(`invoice must be a BOLT11 string of 1–${MAX_INVOICE_CHARS} chars.`);
  return value;
}

const TX_STATES = ["pending", "settled", "accepted", "expired", "failed"] as const;

/**
 * NIP-47 transaction (make_invoice, lookup_invoice, notifications). Amounts in msat,
 * times in unix seconds. `state` and `type` are informational: an unknown value from a
 * newer wallet is dropped rather than failing the whole response.
 */
const transaction = object({
  type: optional("type", lenient(oneOf(["incoming", "outgoing"]))),
  state: optional("state", lenient(oneOf(TX_STATES))),
  invoice: required("invoice", string(MAX_INVOICE_CHARS)),
  description: optional("description", string(4096)),
  descriptionHash: optional("description_hash", hex(64)),
  preimage: optional("preimage", hex(64)),
  paymentHash: required("payment_hash", hex(64)),
  amountMsat: required("amount", count),
  feesPaidMsat: optional("fees_paid", count),
  createdAt: optional("created_at", count),
  expiresAt: optional("expires_at", count),
  settledAt: optional("settled_at", count),
  /** Block height by which a held HTLC must be settled (hold_invoice_accepted). */
  settleDeadline: optional("settle_deadline", count),
});

/**
 * Whether the wallet says it *received* this invoice's payment: `state: "settled"`, or,
 * from a wallet that reports no state, a `settled_at`. A preimage proves nothing here:
 * the payee's wallet knows its own preimage before anyone pays.
 */
export function isSettled(tx: {
  state?: string | undefined;
  settledAt?: number | undefined;
}): boolean {
  if (tx.state !== undefined) return tx.state === "settled";
  return tx.settledAt !== undefined && tx.settledAt > 0;
}

const RESULTS = {
  get_info: object({
    alias: optional("alias", lenient(string(256))),
    color: optional("color", lenient(string(32))),
    pubkey: optional("pubkey", lenient(hex(66))),
    network: optional("network", lenient(string(32))),
    blockHeight: optional("block_height", lenient(count)),
    blockHash: optional("block_hash", lenient(hex(64))),
    methods: required("methods", array(string(64), 100)),
    notifications: optional("notifications", array(string(64), 100)),
  }),
  get_balance: object({ balanceMsat: required("balance", count) }),
  make_invoice: transaction,
  lookup_invoice: transaction,
  pay_invoice: object({
    preimage: required("preimage", hex(64)),
    feesPaidMsat: optional("fees_paid", count),
  }),
} satisfies Record<NwcMethod, Parser<unknown>>;

/** A NIP-47 transaction, validated. */
export type NwcTransaction = Infer<typeof transaction>;
/** The typed result of each method. */
export type NwcResult<M extends NwcMethod> = Infer<(typeof RESULTS)[M]>;
/** get_info's result. */
export type NwcInfoResult = NwcResult<"get_info">;
/** pay_invoice's result. */
export type NwcPayResult = NwcResult<"pay_invoice">;

/** A decrypted response: the untyped result, or the wallet's refusal. */
export type ParsedResponse = { ok: true; result: unknown } | { ok: false; error: NwcWalletError };

/**
 * Reads a decrypted response to `method` (NIP-47 §response: `{result_type, error,
 * result}`). A wallet error is an expected outcome and is returned; a malformed
 * response throws `NwcResponseError`.
 */
export function parseResponse(plaintext: string, method: string): ParsedResponse {
  const body = parseJson(plaintext, `${method} response`);
  const { error, result_type: resultType, result } = body;
  if (error !== undefined && error !== null) {
    if (!isRecord(error) || typeof error.code !== "string" || error.code.length > 64)
      throw new NwcResponseError(`${method} response`, "error must be {code, message}");
    const message = typeof error.message === "string" ? error.message : "";
    return { ok: false, error: new NwcWalletError(error.code, message, method) };
  }
  if (resultType !== method)
    throw new NwcResponseError(`${method} response`, `result_type must be "${method}"`);
  if (!isRecord(result))
    throw new NwcResponseError(`${method} response`, "result must be an object");
  return { ok: true, result };
}

/** Checks `result` against the schema of `method` and returns it typed. */
export function parseResult<M extends NwcMethod>(method: M, result: unknown): NwcResult<M> {
  const parse = RESULTS[method] as Parser<NwcResult<M>>;
  return withSchema(`${method} result`, () => parse(result, ""));
}

const NOTIFICATION_TYPES = ["payment_received", "payment_sent", "hold_invoice_accepted"] as const;

/** A NIP-47 notification ln402 understands. */
export type NwcNotification = {
  type: (typeof NOTIFICATION_TYPES)[number];
  transaction: NwcTransaction;
};

/**
 * Reads a decrypted notification (NIP-47 §notifications: `{notification_type,
 * notification}`). Returns null for a type ln402 does not know (the spec adds types);
 * throws `NwcResponseError` when malformed.
 */
export function parseNotification(plaintext: string): NwcNotification | null {
  const body = parseJson(plaintext, "notification");
  const type = body.notification_type;
  if (typeof type !== "string")
    throw new NwcResponseError("notification", "notification_type must be a string");
  if (!(NOTIFICATION_TYPES as readonly string[]).includes(type)) return null;
  const tx = withSchema("notification", () => transaction(body.notification, "notification"));
  return { type: type as NwcNotification["type"], transaction: tx };
}

/** An encryption scheme of NIP-47 §encryption. */
export type NwcEncryption = "nip44_v2" | "nip04";

/** What a wallet's info event (kind 13194) announces. */
export type WalletInfo = { methods: string[]; encryptions: string[]; notifications: string[] };

/**
 * Reads an info event: methods in the content, space-separated; `encryption` and
 * `notifications` tags likewise. No `encryption` tag means NIP-04 only (NIP-47 §encryption).
 */
export function parseInfoEvent(event: { content: string; tags: string[][] }): WalletInfo {
  const words = (s: string | undefined) => [...new Set((s ?? "").split(/\s+/).filter(Boolean))];
  const tag = (name: string) => event.tags.find((t) => t[0] === name)?.[1];
  const encryption = tag("encryption");
  return {
    methods: words(event.content),
    encryptions: encryption === undefined ? ["nip04"] : words(encryption),
    notifications: words(tag("notifications")),
  };
}

/** NIP-44 v2 when the wallet offers it (the standard), else NIP-04, else null. */
export function chooseEncryption(offered: readonly string[]): NwcEncryption | null {
  if (offered.includes("nip44_v2")) return "nip44_v2";
  return offered.includes("nip04") ? "nip04" : null;
}

function parseJson(plaintext: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(plaintext);
  } catch {
    throw new NwcResponseError(what, "it is not JSON");
  }
  if (!isRecord(value)) throw new NwcResponseError(what, "it must be a JSON object");
  return value;
}

function withSchema<T>(what: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof SchemaIssue) throw new NwcResponseError(what, err.message);
    throw err;
  }
}
