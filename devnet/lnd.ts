import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { base64, hex } from "@scure/base";
import { decodeInvoice } from "../src/protocol/bolt11/Bolt11.ts";
import { type Ledger, LedgerError, type Nip47Transaction } from "./ledger.ts";

/**
 * A stand-in for LND's REST API, for tests: NOT LND (which cannot run here) and not a
 * Lightning node. It answers the endpoints ln402's LND provider uses, with LND's
 * documented JSON shapes (proto3 JSON: int64 as strings, bytes as base64) and status
 * codes, and moves money on a devnet `Ledger`, so an LND-provider node can pay devnet
 * wallets and be paid by them. Like LND, it answers a missing or wrong macaroon with
 * 500 and gRPC code 2 (lnd#2332), and pre-flight payment errors with an error body.
 */

/** A running stand-in. */
export type LndStandIn = {
  url: string;
  /** The macaroon it accepts (hex), as `Grpc-Metadata-macaroon`. */
  macaroonHex: string;
  /** Every request received, in order, for tests to assert on (e.g. lookup paths). */
  requests: Array<{ method: string; path: string }>;
  stop(): Promise<void>;
};

type Json = Record<string, unknown>;
const BAD_MACAROON = "verification failed: signature mismatch after caveat verification";

/** A gRPC error as LND's REST gateway renders it. */
class GatewayError extends Error {
  readonly status: number;
  readonly grpcCode: number;
  constructor(status: number, grpcCode: number, message: string) {
    super(message);
    this.status = status;
    this.grpcCode = grpcCode;
  }
}

/** Starts the stand-in for devnet wallet `wallet` of `ledger` on 127.0.0.1 (a free port). */
export async function startLndStandIn(options: {
  ledger: Ledger;
  wallet: string;
  macaroonHex?: string;
}): Promise<LndStandIn> {
  const { ledger, wallet } = options;
  const macaroonHex = options.macaroonHex ?? bytesToHex(randomBytes(32));
  const requests: LndStandIn["requests"] = [];
  const routes = unaryRoutes(ledger, wallet);

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    requests.push({ method: req.method ?? "GET", path });
    void handle(req, res, path).catch((err: unknown) => {
      const e = err instanceof GatewayError ? err : toGatewayError(err);
      if (!res.headersSent)
        send(res, e.status, { code: e.grpcCode, message: e.message, details: [] });
      else res.end();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const macaroon = req.headers["grpc-metadata-macaroon"];
    if (macaroon === undefined) throw new GatewayError(500, 2, "expected 1 macaroon, got 0");
    if (macaroon !== macaroonHex) throw new GatewayError(500, 2, BAD_MACAROON);
    const body = req.method === "POST" ? await readJson(req) : {};
    if (req.method === "POST" && path === "/v2/router/send") return routerSend(res, body);
    for (const [pattern, handler] of routes) {
      const match = pattern.exec(`${req.method} ${path}`);
      if (match) {
        return send(res, 200, handler(body, match[1] ?? ""));
      }
    }
    throw new GatewayError(404, 5, "Not Found");
  };

  /** SendPaymentV2: pre-flight errors as an HTTP error; else IN_FLIGHT, then the outcome. */
  const routerSend = async (res: ServerResponse, body: Json) => {
    const invoice = String(body.payment_request ?? "");
    const amt = body.amt_msat === undefined ? undefined : Number(body.amt_msat);
    const outcome = ledger.payInvoice(wallet, invoice, amt).then(
      (tx) => ({ tx }),
      (err: unknown) => ({ err }),
    );
    // The ledger's checks run before its first await: a payment that cannot start has
    // failed by the next macrotask, as LND's pre-flight checks fail before streaming.
    const early = await Promise.race([outcome, new Promise<null>((r) => setImmediate(r, null))]);
    if (early && "err" in early) {
      const preflight = preflightError(early.err, invoice);
      if (preflight) throw preflight;
    }
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    const hash = attempt(() => decodeInvoice(invoice))?.paymentHash ?? "";
    res.write(`${JSON.stringify({ result: payment(hash, "IN_FLIGHT", {}) })}\n`);
    const done = early ?? (await outcome);
    const result =
      "tx" in done
        ? payment(hash, "SUCCEEDED", {
            payment_preimage: done.tx.preimage,
            value_msat: String(done.tx.amount),
            fee_msat: String(done.tx.fees_paid),
          })
        : payment(hash, "FAILED", { failure_reason: failureReason(done.err) });
    res.end(`${JSON.stringify({ result })}\n`);
  };

  /** LND refuses these before any HTLC leaves (routerrpc's request checks). */
  const preflightError = (err: unknown, invoice: string): GatewayError | null => {
    if (!(err instanceof LedgerError)) return toGatewayError(err);
    if (err.code === "OTHER") return new GatewayError(500, 2, err.message);
    if (/expired/.test(err.message)) {
      const until = new Date(
        (attempt(() => decodeInvoice(invoice))?.expiresAt ?? 0) * 1000,
      ).toISOString();
      return new GatewayError(500, 2, `invoice expired. Valid until ${until}`);
    }
    if (/not for regtest/.test(err.message))
      return new GatewayError(500, 2, "invoice not for current active network 'regtest'");
    if (/already/.test(err.message)) {
      // LND's own payment database: a node refuses to pay what it already paid.
      const mine = ownPayments(invoice);
      if (mine?.state === "settled") return new GatewayError(409, 6, "invoice is already paid");
      if (mine?.state === "accepted") return new GatewayError(409, 6, "payment is in transition");
    }
    return null;
  };

  const ownPayments = (invoice: string): Nip47Transaction | null => {
    const tx = attempt(() => ledger.lookup(wallet, { invoice }));
    return tx?.type === "outgoing" ? tx : null;
  };

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    macaroonHex,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The unary endpoints, as `METHOD path` patterns; a capture is the path parameter. */
function unaryRoutes(
  ledger: Ledger,
  wallet: string,
): Array<[RegExp, (b: Json, p: string) => Json]> {
  const invoiceArgs = (b: Json) => ({
    amountMsat: b.value_msat !== undefined ? Number(b.value_msat) : Number(b.value ?? 0) * 1000,
    description: String(b.memo ?? ""),
    expirySecs: Number(b.expiry ?? 86_400),
  });
  let addIndex = 0;
  const added = (tx: Nip47Transaction): Json => ({
    r_hash: base64.encode(hex.decode(tx.payment_hash)),
    payment_request: tx.invoice,
    add_index: String(++addIndex),
    payment_addr: base64.encode(hex.decode(decodeInvoice(tx.invoice).paymentSecret ?? "")),
  });
  return [
    [/^POST \/v1\/invoices$/, (b) => added(ledger.makeInvoice(wallet, invoiceArgs(b)))],
    [
      /^POST \/v2\/invoices\/hodl$/,
      (b) => {
        const paymentHash = hex.encode(b64(b.hash, "hash"));
        // AddHoldInvoiceResp has no r_hash: the caller chose the hash.
        const { r_hash: _, ...body } = added(
          ledger.makeHoldInvoice(wallet, { ...invoiceArgs(b), paymentHash }),
        );
        return body;
      },
    ],
    [
      /^POST \/v2\/invoices\/settle$/,
      (b) => {
        ledger.settleHoldInvoice(wallet, hex.encode(b64(b.preimage, "preimage")));
        return {};
      },
    ],
    [
      /^POST \/v2\/invoices\/cancel$/,
      (b) => {
        ledger.cancelHoldInvoice(wallet, hex.encode(b64(b.payment_hash, "payment_hash")));
        return {};
      },
    ],
    [
      /^GET \/v1\/invoice\/([^/]*)$/,
      (_b, rHashStr) => {
        // r_hash_str is hex (lnrpc.PaymentHash); LND fails on anything else.
        if (!/^[0-9a-f]{64}$/i.test(rHashStr))
          throw new GatewayError(500, 2, "encoding/hex: invalid byte in r_hash_str");
        const tx = ledger.lookup(wallet, { paymentHash: rHashStr.toLowerCase() });
        if (tx.type !== "incoming") throw new GatewayError(404, 5, "unable to locate invoice");
        return lndInvoice(tx);
      },
    ],
    [
      /^GET \/v1\/getinfo$/,
      () => ({
        identity_pubkey: ledger.nodePubkey(wallet),
        alias: `devnet-lnd-${wallet}`,
        version: "devnet-stand-in",
        synced_to_chain: true,
        block_height: 1,
        chains: [{ chain: "bitcoin", network: "regtest" }],
      }),
    ],
  ];
}

/** lnrpc.Invoice in proto3 JSON. LND cancels invoices that expire unpaid. */
function lndInvoice(tx: Nip47Transaction): Json {
  const state = { pending: "OPEN", accepted: "ACCEPTED", settled: "SETTLED" }[tx.state as string];
  const paidMsat = tx.state === "settled" ? tx.amount : 0;
  return {
    memo: tx.description,
    r_preimage: tx.preimage ? base64.encode(hex.decode(tx.preimage)) : "",
    r_hash: base64.encode(hex.decode(tx.payment_hash)),
    value: String(Math.floor(tx.amount / 1000)),
    value_msat: String(tx.amount),
    settled: tx.state === "settled",
    creation_date: String(tx.created_at),
    settle_date: String(tx.settled_at ?? 0),
    payment_request: tx.invoice,
    expiry: String(tx.expires_at - tx.created_at),
    amt_paid_sat: String(Math.floor(paidMsat / 1000)),
    amt_paid_msat: String(paidMsat),
    state: state ?? "CANCELED",
    is_keysend: false,
  };
}

/** lnrpc.Payment in proto3 JSON. */
function payment(paymentHash: string, status: string, fields: Json): Json {
  return {
    payment_hash: paymentHash,
    status,
    payment_preimage: "",
    fee_msat: "0",
    failure_reason: "FAILURE_REASON_NONE",
    ...fields,
  };
}

function failureReason(err: unknown): string {
  if (!(err instanceof LedgerError)) return "FAILURE_REASON_ERROR";
  if (err.code === "INSUFFICIENT_BALANCE") return "FAILURE_REASON_INSUFFICIENT_BALANCE";
  if (/no route|self-payments/.test(err.message)) return "FAILURE_REASON_NO_ROUTE";
  // The payee rejected the HTLC: an invoice already paid or canceled by its payee.
  return "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS";
}

function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err instanceof LedgerError && err.code === "NOT_FOUND")
    return new GatewayError(404, 5, "unable to locate invoice");
  return new GatewayError(500, 2, err instanceof Error ? err.message : "internal error");
}

function send(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Json> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 65_536) throw new GatewayError(400, 3, "request body too large");
  }
  const parsed: unknown = attempt(() => JSON.parse(text || "{}"));
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
    return parsed as Json;
  throw new GatewayError(400, 3, "invalid character in request body");
}

function b64(value: unknown, field: string): Uint8Array {
  const bytes = attempt(() => base64.decode(String(value ?? "")));
  if (!bytes) throw new GatewayError(400, 3, `${field}: illegal base64 data`);
  return bytes;
}

function attempt<T>(run: () => T): T | null {
  try {
    return run();
  } catch {
    return null;
  }
}
