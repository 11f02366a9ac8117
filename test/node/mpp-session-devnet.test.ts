import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, startDevnet } from "../../devnet/index.ts";
import { lightningChargeServer } from "../../src/mpp/charge.ts";
import { lightningChargeClient } from "../../src/mpp/chargeClient.ts";
import { createPaymentFetch } from "../../src/mpp/fetch.ts";
import { createPaymentHandler } from "../../src/mpp/server.ts";
import { lightningSessionClient } from "../../src/mpp/session/client.ts";
import { lightningSessionServer } from "../../src/mpp/session/server.ts";
import { readEvents } from "../../src/mpp/session/sse.ts";
import * as Receipt from "../../src/protocol/mpp/Receipt.ts";
import { NwcLightningProvider } from "../../src/providers/nwc.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";

/**
 * The MPP lightning method with real NWC peers: merchant and payer are devnet wallets
 * reached over the devnet relay through ln402's NWC provider; invoices are signed
 * regtest BOLT11; balances are the devnet ledger's, so every sat is accounted for.
 */

const SECRET = "test-only-mpp-secret-0123456789abcdef";
let devnet: Devnet;
let merchant: NwcLightningProvider;
let payer: NwcLightningProvider;

beforeAll(async () => {
  devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: 10_000 } },
  });
  const provider = (name: string) =>
    new NwcLightningProvider({
      connectionString: devnet.wallet(name).connectionString,
      allowInsecureRelays: true,
    });
  merchant = provider("merchant");
  payer = provider("payer");
});
afterAll(async () => {
  merchant.close();
  payer.close();
  await devnet.stop();
});

async function* chunks(n: number) {
  for (let i = 1; i <= n; i++) yield `chunk ${i}`;
}

describe("MPP lightning over devnet NWC wallets", () => {
  it("behavior: a charge moves exactly the price from the payer's wallet to the merchant's", async () => {
    const payments = createPaymentHandler({
      secretKey: SECRET,
      realm: "api.test",
      methods: [lightningChargeServer({ provider: merchant, network: "regtest" })],
    });
    const app = new Hono();
    app.get("/quote", async (c) => {
      const result = await payments.handle(c.req.raw, { intent: "charge", amount: "21" });
      return result.status === 402 ? result.challenge : result.withReceipt(c.json({ quote: "ok" }));
    });
    const pay = createPaymentFetch({
      methods: [lightningChargeClient(payer, { network: "regtest", maxAmountSats: 100 })],
      fetch: async (request) => app.fetch(request),
    });
    const before = {
      payer: devnet.wallet("payer").balanceMsat(),
      merchant: devnet.wallet("merchant").balanceMsat(),
    };
    const res = await pay("http://api.test/quote");
    expect(res.status).toBe(200);
    expect(Receipt.parse(res.headers.get("Payment-Receipt") ?? "")).toMatchObject({
      method: "lightning",
      status: "success",
    });
    expect(before.payer - devnet.wallet("payer").balanceMsat()).toBe(21_000);
    expect(devnet.wallet("merchant").balanceMsat() - before.merchant).toBe(21_000);
  });

  it("behavior: session deposit, metered stream, close: the refund arrives in the payer's devnet wallet to the sat", async () => {
    const method = lightningSessionServer({
      provider: merchant,
      store: new MemoryStore(),
      network: "regtest",
    });
    const payments = createPaymentHandler({
      secretKey: SECRET,
      realm: "api.test",
      methods: [method],
    });
    const app = new Hono();
    app.get("/stream", async (c) => {
      const result = await payments.handle(c.req.raw, {
        intent: "session",
        amount: "3",
        depositAmount: "30",
      });
      if (result.status === 402) return result.challenge;
      if (result.management) return result.management;
      return result.withReceipt(
        method.serve({ sessionId: result.receipt.reference, satsPerChunk: 3, generate: chunks(4) }),
      );
    });
    const send = async (request: Request) => app.fetch(request);
    const client = lightningSessionClient(payer, { maxDepositSats: 100, network: "regtest" });
    const pay = createPaymentFetch({ methods: [client], fetch: send });
    const payerBefore = devnet.wallet("payer").balanceMsat();

    expect((await pay("http://api.test/stream")).status).toBe(200); // open: the 30-sat deposit is paid
    expect(payerBefore - devnet.wallet("payer").balanceMsat()).toBe(30_000);
    const stream = await pay("http://api.test/stream"); // bearer: 4 chunks × 3 sats
    const data: string[] = [];
    for await (const event of readEvents(stream.body ?? new ReadableStream()))
      if (event.event === "message") data.push(event.data);
    expect(data).toEqual(["chunk 1", "chunk 2", "chunk 3", "chunk 4", "[DONE]"]);

    const closed = await client.close(send, "http://api.test/stream");
    expect(closed).toEqual({ refundSats: 18, refundStatus: "succeeded" });
    // Deposit out, refund back: the payer spent exactly what it streamed (devnet fees are 0).
    expect(payerBefore - devnet.wallet("payer").balanceMsat()).toBe(12_000);
  });
});
