import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Ledger } from "../../devnet/ledger.ts";
import { type LndStandIn, startLndStandIn } from "../../devnet/lnd.ts";
import { encodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import {
  AuthenticationError,
  ConnectionError,
  InsufficientBalanceError,
  LightningError,
  LndLightningProvider,
  MockLightningProvider,
  PaymentTimeoutError,
  RouteNotFoundError,
} from "../../src/providers/index.ts";
import {
  failure,
  hashOf,
  lndProvider as lndProviderAt,
  startLndPair,
} from "./support/providers.ts";

/** LND REST behavior beyond the provider contract, on stand-ins and on scripted responses. */

const lndProvider = (node: LndStandIn, macaroon?: string) =>
  lndProviderAt(node, Date.now, macaroon);

describe("LND REST specifics", () => {
  let ledger: Ledger;
  let merchant: LndStandIn;
  let payer: LndStandIn;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ ledger, merchant, payer, stop } = await startLndPair());
  });
  afterAll(() => stop());

  it("behavior: lookups put the payment hash in the path as hex; payments use the router stream", async () => {
    const issued = await lndProvider(merchant).createInvoice({ amountMsat: 2_000 });
    await lndProvider(payer).payInvoice({ invoice: issued.invoice });
    await lndProvider(merchant).lookupInvoice(issued.paymentHash);
    expect(merchant.requests).toContainEqual({
      method: "GET",
      path: `/v1/invoice/${issued.paymentHash}`,
    });
    expect(payer.requests).toEqual([{ method: "POST", path: "/v2/router/send" }]);
  });

  it("error: a missing or wrong macaroon is AuthenticationError (LND itself answers 500, code 2)", async () => {
    const raw = await fetch(`${merchant.url}/v1/getinfo`);
    expect(raw.status).toBe(500);
    expect(await raw.json()).toMatchObject({ code: 2, message: "expected 1 macaroon, got 0" });
    const wrong = lndProvider(merchant, "00".repeat(32));
    expect(await failure(wrong.createInvoice({ amountMsat: 1_000 }))).toBeInstanceOf(
      AuthenticationError,
    );
  });

  it("behavior: an LND node pays a plain devnet-ledger wallet", async () => {
    const tx = ledger.makeInvoice("shop", { amountMsat: 4_000 });
    const paid = await lndProvider(payer).payInvoice({ invoice: tx.invoice });
    expect(hashOf(paid.preimage)).toBe(tx.payment_hash);
    expect(ledger.balance("shop")).toBe(4_000);
  });

  it("error: an invoice no node on the ledger issued fails with RouteNotFoundError", async () => {
    const foreign = await new MockLightningProvider().createInvoice({ amountMsat: 1_000 });
    const err = await failure(lndProvider(payer).payInvoice({ invoice: foreign.invoice }));
    expect(err).toBeInstanceOf(RouteNotFoundError);
  });

  it("error: an unreachable node is ConnectionError", async () => {
    const gone = await startLndStandIn({ ledger, wallet: "shop" });
    await gone.stop();
    expect(await failure(lndProvider(gone).getNetwork())).toBeInstanceOf(ConnectionError);
  });
});

describe("LND router stream parsing (scripted responses)", () => {
  const preimage = bytesToHex(randomBytes(32));
  const invoice = encodeInvoice(
    {
      network: "regtest",
      amountMsat: 1_000,
      timestamp: Math.floor(Date.now() / 1000),
      paymentHash: hashOf(preimage),
      paymentSecret: bytesToHex(randomBytes(32)),
      description: "",
    },
    randomBytes(32),
  );
  /** A provider whose fetch answers with these body chunks, recording the request. */
  const scripted = (chunks: string[], sent: Array<{ url: string; init?: RequestInit }> = []) =>
    new LndLightningProvider({
      transport: "rest",
      url: "http://lnd.invalid",
      macaroon: "0201",
      fetch: async (url, init) => {
        sent.push({ url: String(url), ...(init ? { init } : {}) });
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk));
            controller.close();
          },
        });
        return new Response(body, { status: 200 });
      },
    });
  const line = (result: Record<string, unknown>) => `${JSON.stringify({ result })}\n`;

  it("behavior: updates split across chunks are read until SUCCEEDED", async () => {
    const done = line({ status: "SUCCEEDED", payment_preimage: preimage, fee_msat: "12" });
    const chunks = [
      line({ status: "IN_FLIGHT" }).slice(0, 9),
      line({ status: "IN_FLIGHT" }).slice(9),
    ];
    chunks.push(done.slice(0, 30), done.slice(30));
    const sent: Array<{ url: string; init?: RequestInit }> = [];
    expect(await scripted(chunks, sent).payInvoice({ invoice })).toEqual({
      preimage,
      feesPaidMsat: 12,
    });
    expect(sent[0]?.url).toBe("http://lnd.invalid/v2/router/send");
    expect(JSON.parse(String(sent[0]?.init?.body))).toEqual({
      payment_request: invoice,
      timeout_seconds: 30,
      fee_limit_msat: "10000",
    });
    expect(sent[0]?.init?.headers).toMatchObject({ "Grpc-Metadata-macaroon": "0201" });
  });

  it.each([
    ["FAILURE_REASON_NO_ROUTE", RouteNotFoundError],
    ["FAILURE_REASON_INSUFFICIENT_BALANCE", InsufficientBalanceError],
    ["FAILURE_REASON_TIMEOUT", PaymentTimeoutError],
    ["FAILURE_REASON_INCORRECT_PAYMENT_DETAILS", LightningError],
  ])("error: FAILED with %s is %o", async (reason, type) => {
    const chunks = [
      line({ status: "IN_FLIGHT" }),
      line({ status: "FAILED", failure_reason: reason }),
    ];
    expect(await failure(scripted(chunks).payInvoice({ invoice }))).toBeInstanceOf(type);
  });

  it("error: a stream that ends without a final status is PaymentTimeoutError (outcome unknown)", async () => {
    const err = await failure(scripted([line({ status: "IN_FLIGHT" })]).payInvoice({ invoice }));
    expect(err).toBeInstanceOf(PaymentTimeoutError);
  });

  it("error: a SUCCEEDED preimage of another hash is refused", async () => {
    const chunks = [line({ status: "SUCCEEDED", payment_preimage: "ab".repeat(32) })];
    expect((await failure(scripted(chunks).payInvoice({ invoice }))).code).toBe("payment_failed");
  });
});
