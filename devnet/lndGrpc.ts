import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { hex } from "@scure/base";
import { loadLndProto } from "../src/providers/lndGrpc.ts";
import type { Ledger } from "./ledger.ts";
import {
  type AddedInvoice,
  asRefusal,
  Code,
  checkMacaroon,
  type InvoiceRequest,
  LndRefusal,
  LndStandInNode,
  type NodeInvoice,
  type NodePayment,
} from "./lndNode.ts";

/**
 * A stand-in for LND's gRPC API, for tests: NOT LND (which cannot run here) and not a
 * Lightning node. A @grpc/grpc-js server on 127.0.0.1 with a self-signed certificate
 * made at start, answering the calls ln402's LND provider makes (lnrpc.Lightning
 * GetInfo, AddInvoice, LookupInvoice; routerrpc.Router SendPaymentV2; invoicesrpc hold
 * invoices) with LND's messages and status codes, checking the `macaroon` metadata as
 * LND does, and moving money on a devnet `Ledger` beside the REST stand-in.
 */

/** A running gRPC stand-in. */
export type LndGrpcStandIn = {
  /** `127.0.0.1:<port>`, the provider's `host`. */
  host: string;
  /** Its self-signed certificate (PEM), the provider's `tlsCert`. */
  tlsCertPem: string;
  /** The macaroon it accepts (hex), as `macaroon` metadata. */
  macaroonHex: string;
  /** The path of every call received, in order (e.g. `/routerrpc.Router/SendPaymentV2`). */
  calls: string[];
  stop(): Promise<void>;
};

type Fields = Record<string, unknown>;

const run = promisify(execFile);

/**
 * A fresh self-signed ECDSA P-256 certificate for 127.0.0.1 and localhost (as LND makes
 * its tls.cert), made with `openssl`; its key never leaves the stand-in.
 */
export async function selfSignedCertificate(): Promise<{ certPem: string; keyPem: string }> {
  const dir = await mkdtemp(join(tmpdir(), "ln402-lnd-cert-"));
  try {
    const [cert, key] = [join(dir, "tls.cert"), join(dir, "tls.key")];
    await run("openssl", [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"],
      ...["-nodes", "-days", "2", "-subj", "/O=ln402 devnet/CN=lnd-grpc-stand-in"],
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", cert],
    ]);
    return { certPem: await readFile(cert, "utf8"), keyPem: await readFile(key, "utf8") };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts the gRPC stand-in for devnet wallet `wallet` of `ledger` on 127.0.0.1 (a free port). */
export async function startLndGrpcStandIn(options: {
  ledger: Ledger;
  wallet: string;
  macaroonHex?: string;
}): Promise<LndGrpcStandIn> {
  const node = new LndStandInNode(options.ledger, options.wallet);
  const macaroonHex = options.macaroonHex ?? bytesToHex(randomBytes(32));
  const calls: string[] = [];
  const proto = loadLndProto();
  const service = (name: string) => proto[name] as ServiceDefinition;

  /** A unary handler: macaroon first, then the answer, or LND's refusal as a status. */
  const unary =
    (path: string, answer: (request: Fields) => Fields) =>
    (call: ServerUnaryCall<Fields, Fields>, callback: sendUnaryData<Fields>) => {
      calls.push(path);
      try {
        checkMacaroon(macaroonOf(call.metadata), macaroonHex);
        callback(null, answer(call.request));
      } catch (err) {
        const refusal = asRefusal(err);
        callback({ code: refusal.code, details: refusal.message });
      }
    };

  const lightning: UntypedServiceImplementation = {
    GetInfo: unary("/lnrpc.Lightning/GetInfo", () => {
      const info = node.getInfo();
      return {
        identity_pubkey: info.identityPubkey,
        alias: info.alias,
        version: info.version,
        synced_to_chain: info.syncedToChain,
        block_height: info.blockHeight,
        chains: [{ network: info.network }],
      };
    }),
    AddInvoice: unary("/lnrpc.Lightning/AddInvoice", (r) =>
      added(node.addInvoice(invoiceRequest(r))),
    ),
    LookupInvoice: unary("/lnrpc.Lightning/LookupInvoice", (r) =>
      // LND wants exactly 32 bytes (lnrpc.PaymentHash.r_hash).
      lndInvoice(node.lookupInvoice(hex.encode(bytes(r.r_hash, "r_hash", 32)))),
    ),
  };

  const invoices: UntypedServiceImplementation = {
    AddHoldInvoice: unary("/invoicesrpc.Invoices/AddHoldInvoice", (r) => {
      const paymentHash = hex.encode(bytes(r.hash, "hash", 32));
      const { r_hash: _, ...resp } = added(
        node.addHoldInvoice({ ...invoiceRequest(r), paymentHash }),
      );
      return resp; // AddHoldInvoiceResp has no r_hash: the caller chose the hash
    }),
    SettleInvoice: unary("/invoicesrpc.Invoices/SettleInvoice", (r) => {
      node.settleInvoice(hex.encode(bytes(r.preimage, "preimage", 32)));
      return {};
    }),
    CancelInvoice: unary("/invoicesrpc.Invoices/CancelInvoice", (r) => {
      node.cancelInvoice(hex.encode(bytes(r.payment_hash, "payment_hash", 32)));
      return {};
    }),
  };

  /** SendPaymentV2: pre-flight refusals as a status; else IN_FLIGHT, then the outcome. */
  const sendPaymentV2 = async (call: ServerWritableStream<Fields, Fields>) => {
    calls.push("/routerrpc.Router/SendPaymentV2");
    try {
      checkMacaroon(macaroonOf(call.metadata), macaroonHex);
      const r = call.request;
      const amtMsat = Number(r.amt_msat ?? 0);
      const { first, final } = await node.sendPayment(
        String(r.payment_request ?? ""),
        amtMsat > 0 ? amtMsat : undefined,
      );
      call.write(payment(first));
      call.write(payment(await final));
      call.end();
    } catch (err) {
      const refusal = asRefusal(err);
      call.emit("error", { code: refusal.code, details: refusal.message });
    }
  };

  const { certPem, keyPem } = await selfSignedCertificate();
  const server = new Server();
  server.addService(service("lnrpc.Lightning"), lightning);
  server.addService(service("routerrpc.Router"), { SendPaymentV2: sendPaymentV2 });
  server.addService(service("invoicesrpc.Invoices"), invoices);
  const tls = ServerCredentials.createSsl(
    null,
    [{ private_key: Buffer.from(keyPem), cert_chain: Buffer.from(certPem) }],
    false,
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", tls, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    host: `127.0.0.1:${port}`,
    tlsCertPem: certPem,
    macaroonHex,
    calls,
    stop: async () => {
      // Calls in flight are cut off: a stopped node does not finish what it was doing.
      server.forceShutdown();
    },
  };
}

function macaroonOf(metadata: Metadata): string | undefined {
  const [value] = metadata.get("macaroon");
  return typeof value === "string" ? value : undefined;
}

/** AddInvoice / AddHoldInvoiceRequest fields, as LND reads them. */
function invoiceRequest(r: Fields): InvoiceRequest {
  const valueMsat = Number(r.value_msat ?? 0) || Number(r.value ?? 0) * 1000;
  const descriptionHash = r.description_hash instanceof Uint8Array ? r.description_hash : null;
  return {
    valueMsat,
    memo: String(r.memo ?? ""),
    expirySecs: Number(r.expiry ?? 0),
    ...(descriptionHash?.length
      ? { descriptionHash: hex.encode(bytes(descriptionHash, "description_hash", 32)) }
      : {}),
  };
}

const buf = (hexString: string) => Buffer.from(hex.decode(hexString));

function added(invoice: AddedInvoice): Fields {
  return {
    r_hash: buf(invoice.paymentHash),
    payment_request: invoice.paymentRequest,
    add_index: String(invoice.addIndex),
    payment_addr: buf(invoice.paymentAddr),
  };
}

/** lnrpc.Invoice. */
function lndInvoice(invoice: NodeInvoice): Fields {
  return {
    memo: invoice.memo,
    r_preimage: invoice.preimage ? buf(invoice.preimage) : Buffer.alloc(0),
    r_hash: buf(invoice.paymentHash),
    value: String(Math.floor(invoice.valueMsat / 1000)),
    value_msat: String(invoice.valueMsat),
    creation_date: String(invoice.creationDate),
    settle_date: String(invoice.settleDate),
    payment_request: invoice.paymentRequest,
    expiry: String(invoice.expiry),
    amt_paid_sat: String(Math.floor(invoice.amtPaidMsat / 1000)),
    amt_paid_msat: String(invoice.amtPaidMsat),
    state: invoice.state,
  };
}

/** lnrpc.Payment (hashes and preimages as hex strings, as LND sends them). */
function payment(update: NodePayment): Fields {
  return {
    payment_hash: update.paymentHash,
    status: update.status,
    payment_preimage: update.preimage,
    value_msat: String(update.valueMsat),
    fee_msat: String(update.feeMsat),
    failure_reason: update.failureReason,
  };
}

function bytes(value: unknown, field: string, length: number): Uint8Array {
  if (value instanceof Uint8Array && value.length === length) return value;
  throw new LndRefusal(Code.INVALID_ARGUMENT, `${field} must be exactly ${length} bytes`);
}
