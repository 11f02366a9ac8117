import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, RECEIVE_METHODS, startDevnet } from "../../devnet/index.ts";
import { Ledger } from "../../devnet/ledger.ts";
import { type LndStandIn, startLndStandIn } from "../../devnet/lnd.ts";
import {
  type Bolt11Network,
  decodeInvoice,
  encodeInvoice,
} from "../../src/protocol/bolt11/Bolt11.ts";
import {
  AuthenticationError,
  ConnectionError,
  InsufficientBalanceError,
  InvoiceExpiredError,
  LightningError,
  type LightningProvider,
  LndLightningProvider,
  MockLightningNetwork,
  MockLightningProvider,
  NwcLightningProvider,
  PaymentTimeoutError,
  RouteNotFoundError,
} from "../../src/providers/index.ts";

/**
 * One contract, run against every provider that can both receive and pay: NWC (on a
 * devnet), LND REST (on stand-ins sharing a devnet Ledger) and the mock. Each backend's
 * clock runs `offsetMs` ahead of real time, so expiry is tested without waiting.
 */

type Harness = {
  network: Bolt11Network;
  merchant: LightningProvider;
  payer: LightningProvider;
  /** A payer with 1 sat. */
  poor: LightningProvider;
  payerBalanceMsat(): number;
  stop(): Promise<void>;
};
const clock = { offsetMs: 0, now: () => Date.now() + clock.offsetMs };
const hashOf = (preimage: string) => bytesToHex(sha256(hexToBytes(preimage)));

async function failure(promise: Promise<unknown>): Promise<LightningError> {
  const err = await promise.then(
    () => new Error("expected a LightningError"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LightningError);
  return err as LightningError;
}

function contract(name: string, start: () => Promise<Harness>) {
  describe(`provider contract: ${name}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await start();
    });
    afterAll(async () => {
      for (const p of [h.merchant, h.payer, h.poor]) p.close?.();
      await h.stop();
    });

    it("behavior: createInvoice returns decodable BOLT11 with the amount, hash and network", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 21_000, description: "coffee" });
      const decoded = decodeInvoice(issued.invoice);
      expect(decoded).toMatchObject({
        amountMsat: 21_000,
        paymentHash: issued.paymentHash,
        network: h.network,
        description: "coffee",
        expiresAt: issued.expiresAt,
      });
      expect(issued.amountMsat).toBe(21_000);
      expect(await h.merchant.getNetwork?.()).toBe(h.network);
    });

    it("behavior: another provider pays it; the preimage hashes to the invoice; lookup goes pending → settled", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 21_000 });
      const before = await h.merchant.lookupInvoice(issued.paymentHash);
      expect(before.state).toBe("pending");
      expect(before.preimage).toBeUndefined();
      const balance = h.payerBalanceMsat();
      const paid = await h.payer.payInvoice({ invoice: issued.invoice });
      expect(hashOf(paid.preimage)).toBe(issued.paymentHash);
      expect(h.payerBalanceMsat()).toBe(balance - 21_000 - paid.feesPaidMsat);
      const after = await h.merchant.lookupInvoice(issued.paymentHash);
      expect(after).toMatchObject({
        state: "settled",
        preimage: paid.preimage,
        amountMsat: 21_000,
      });
    });

    it("error: paying an invoice twice fails with a LightningError and charges once", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 5_000 });
      await h.payer.payInvoice({ invoice: issued.invoice });
      const balance = h.payerBalanceMsat();
      const err = await failure(h.payer.payInvoice({ invoice: issued.invoice }));
      expect(err.code).toBe("payment_failed");
      expect(h.payerBalanceMsat()).toBe(balance);
    });

    it("behavior: a no-amount invoice is paid with the amount the payer chooses", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 0 });
      expect(issued.amountMsat).toBeNull();
      expect(decodeInvoice(issued.invoice).amountMsat).toBeNull();
      await h.payer.payInvoice({ invoice: issued.invoice, amountMsat: 7_000 });
      const after = await h.merchant.lookupInvoice(issued.paymentHash);
      expect(after).toMatchObject({ state: "settled", amountMsat: 7_000 });
    });

    it("error: a payer short of funds gets InsufficientBalanceError and the invoice stays pending", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 50_000 });
      const err = await failure(h.poor.payInvoice({ invoice: issued.invoice }));
      expect(err).toBeInstanceOf(InsufficientBalanceError);
      expect((await h.merchant.lookupInvoice(issued.paymentHash)).state).toBe("pending");
    });

    it("error: looking up an unknown payment hash is LightningError not_found", async () => {
      const err = await failure(h.merchant.lookupInvoice(bytesToHex(randomBytes(32))));
      expect(err.code).toBe("not_found");
    });

    it("error: an expired invoice is refused with InvoiceExpiredError and looks up as expired", async () => {
      const issued = await h.merchant.createInvoice({ amountMsat: 1_000, expirySecs: 60 });
      clock.offsetMs = 120_000;
      try {
        expect(await failure(h.payer.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
          InvoiceExpiredError,
        );
        expect((await h.merchant.lookupInvoice(issued.paymentHash)).state).toBe("expired");
      } finally {
        clock.offsetMs = 0;
      }
    });

    it("behavior: a hold invoice holds the payment until settled with the preimage", async () => {
      const preimage = bytesToHex(randomBytes(32));
      const paymentHash = hashOf(preimage);
      const hold = await h.merchant.createHoldInvoice?.({ amountMsat: 3_000, paymentHash });
      expect(hold?.paymentHash).toBe(paymentHash);
      const paying = h.payer.payInvoice({ invoice: hold?.invoice ?? "" });
      // The merchant learns of the held payment the way it would in production: by lookup.
      await expect
        .poll(async () => (await h.merchant.lookupInvoice(paymentHash)).state)
        .toBe("accepted");
      await h.merchant.settleHoldInvoice?.(preimage);
      expect((await paying).preimage).toBe(preimage);
      expect(await h.merchant.lookupInvoice(paymentHash)).toMatchObject({
        state: "settled",
        preimage,
      });
    });

    it("behavior: canceling a held payment fails it and refunds the payer", async () => {
      const paymentHash = hashOf(bytesToHex(randomBytes(32)));
      const hold = await h.merchant.createHoldInvoice?.({ amountMsat: 3_000, paymentHash });
      const balance = h.payerBalanceMsat();
      const paying = failure(h.payer.payInvoice({ invoice: hold?.invoice ?? "" }));
      await expect
        .poll(async () => (await h.merchant.lookupInvoice(paymentHash)).state)
        .toBe("accepted");
      await h.merchant.cancelHoldInvoice?.(paymentHash);
      expect((await paying).code).toBe("payment_failed");
      expect(h.payerBalanceMsat()).toBe(balance);
      expect((await h.merchant.lookupInvoice(paymentHash)).state).toBe("canceled");
    });
  });
}

contract("NWC (devnet wallets over a relay)", async () => {
  const devnet = await startDevnet({
    upstash: false,
    now: clock.now,
    wallets: {
      merchant: {},
      payer: { balanceSats: 100_000 },
      poor: { balanceSats: 1 },
    },
  });
  const nwc = (name: string) =>
    new NwcLightningProvider({
      connectionString: devnet.wallet(name).connectionString,
      allowInsecureRelays: true,
      now: clock.now,
    });
  return {
    network: "regtest",
    merchant: nwc("merchant"),
    payer: nwc("payer"),
    poor: nwc("poor"),
    payerBalanceMsat: () => devnet.wallet("payer").balanceMsat(),
    stop: () => devnet.stop(),
  };
});

const lndLedger = new Ledger(clock.now);
const lndProvider = (node: LndStandIn, macaroon = node.macaroonHex) =>
  new LndLightningProvider({ transport: "rest", url: node.url, macaroon, now: clock.now });
contract("LND REST (stand-ins on one devnet Ledger)", async () => {
  const node = async (name: string, sats: number) => {
    lndLedger.openAccount(name, sats * 1000);
    return startLndStandIn({ ledger: lndLedger, wallet: name });
  };
  const nodes = [await node("merchant", 0), await node("payer", 100_000), await node("poor", 1)];
  const [merchant, payer, poor] = nodes;
  if (!merchant || !payer || !poor) throw new Error("stand-ins did not start");
  return {
    network: "regtest",
    merchant: lndProvider(merchant),
    payer: lndProvider(payer),
    poor: lndProvider(poor),
    payerBalanceMsat: () => lndLedger.balance("payer"),
    stop: async () => {
      for (const n of nodes) await n.stop();
    },
  };
});

const mockNet = new MockLightningNetwork({ now: clock.now });
contract("Mock (two instances on one MockLightningNetwork)", async () => {
  const payer = new MockLightningProvider({ mockNetwork: mockNet, balanceMsat: 100_000_000 });
  return {
    network: "regtest",
    merchant: new MockLightningProvider({ mockNetwork: mockNet, autoSettle: false }),
    payer,
    poor: new MockLightningProvider({ mockNetwork: mockNet, balanceMsat: 1_000 }),
    payerBalanceMsat: () => payer.balanceMsat() ?? 0,
    stop: async () => {},
  };
});

describe("LND REST specifics", () => {
  const ledger = new Ledger();
  let merchant: LndStandIn;
  let payer: LndStandIn;
  beforeAll(async () => {
    ledger.openAccount("merchant");
    ledger.openAccount("payer", 100_000_000);
    ledger.openAccount("shop");
    merchant = await startLndStandIn({ ledger, wallet: "merchant" });
    payer = await startLndStandIn({ ledger, wallet: "payer" });
  });
  afterAll(async () => {
    await merchant.stop();
    await payer.stop();
  });

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

describe("NWC specifics", () => {
  let devnet: Devnet;
  const nwc = (name: string, timeoutSecs?: number) =>
    new NwcLightningProvider({
      connectionString: devnet.wallet(name).connectionString,
      allowInsecureRelays: true,
      ...(timeoutSecs ? { timeoutSecs } : {}),
    });
  beforeAll(async () => {
    devnet = await startDevnet({
      upstash: false,
      wallets: {
        merchant: {},
        payer: { balanceSats: 1_000 },
        receiveOnly: { methods: RECEIVE_METHODS },
      },
    });
  });
  afterAll(() => devnet.stop());

  it("behavior: one connection is opened lazily, reused, and replaced after close()", async () => {
    const before = devnet.relay.connectionCount();
    const provider = nwc("merchant");
    expect(devnet.relay.connectionCount()).toBe(before);
    await Promise.all([provider.getNetwork(), provider.getNetwork()]);
    await provider.createInvoice({ amountMsat: 1_000 });
    expect(devnet.relay.connectionCount()).toBe(before + 1);
    provider.close();
    await expect.poll(() => devnet.relay.connectionCount()).toBe(before);
    expect(await provider.getNetwork()).toBe("regtest");
    expect(devnet.relay.connectionCount()).toBe(before + 1);
    provider.close();
  });

  it("error: paying through a receive-only connection is AuthenticationError (RESTRICTED)", async () => {
    const issued = await nwc("merchant").createInvoice({ amountMsat: 1_000 });
    const receiveOnly = nwc("receiveOnly");
    expect(await failure(receiveOnly.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
      AuthenticationError,
    );
    receiveOnly.close();
  });

  it("error: PAYMENT_FAILED naming a route is RouteNotFoundError; a silent wallet is PaymentTimeoutError", async () => {
    const issued = await nwc("merchant").createInvoice({ amountMsat: 1_000 });
    const payer = nwc("payer", 1);
    devnet.wallet("payer").faults.setError("PAYMENT_FAILED", "no route found");
    try {
      const err = await failure(payer.payInvoice({ invoice: issued.invoice }));
      expect(err).toBeInstanceOf(RouteNotFoundError);
      devnet.wallet("payer").faults.setError(null);
      devnet.wallet("payer").faults.setNoReply(true);
      expect(await failure(payer.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
        PaymentTimeoutError,
      );
    } finally {
      devnet.wallet("payer").faults.setError(null);
      devnet.wallet("payer").faults.setNoReply(false);
      payer.close();
    }
  });

  it("error: an unreachable relay is ConnectionError", async () => {
    const url = devnet
      .wallet("merchant")
      .connectionString.replace(/relay=[^&]+/, "relay=ws%3A%2F%2F127.0.0.1%3A9");
    const provider = new NwcLightningProvider({ connectionString: url, allowInsecureRelays: true });
    expect(await failure(provider.getNetwork())).toBeInstanceOf(ConnectionError);
  });
});

describe("Mock specifics", () => {
  it("behavior: two mocks with default options pay each other (sharedMockNetwork)", async () => {
    const issued = await new MockLightningProvider({ autoSettle: false }).createInvoice({
      amountMsat: 1_000,
    });
    const paid = await new MockLightningProvider().payInvoice({ invoice: issued.invoice });
    expect(hashOf(paid.preimage)).toBe(issued.paymentHash);
  });

  it("behavior: autoSettle (the default) reports an unpaid invoice settled with its preimage", async () => {
    const mock = new MockLightningProvider();
    const issued = await mock.createInvoice({ amountMsat: 1_000 });
    const state = await mock.lookupInvoice(issued.paymentHash);
    expect(state.state).toBe("settled");
    expect(hashOf(state.preimage ?? "")).toBe(issued.paymentHash);
  });

  it("error: failOnPay throws its LightningError; paymentDelay delays the payment", async () => {
    const net = new MockLightningNetwork();
    const issued = await new MockLightningProvider({ mockNetwork: net }).createInvoice({
      amountMsat: 1,
    });
    const failing = new MockLightningProvider({
      mockNetwork: net,
      failOnPay: new RouteNotFoundError(),
    });
    expect(await failure(failing.payInvoice({ invoice: issued.invoice }))).toBeInstanceOf(
      RouteNotFoundError,
    );
    const slow = new MockLightningProvider({ mockNetwork: net, paymentDelay: 50 });
    const started = performance.now();
    await slow.payInvoice({ invoice: issued.invoice });
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });
});
