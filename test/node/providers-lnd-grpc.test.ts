import { X509Certificate } from "node:crypto";
import { createServer, type Server } from "node:net";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { base64, hex } from "@scure/base";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { Ledger } from "../../devnet/ledger.ts";
import { type LndStandIn, startLndStandIn } from "../../devnet/lnd.ts";
import {
  type LndGrpcStandIn,
  selfSignedCertificate,
  startLndGrpcStandIn,
} from "../../devnet/lndGrpc.ts";
import { decodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import {
  AuthenticationError,
  ConnectionError,
  LightningError,
  LndLightningProvider,
  MockLightningProvider,
  RouteNotFoundError,
} from "../../src/providers/index.ts";
import {
  failure,
  lndGrpcProvider as grpcProvider,
  hashOf,
  lndProvider,
} from "./support/providers.ts";

/**
 * LND over gRPC beyond the provider contract: which calls are made, TLS pinning,
 * credentials, deadlines, and the runtimes it refuses. Timeouts are set far beyond the
 * test's own where a test shows that an error comes without waiting for them.
 */

const NEVER_SECS = 600;

/** Every provider a test opens, closed after the suite: each holds an HTTP/2 channel. */
const opened: LndLightningProvider[] = [];
const lndGrpcProvider = (...args: Parameters<typeof grpcProvider>) => {
  const provider = grpcProvider(...args);
  opened.push(provider);
  return provider;
};

describe("LND gRPC specifics", () => {
  const ledger = new Ledger();
  let merchant: LndGrpcStandIn;
  let payer: LndGrpcStandIn;
  let restNode: LndStandIn;
  beforeAll(async () => {
    for (const [name, sats] of [
      ["merchant", 0],
      ["payer", 100_000],
      ["rest", 100_000],
      ["shop", 0],
    ] as const)
      ledger.openAccount(name, sats * 1000);
    merchant = await startLndGrpcStandIn({ ledger, wallet: "merchant" });
    payer = await startLndGrpcStandIn({ ledger, wallet: "payer" });
    restNode = await startLndStandIn({ ledger, wallet: "rest" });
  });
  afterAll(async () => {
    for (const provider of opened) provider.close();
    await merchant.stop();
    await payer.stop();
    await restNode.stop();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("behavior: payments go through routerrpc.Router/SendPaymentV2, lookups through LookupInvoice", async () => {
    const receiving = lndGrpcProvider(merchant);
    const paying = lndGrpcProvider(payer);
    const issued = await receiving.createInvoice({ amountMsat: 2_000 });
    await paying.payInvoice({ invoice: issued.invoice });
    expect((await receiving.lookupInvoice(issued.paymentHash)).state).toBe("settled");
    expect(payer.calls).toEqual(["/routerrpc.Router/SendPaymentV2"]);
    expect(merchant.calls).toEqual([
      "/lnrpc.Lightning/AddInvoice",
      "/lnrpc.Lightning/LookupInvoice",
    ]);
  });

  it("behavior: a gRPC node pays a REST node and a plain ledger wallet, and is paid by them", async () => {
    const grpc = lndGrpcProvider(payer);
    const rest = lndProvider(restNode, Date.now);
    const toRest = await rest.createInvoice({ amountMsat: 3_000 });
    expect(hashOf((await grpc.payInvoice({ invoice: toRest.invoice })).preimage)).toBe(
      toRest.paymentHash,
    );
    const toShop = ledger.makeInvoice("shop", { amountMsat: 4_000 });
    await grpc.payInvoice({ invoice: toShop.invoice });
    expect(ledger.balance("shop")).toBe(4_000);
    const toGrpc = await lndGrpcProvider(merchant).createInvoice({ amountMsat: 5_000 });
    await rest.payInvoice({ invoice: toGrpc.invoice });
    expect((await lndGrpcProvider(merchant).lookupInvoice(toGrpc.paymentHash)).state).toBe(
      "settled",
    );
  });

  it("behavior: a description hash goes into the invoice (BOLT11 h) in place of the memo", async () => {
    const description = "one long description, kept out of the invoice";
    const descriptionHash = bytesToHex(sha256(new TextEncoder().encode(description)));
    for (const provider of [lndGrpcProvider(merchant), lndProvider(restNode, Date.now)]) {
      const issued = await provider.createInvoice({ amountMsat: 1_000, descriptionHash });
      expect(decodeInvoice(issued.invoice)).toMatchObject({ descriptionHash, description: null });
    }
  });

  it("error: a wrong macaroon is AuthenticationError for every call, without waiting for the timeout", async () => {
    const wrong = { macaroon: "00".repeat(32), timeoutSecs: NEVER_SECS };
    const payerBalance = ledger.balance("payer");
    const issued = await lndGrpcProvider(merchant).createInvoice({ amountMsat: 1_000 });
    const toMerchant = lndGrpcProvider(merchant, Date.now, wrong);
    const calls = [
      () => toMerchant.createInvoice({ amountMsat: 1_000 }),
      () => toMerchant.lookupInvoice(issued.paymentHash),
      () => toMerchant.getNetwork(),
      () => lndGrpcProvider(payer, Date.now, wrong).payInvoice({ invoice: issued.invoice }),
    ];
    for (const call of calls) expect(await failure(call())).toBeInstanceOf(AuthenticationError);
    expect(ledger.balance("payer")).toBe(payerBalance);
  });

  it("error: a certificate other than the node's is refused with ConnectionError, and nothing is paid", async () => {
    const other = await selfSignedCertificate();
    const impostor = { tlsCert: other.certPem, timeoutSecs: NEVER_SECS };
    const issued = await lndGrpcProvider(merchant).createInvoice({ amountMsat: 1_000 });
    const payerBalance = ledger.balance("payer");
    const reading = lndGrpcProvider(merchant, Date.now, impostor);
    expect(await failure(reading.getNetwork())).toBeInstanceOf(ConnectionError);
    const paying = lndGrpcProvider(payer, Date.now, impostor);
    expect(await failure(paying.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
      ConnectionError,
    );
    expect(ledger.balance("payer")).toBe(payerBalance);
  });

  it("error: a node that never answers is ConnectionError at the deadline", async () => {
    const silent: Server = createServer(() => {}); // accepts, then says nothing (no TLS)
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const address = silent.address();
    const port = typeof address === "object" && address ? address.port : 0;
    const provider = new LndLightningProvider({
      transport: "grpc",
      host: `127.0.0.1:${port}`,
      tlsCert: merchant.tlsCertPem,
      macaroon: merchant.macaroonHex,
      timeoutSecs: 1,
    });
    try {
      expect(await failure(provider.getNetwork())).toBeInstanceOf(ConnectionError);
    } finally {
      provider.close();
      silent.close();
    }
  });

  it("error: a stopped node is ConnectionError", async () => {
    const gone = await startLndGrpcStandIn({ ledger, wallet: "shop" });
    await gone.stop();
    expect(await failure(lndGrpcProvider(gone).getNetwork())).toBeInstanceOf(ConnectionError);
  });

  it("error: an invoice no node on the ledger issued fails with RouteNotFoundError", async () => {
    const foreign = await new MockLightningProvider().createInvoice({ amountMsat: 1_000 });
    const err = await failure(lndGrpcProvider(payer).payInvoice({ invoice: foreign.invoice }));
    expect(err).toBeInstanceOf(RouteNotFoundError);
  });

  it("behavior: tlsCert is accepted as PEM text or bytes, DER bytes, and the file as base64 or hex", async () => {
    const pem = merchant.tlsCertPem;
    const der = new Uint8Array(new X509Certificate(pem).raw);
    const forms = [
      pem,
      new TextEncoder().encode(pem),
      der,
      base64.encode(new TextEncoder().encode(pem)),
      hex.encode(new TextEncoder().encode(pem)),
    ];
    for (const tlsCert of forms) {
      const provider = lndGrpcProvider(merchant, Date.now, { tlsCert });
      expect(await provider.getNetwork()).toBe("regtest");
    }
  });

  it.each([
    ["a host without a port", { host: "127.0.0.1" }],
    ["a tlsCert that is no certificate", { tlsCert: "not a certificate" }],
    ["a macaroon that is not hex", { macaroon: "mac" }],
  ])("error: %s is refused at construction (invalid_request)", (_name, override) => {
    const build = () =>
      new LndLightningProvider({
        transport: "grpc",
        host: merchant.host,
        tlsCert: merchant.tlsCertPem,
        macaroon: merchant.macaroonHex,
        ...override,
      });
    expect(build).toThrow(LightningError);
    expect(() => build()).toThrow(expect.objectContaining({ code: "invalid_request" }));
  });

  it("error: in Workers (no HTTP/2 sockets) the gRPC transport is unsupported", () => {
    vi.stubGlobal("navigator", { userAgent: "Cloudflare-Workers" });
    const build = () =>
      new LndLightningProvider({
        transport: "grpc",
        host: merchant.host,
        tlsCert: merchant.tlsCertPem,
        macaroon: merchant.macaroonHex,
      });
    expect(build).toThrow(expect.objectContaining({ code: "unsupported" }));
    // The REST transport is the one that runs there.
    const rest = { transport: "rest", url: restNode.url, macaroon: restNode.macaroonHex } as const;
    expect(new LndLightningProvider(rest)).toBeInstanceOf(LndLightningProvider);
  });
});
