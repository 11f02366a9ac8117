import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { base64, hex } from "@scure/base";
import type { Ledger } from "./ledger.ts";
import {
  type AddedInvoice,
  asRefusal,
  attempt,
  Code,
  checkMacaroon,
  type InvoiceRequest,
  LndRefusal,
  LndStandInNode,
  type NodeInvoice,
  type NodePayment,
} from "./lndNode.ts";

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

/** The HTTP status LND's REST gateway (grpc-gateway) gives each gRPC code. */
const HTTP_STATUS: Record<number, number> = {
  [Code.UNKNOWN]: 500,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.NOT_FOUND]: 404,
  [Code.ALREADY_EXISTS]: 409,
};

/** Starts the stand-in for devnet wallet `wallet` of `ledger` on 127.0.0.1 (a free port). */
export async function startLndStandIn(options: {
  ledger: Ledger;
  wallet: string;
  macaroonHex?: string;
}): Promise<LndStandIn> {
  const node = new LndStandInNode(options.ledger, options.wallet);
  const macaroonHex = options.macaroonHex ?? bytesToHex(randomBytes(32));
  const requests: LndStandIn["requests"] = [];
  const routes = unaryRoutes(node);

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    requests.push({ method: req.method ?? "GET", path });
    void handle(req, res, path).catch((err: unknown) => {
      const e = asRefusal(err);
      if (!res.headersSent)
        send(res, HTTP_STATUS[e.code] ?? 500, { code: e.code, message: e.message, details: [] });
      else res.end();
    });
  });

  const handle = async (req: IncomingMessage, res: ServerResponse, path: string) => {
    const macaroon = req.headers["grpc-metadata-macaroon"];
    checkMacaroon(typeof macaroon === "string" ? macaroon : undefined, macaroonHex);
    const body = req.method === "POST" ? await readJson(req) : {};
    if (req.method === "POST" && path === "/v2/router/send") return routerSend(res, body);
    for (const [pattern, handler] of routes) {
      const match = pattern.exec(`${req.method} ${path}`);
      if (match) return send(res, 200, handler(body, match[1] ?? ""));
    }
    throw new LndRefusal(Code.NOT_FOUND, "Not Found");
  };

  /** SendPaymentV2: pre-flight errors as an HTTP error; else IN_FLIGHT, then the outcome. */
  const routerSend = async (res: ServerResponse, body: Json) => {
    const amt = body.amt_msat === undefined ? undefined : Number(body.amt_msat);
    const { first, final } = await node.sendPayment(String(body.payment_request ?? ""), amt);
    res.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    res.write(`${JSON.stringify({ result: payment(first) })}\n`);
    res.end(`${JSON.stringify({ result: payment(await final) })}\n`);
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
function unaryRoutes(node: LndStandInNode): Array<[RegExp, (b: Json, p: string) => Json]> {
  const invoiceArgs = (b: Json): InvoiceRequest => ({
    valueMsat: b.value_msat !== undefined ? Number(b.value_msat) : Number(b.value ?? 0) * 1000,
    memo: String(b.memo ?? ""),
    expirySecs: Number(b.expiry ?? 0),
    ...(b.description_hash ? { descriptionHash: hex.encode(b64(b.description_hash, "d")) } : {}),
  });
  return [
    [/^POST \/v1\/invoices$/, (b) => added(node.addInvoice(invoiceArgs(b)))],
    [
      /^POST \/v2\/invoices\/hodl$/,
      (b) => {
        const paymentHash = hex.encode(b64(b.hash, "hash"));
        // AddHoldInvoiceResp has no r_hash: the caller chose the hash.
        const { r_hash: _, ...body } = added(
          node.addHoldInvoice({ ...invoiceArgs(b), paymentHash }),
        );
        return body;
      },
    ],
    [
      /^POST \/v2\/invoices\/settle$/,
      (b) => {
        node.settleInvoice(hex.encode(b64(b.preimage, "preimage")));
        return {};
      },
    ],
    [
      /^POST \/v2\/invoices\/cancel$/,
      (b) => {
        node.cancelInvoice(hex.encode(b64(b.payment_hash, "payment_hash")));
        return {};
      },
    ],
    [
      /^GET \/v1\/invoice\/([^/]*)$/,
      (_b, rHashStr) => {
        // r_hash_str is hex (lnrpc.PaymentHash); LND fails on anything else.
        if (!/^[0-9a-f]{64}$/i.test(rHashStr))
          throw new LndRefusal(Code.UNKNOWN, "encoding/hex: invalid byte in r_hash_str");
        return lndInvoice(node.lookupInvoice(rHashStr.toLowerCase()));
      },
    ],
    [
      /^GET \/v1\/getinfo$/,
      () => {
        const info = node.getInfo();
        return {
          identity_pubkey: info.identityPubkey,
          alias: info.alias,
          version: info.version,
          synced_to_chain: info.syncedToChain,
          block_height: info.blockHeight,
          chains: [{ chain: "bitcoin", network: info.network }],
        };
      },
    ],
  ];
}

const b64hex = (hexString: string) => base64.encode(hex.decode(hexString));

function added(invoice: AddedInvoice): Json {
  return {
    r_hash: b64hex(invoice.paymentHash),
    payment_request: invoice.paymentRequest,
    add_index: String(invoice.addIndex),
    payment_addr: b64hex(invoice.paymentAddr),
  };
}

/** lnrpc.Invoice in proto3 JSON. */
function lndInvoice(invoice: NodeInvoice): Json {
  return {
    memo: invoice.memo,
    r_preimage: invoice.preimage ? b64hex(invoice.preimage) : "",
    r_hash: b64hex(invoice.paymentHash),
    value: String(Math.floor(invoice.valueMsat / 1000)),
    value_msat: String(invoice.valueMsat),
    settled: invoice.settled,
    creation_date: String(invoice.creationDate),
    settle_date: String(invoice.settleDate),
    payment_request: invoice.paymentRequest,
    expiry: String(invoice.expiry),
    amt_paid_sat: String(Math.floor(invoice.amtPaidMsat / 1000)),
    amt_paid_msat: String(invoice.amtPaidMsat),
    state: invoice.state,
    is_keysend: false,
  };
}

/** lnrpc.Payment in proto3 JSON. */
function payment(update: NodePayment): Json {
  return {
    payment_hash: update.paymentHash,
    status: update.status,
    payment_preimage: update.preimage,
    value_msat: String(update.valueMsat),
    fee_msat: String(update.feeMsat),
    failure_reason: update.failureReason,
  };
}

function send(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<Json> {
  let text = "";
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 65_536) throw new LndRefusal(Code.INVALID_ARGUMENT, "request too large");
  }
  const parsed: unknown = attempt(() => JSON.parse(text || "{}"));
  if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed))
    return parsed as Json;
  throw new LndRefusal(Code.INVALID_ARGUMENT, "invalid character in request body");
}

function b64(value: unknown, field: string): Uint8Array {
  const bytes = attempt(() => base64.decode(String(value ?? "")));
  if (!bytes) throw new LndRefusal(Code.INVALID_ARGUMENT, `${field}: illegal base64 data`);
  return bytes;
}
