import { base64, hex } from "@scure/base";
import type { Bolt11Network } from "../protocol/bolt11/Bolt11.ts";
import {
  AuthenticationError,
  ConnectionError,
  InvoiceExpiredError,
  LightningError,
  PaymentTimeoutError,
} from "./errors.ts";
import type { InvoiceState, PaymentResult, ProviderInvoice } from "./LightningProvider.ts";
import {
  checkInvoice,
  failure,
  int,
  isExpired,
  type LndInvoiceArgs,
  type LndTransport,
  lookupState,
  networkOf,
  type PaymentPlan,
  succeeded,
} from "./lndShared.ts";

/** Settings of the REST transport (see `LndRestOptions` in `./lnd.ts`). */
export type LndRestSettings = {
  url: string;
  macaroon: string;
  fetch: typeof fetch;
  timeoutSecs: number;
  now: () => number;
};

type Json = Record<string, unknown>;
type Op = "pay" | "create" | "lookup" | "hold" | "info";

/**
 * LND's REST API. Payments go through the router's streaming `POST /v2/router/send`
 * (SendPaymentV2), not the deprecated synchronous `/v1/channels/transactions`; invoice
 * lookups put the payment hash in the path as hex, as `GET /v1/invoice/{r_hash_str}`
 * expects. fetch only: runs on Node and Workers.
 */
export class LndRestTransport implements LndTransport {
  readonly #s: LndRestSettings;

  constructor(settings: LndRestSettings) {
    this.#s = settings;
  }

  /** AddInvoice: `POST /v1/invoices`. */
  async createInvoice(args: LndInvoiceArgs): Promise<ProviderInvoice> {
    const body = await this.#json("create", "POST", "/v1/invoices", invoiceFields(args));
    return checkInvoice(body.payment_request, b64ToHex(body.r_hash, "r_hash"), args);
  }

  /** LookupInvoice: `GET /v1/invoice/{payment hash as hex}`. */
  async lookupInvoice(paymentHash: string): Promise<InvoiceState> {
    const body = await this.#json("lookup", "GET", `/v1/invoice/${paymentHash}`);
    const expired = isExpired(body.creation_date, body.expiry, this.#s.now());
    const state = lookupState(body.state, expired);
    const amountMsat = state === "settled" ? int(body.amt_paid_msat) : int(body.value_msat);
    return {
      paymentHash,
      state,
      ...(state === "settled"
        ? { preimage: b64ToHex(body.r_preimage, "r_preimage"), settledAt: int(body.settle_date) }
        : {}),
      ...(amountMsat > 0 ? { amountMsat } : {}),
    };
  }

  /** SendPaymentV2: reads the router's status stream until SUCCEEDED or FAILED. */
  async payInvoice(plan: PaymentPlan): Promise<PaymentResult> {
    const request: Json = {
      payment_request: plan.invoice,
      timeout_seconds: plan.timeoutSecs,
      fee_limit_msat: String(plan.feeLimitMsat),
      ...(plan.amtMsat !== undefined ? { amt_msat: String(plan.amtMsat) } : {}),
    };
    // LND gives up after timeout_seconds; the extra seconds let its FAILED answer arrive.
    const res = await this.#send("pay", "POST", "/v2/router/send", request, plan.timeoutSecs + 5);
    if (!res.ok) throw lndError("pay", res.status, await readBody(res));
    try {
      for await (const update of jsonLines(res.body)) {
        if (isRecord(update.error)) throw lndError("pay", 500, update.error);
        const result = asRecord(update.result);
        if (result.status === "SUCCEEDED")
          return succeeded(result.payment_preimage, result.fee_msat, plan.paymentHash);
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
    return networkOf(isRecord(chain) ? chain.network : undefined);
  }

  /** AddHoldInvoice: `POST /v2/invoices/hodl` with the caller's payment hash. */
  async createHoldInvoice(args: LndInvoiceArgs & { paymentHash: string }) {
    const body = await this.#json("hold", "POST", "/v2/invoices/hodl", {
      hash: toB64(args.paymentHash),
      ...invoiceFields(args),
    });
    return checkInvoice(body.payment_request, args.paymentHash, args);
  }

  /** SettleInvoice: `POST /v2/invoices/settle`. */
  async settleHoldInvoice(preimage: string): Promise<void> {
    await this.#json("hold", "POST", "/v2/invoices/settle", { preimage: toB64(preimage) });
  }

  /** CancelInvoice: `POST /v2/invoices/cancel`. */
  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    const body = { payment_hash: toB64(paymentHash) };
    await this.#json("hold", "POST", "/v2/invoices/cancel", body);
  }

  /** Nothing to release: fetch holds no connection of ours. */
  close(): void {}

  async #json(op: Op, method: string, path: string, body?: Json): Promise<Json> {
    const res = await this.#send(op, method, path, body, this.#s.timeoutSecs);
    const parsed = await readBody(res);
    if (!res.ok) throw lndError(op, res.status, parsed);
    return parsed;
  }

  async #send(op: Op, method: string, path: string, body: Json | undefined, timeoutSecs: number) {
    try {
      return await this.#s.fetch(`${this.#s.url}${path}`, {
        method,
        headers: {
          "Grpc-Metadata-macaroon": this.#s.macaroon,
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

/** lnrpc.Invoice's request fields (int64 as strings, bytes as base64, per proto3 JSON). */
function invoiceFields(args: LndInvoiceArgs): Json {
  return {
    value_msat: String(args.amountMsat),
    memo: args.description ?? "",
    expiry: String(args.expirySecs ?? 3600),
    ...(args.descriptionHash ? { description_hash: toB64(args.descriptionHash) } : {}),
  };
}

const toB64 = (hexString: string) => base64.encode(hex.decode(hexString));

function isRecord(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
const asRecord = (value: unknown): Json => (isRecord(value) ? value : {});

function b64ToHex(value: unknown, field: string): string {
  try {
    const bytes = base64.decode(String(value ?? ""));
    if (bytes.length !== 32) throw new Error(`${bytes.length} bytes`);
    return hex.encode(bytes);
  } catch (err) {
    throw new ConnectionError(`LND sent an invalid ${field}.`, { cause: err });
  }
}
