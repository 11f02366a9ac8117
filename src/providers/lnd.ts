import { sha256 } from "@noble/hashes/sha2.js";
import { base64, hex } from "@scure/base";
import { type Bolt11Network, decodeInvoice, readInvoice } from "../protocol/bolt11/Bolt11.ts";
import {
  AuthenticationError,
  ConnectionError,
  InsufficientBalanceError,
  InvoiceExpiredError,
  LightningError,
  PaymentTimeoutError,
  RouteNotFoundError,
} from "./errors.ts";
import type {
  CreateInvoiceArgs,
  InvoiceState,
  LightningProvider,
  PayInvoiceArgs,
  PaymentResult,
  ProviderInvoice,
} from "./LightningProvider.ts";

/** Options of `LndLightningProvider`. */
export type LndProviderOptions = {
  transport: "rest";
  /** LND's REST listener, e.g. `https://node.example:8080`. Its TLS certificate must be trusted by `fetch`. */
  url: string;
  /** A macaroon with invoice (and, to pay, offchain) permissions, as hex. */
  macaroon: string;
  fetch?: typeof fetch;
  /** Time a request may take, and the default payment timeout (default 30 s). */
  timeoutSecs?: number;
  /** Clock in ms, to tell an expired invoice from a canceled one. */
  now?: () => number;
};

type Json = Record<string, unknown>;
type Op = "pay" | "create" | "lookup" | "hold" | "info";

const HASH = /^[0-9a-f]{64}$/;
const DEFAULT_FEE_FLOOR_MSAT = 10_000; // fee cap without maxFeeMsat: 1% of the amount, ≥ 10 sat

/**
 * A LightningProvider over LND's REST API. Payments go through the router's streaming
 * `POST /v2/router/send` (SendPaymentV2), not the deprecated synchronous
 * `/v1/channels/transactions`; invoice lookups put the payment hash in the path as hex,
 * as `GET /v1/invoice/{r_hash_str}` expects. Runs on Node and Workers (fetch only).
 */
export class LndLightningProvider implements LightningProvider {
  readonly #url: string;
  readonly #options: LndProviderOptions;
  readonly #fetch: typeof fetch;

  constructor(options: LndProviderOptions) {
    if (!/^https?:\/\//.test(options.url))
      throw new LightningError("invalid_request", "url must be LND's http(s) REST address.");
    if (!/^([0-9a-f]{2})+$/i.test(options.macaroon))
      throw new LightningError("invalid_request", "macaroon must be hex (xxd -p -c0 …).");
    this.#url = options.url.replace(/\/+$/, "");
    this.#options = options;
    // Workers reject a detached global fetch (illegal invocation): call it, don't hold it.
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** AddInvoice: `POST /v1/invoices`; `amountMsat` 0 makes a no-amount invoice. */
  async createInvoice(args: CreateInvoiceArgs): Promise<ProviderInvoice> {
    const body = await this.#json("create", "POST", "/v1/invoices", invoiceFields(args));
    return checkInvoice(body, b64ToHex(body.r_hash, "r_hash"), args.amountMsat);
  }

  /** LookupInvoice: `GET /v1/invoice/{payment hash as hex}`. */
  async lookupInvoice(paymentHash: string): Promise<InvoiceState> {
    const hash = checkHex("paymentHash", paymentHash.toLowerCase());
    const body = await this.#json("lookup", "GET", `/v1/invoice/${hash}`);
    const nowSecs = Math.floor((this.#options.now ?? Date.now)() / 1000);
    const expired = nowSecs >= int(body.creation_date) + int(body.expiry);
    const state = lookupState(body.state, expired);
    const amountMsat = state === "settled" ? int(body.amt_paid_msat) : int(body.value_msat);
    return {
      paymentHash: hash,
      state,
      ...(state === "settled"
        ? { preimage: b64ToHex(body.r_preimage, "r_preimage"), settledAt: int(body.settle_date) }
        : {}),
      ...(amountMsat > 0 ? { amountMsat } : {}),
    };
  }

  /** SendPaymentV2: reads the router's status stream until SUCCEEDED or FAILED. */
  async payInvoice(args: PayInvoiceArgs): Promise<PaymentResult> {
    let decoded: ReturnType<typeof readInvoice>;
    try {
      decoded = readInvoice(args.invoice);
    } catch (cause) {
      throw new LightningError("invalid_request", "Not a valid BOLT11 invoice.", { cause });
    }
    const amountMsat = decoded.amountMsat ?? args.amountMsat ?? 0;
    const timeoutSecs = args.timeoutSecs ?? this.#options.timeoutSecs ?? 30;
    const feeLimitMsat =
      args.maxFeeMsat ?? Math.max(DEFAULT_FEE_FLOOR_MSAT, Math.ceil(amountMsat / 100));
    const request: Json = {
      payment_request: args.invoice,
      timeout_seconds: timeoutSecs,
      fee_limit_msat: String(feeLimitMsat),
    };
    if (decoded.amountMsat === null && args.amountMsat !== undefined)
      request.amt_msat = String(args.amountMsat);
    // LND gives up after timeout_seconds; the extra seconds let its FAILED answer arrive.
    const res = await this.#send("pay", "POST", "/v2/router/send", request, timeoutSecs + 5);
    if (!res.ok) throw lndError("pay", res.status, await readBody(res));
    try {
      for await (const update of jsonLines(res.body)) {
        if (isRecord(update.error)) throw lndError("pay", 500, update.error);
        const result = asRecord(update.result);
        if (result.status === "SUCCEEDED") return succeeded(result, decoded.paymentHash);
        if (result.status === "FAILED") throw failure(String(result.failure_reason ?? ""));
      }
    } catch (err) {
      if (err instanceof LightningError) throw err;
      // The stream broke (timeout, dropped connection) while the payment was in flight.
      throw new PaymentTimeoutError("LND's payment stream broke off.", { cause: err });
    }
    throw new PaymentTimeoutError("LND's payment stream ended before a final status.");
  }

  /** GetInfo: the network of `chains[0]`. */
  async getNetwork(): Promise<Bolt11Network> {
    const body = await this.#json("info", "GET", "/v1/getinfo");
    const chain = Array.isArray(body.chains) ? body.chains[0] : undefined;
    const network = isRecord(chain) ? chain.network : undefined;
    if (network === "mainnet" || network === "signet" || network === "regtest") return network;
    if (network === "testnet" || network === "testnet4") return "testnet";
    throw new LightningError("unsupported", `LND reports network "${String(network)}".`);
  }

  /** AddHoldInvoice: `POST /v2/invoices/hodl` with the caller's payment hash. */
  async createHoldInvoice(args: CreateInvoiceArgs & { paymentHash: string }) {
    const body = await this.#json("hold", "POST", "/v2/invoices/hodl", {
      hash: toB64(checkHex("paymentHash", args.paymentHash)),
      ...invoiceFields(args),
    });
    return checkInvoice(body, args.paymentHash, args.amountMsat);
  }

  /** SettleInvoice: `POST /v2/invoices/settle`. */
  async settleHoldInvoice(preimage: string): Promise<void> {
    const body = { preimage: toB64(checkHex("preimage", preimage)) };
    await this.#json("hold", "POST", "/v2/invoices/settle", body);
  }

  /** CancelInvoice: `POST /v2/invoices/cancel`. */
  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    const body = { payment_hash: toB64(checkHex("paymentHash", paymentHash)) };
    await this.#json("hold", "POST", "/v2/invoices/cancel", body);
  }

  async #json(op: Op, method: string, path: string, body?: Json): Promise<Json> {
    const res = await this.#send(op, method, path, body, this.#options.timeoutSecs ?? 30);
    const parsed = await readBody(res);
    if (!res.ok) throw lndError(op, res.status, parsed);
    return parsed;
  }

  async #send(op: Op, method: string, path: string, body: Json | undefined, timeoutSecs: number) {
    try {
      return await this.#fetch(`${this.#url}${path}`, {
        method,
        headers: {
          "Grpc-Metadata-macaroon": this.#options.macaroon,
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutSecs * 1000),
      });
    } catch (cause) {
      // A refused connection sent nothing; a timed-out payment may still complete.
      if (op === "pay" && cause instanceof Error && cause.name === "TimeoutError")
        throw new PaymentTimeoutError("LND did not report the payment in time.", { cause });
      throw new ConnectionError("LND's REST API is unreachable or did not answer.", { cause });
    }
  }
}

/** Checks LND's invoice against the request (LND is an upstream: trust, but verify). */
function checkInvoice(body: Json, paymentHash: string, amountMsat: number): ProviderInvoice {
  let decoded: ReturnType<typeof decodeInvoice>;
  try {
    decoded = decodeInvoice(String(body.payment_request ?? ""));
  } catch (cause) {
    throw new ConnectionError("LND sent an invalid payment_request.", { cause });
  }
  if (decoded.paymentHash !== paymentHash || decoded.amountMsat !== (amountMsat || null))
    throw new ConnectionError("LND's invoice differs from the request.");
  const { invoice, amountMsat: amount, expiresAt } = decoded;
  return { invoice, paymentHash, amountMsat: amount, expiresAt };
}

function lookupState(state: unknown, expired: boolean): InvoiceState["state"] {
  if (state === "SETTLED") return "settled";
  if (state === "ACCEPTED") return "accepted";
  // LND cancels invoices that expire unpaid: the clock tells expiry from a cancel.
  if (expired) return "expired";
  return state === "CANCELED" ? "canceled" : "pending";
}

/** A SUCCEEDED payment: its preimage must hash to the invoice's payment hash. */
function succeeded(result: Json, paymentHash: string): PaymentResult {
  const preimage = String(result.payment_preimage ?? "");
  if (!HASH.test(preimage) || hex.encode(sha256(hex.decode(preimage))) !== paymentHash)
    throw new LightningError("payment_failed", "LND reported a preimage of another hash.");
  return { preimage, feesPaidMsat: int(result.fee_msat) };
}

/** The `failure_reason` of a FAILED payment (lnrpc.PaymentFailureReason). */
function failure(reason: string): LightningError {
  if (reason === "FAILURE_REASON_NO_ROUTE") return new RouteNotFoundError();
  if (reason === "FAILURE_REASON_INSUFFICIENT_BALANCE") return new InsufficientBalanceError();
  if (reason === "FAILURE_REASON_TIMEOUT")
    return new PaymentTimeoutError("LND gave up on the payment (timeout_seconds elapsed).");
  if (reason === "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS")
    return new LightningError("payment_failed", "The payee rejected it (paid, unknown, amount).");
  return new LightningError("payment_failed", `LND failed the payment (${reason}).`);
}

/**
 * An error answer of LND's REST gateway: `{ code, message }` (unary) or
 * `{ error: { code, message } }` (streams). LND answers a missing or wrong macaroon
 * with 500 and gRPC code 2, so the message decides as much as the status.
 */
function lndError(op: Op, status: number, body: Json): LightningError {
  const inner = isRecord(body.error) ? body.error : body;
  const message = typeof inner.message === "string" ? inner.message.slice(0, 300) : "";
  const grpcCode = int(inner.code);
  const detail = `LND answered ${status}: ${message || "no message"}`;
  const auth = /macaroon|verification failed|permission denied/i.test(message);
  if (auth || status === 401 || status === 403) return new AuthenticationError(detail);
  if (status === 404 || grpcCode === 5 || /unable to locate invoice|not found/i.test(message))
    return new LightningError("not_found", detail);
  if (op === "pay" && /expired/i.test(message)) return new InvoiceExpiredError(detail);
  if (op === "pay") return new LightningError("payment_failed", detail);
  if (status === 400 || grpcCode === 3) return new LightningError("invalid_request", detail);
  return new ConnectionError(detail);
}

async function readBody(res: Response): Promise<Json> {
  return asRecord(await res.json().catch(() => null));
}

/** Newline-delimited JSON values from a byte stream, tolerant of chunks split mid-line. */
async function* jsonLines(stream: ReadableStream<Uint8Array> | null): AsyncGenerator<Json> {
  if (!stream) return;
  // A TextDecoder with `stream: true` rather than TextDecoderStream: the same code then
  // type-checks against the Workers, DOM and Node stream typings alike.
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      const text =
        value === undefined ? decoder.decode() : decoder.decode(value, { stream: !done });
      const lines = (buffered + text).split("\n");
      buffered = done ? "" : (lines.pop() ?? "");
      // A line that is not JSON throws: the caller treats a garbled stream as a broken one.
      for (const line of lines) if (line.trim() !== "") yield asRecord(JSON.parse(line));
      if (done) return;
    }
  } finally {
    // Stop reading once the outcome is known: the stream would stay open otherwise.
    void reader.cancel().catch(() => {});
  }
}

/** lnrpc.Invoice's request fields (int64 as strings, per proto3 JSON). */
function invoiceFields(args: CreateInvoiceArgs): Json {
  const expiry = String(args.expirySecs ?? 3600);
  return { value_msat: String(args.amountMsat), memo: args.description ?? "", expiry };
}

function checkHex(name: string, value: string): string {
  if (!HASH.test(value)) throw new LightningError("invalid_request", `${name} must be 64 hex.`);
  return value;
}

const toB64 = (hexString: string) => base64.encode(hex.decode(hexString));

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
const asRecord = (value: unknown): Json => (isRecord(value) ? value : {});

/** int64 fields arrive as decimal strings (proto3 JSON); absent or garbled reads as 0. */
function int(value: unknown): number {
  const n = typeof value === "string" && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isSafeInteger(n) ? n : 0;
}

function b64ToHex(value: unknown, field: string): string {
  try {
    const bytes = base64.decode(String(value ?? ""));
    if (bytes.length !== 32) throw new Error(`${bytes.length} bytes`);
    return hex.encode(bytes);
  } catch (err) {
    throw new ConnectionError(`LND sent an invalid ${field}.`, { cause: err });
  }
}
