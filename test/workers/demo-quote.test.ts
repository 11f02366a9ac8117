import { createExecutionContext, env } from "cloudflare:test";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { wrapFetchWithPayment } from "@x402/fetch";
import { afterAll, describe, expect, inject, it } from "vitest";
import { ExactLnbtcClientScheme } from "../../src/client/lnbtc.ts";
import { lnbtcPayer, wrapFetchWithLnbtc } from "../../src/client/lnbtcFetch.ts";
import { nwcPayer } from "../../src/client/wallet.ts";
import { createLightningX402Client } from "../../src/client/x402.ts";
import { LNBTC_NETWORKS } from "../../src/protocol/x402/lnbtc/Networks.ts";
import worker from "../../src/worker/index.ts";
import { devnet, uniqueName } from "./devnet.ts";

/** `GET /demo/quote`: the Worker sells a quote through the standard x402 flow against itself. */

const payer = nwcPayer(inject("nwc").payer, { allowInsecureRelays: true });
afterAll(() => payer.close());

function demoWorker(bindings: Record<string, unknown>): typeof fetch {
  return async (input, init) =>
    worker.fetch(new Request(input, init), { ...env, ...bindings }, createExecutionContext());
}

describe("GET /demo/quote", () => {
  it("error: is 404 when DEMO_NWC_SECRET is not set", async () => {
    const res = await demoWorker({})("https://ln402.test/demo/quote");
    expect(res.status).toBe(404);
  });

  it("behavior: a browser gets a real HTML payment page, a program gets JSON", async () => {
    const fetchDemo = demoWorker({ DEMO_NWC_SECRET: inject("nwc").merchant });
    const browser = await fetchDemo("https://ln402.test/demo/quote", {
      headers: { Accept: "text/html", "User-Agent": "Mozilla/5.0" },
    });
    expect(browser.status).toBe(402);
    expect(browser.headers.get("Content-Type")).toMatch(/^text\/html/);
    const page = await browser.text();
    expect(page.trimStart().startsWith("<")).toBe(true);
    expect(page.startsWith('"')).toBe(false);
    const program = await fetchDemo("https://ln402.test/demo/quote");
    expect(program.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(typeof (await program.json())).toBe("object");
  });

  it("behavior: answers 402 with a Lightning offer, then a quote once paid, into the demo wallet", async () => {
    const fetchDemo = demoWorker({ DEMO_NWC_SECRET: inject("nwc").merchant });
    const unpaid = await fetchDemo("https://ln402.test/demo/quote");
    expect(unpaid.status).toBe(402);
    const accepts = decodePaymentRequiredHeader(
      unpaid.headers.get("PAYMENT-REQUIRED") ?? "",
    ).accepts;
    // The official scheme first, the legacy entry for older clients second.
    expect(accepts[0]).toMatchObject({
      scheme: "exact",
      network: LNBTC_NETWORKS.regtest,
      amount: "21000",
      asset: "BTC",
      extra: { paymentFlow: "upfront", requestBindingProfile: "http:1" },
    });
    expect(accepts[1]).toMatchObject({
      scheme: "exact",
      amount: "21000",
      asset: "BTC",
      extra: { paymentMethod: "lightning" },
    });

    const before = (await devnet.wallet("merchant")).balanceMsat;
    const paid = await wrapFetchWithPayment(
      fetchDemo,
      createLightningX402Client({ wallet: payer, maxAmountMsat: 50_000 }),
    )("https://ln402.test/demo/quote");
    expect(paid.status).toBe(200);
    expect(await paid.json()).toMatchObject({ author: "Satoshi Nakamoto", paid: "21 sats" });
    expect(decodePaymentResponseHeader(paid.headers.get("PAYMENT-RESPONSE") ?? "").success).toBe(
      true,
    );
    expect((await devnet.wallet("merchant")).balanceMsat - before).toBe(21_000);
  });

  it("behavior: an lnbtc client is served a quote for a request-bound invoice, settled upfront", async () => {
    const fetchDemo = demoWorker({ DEMO_NWC_SECRET: inject("nwc").merchant });
    const before = (await devnet.wallet("merchant")).balanceMsat;
    const client = new ExactLnbtcClientScheme({
      payer: lnbtcPayer(payer),
      maxAmountMsat: 50_000,
      networks: ["regtest"],
    });
    const paid = await wrapFetchWithLnbtc(fetchDemo, client, {
      maxAmountMsat: 50_000,
      wrapFetchWithPayment,
    })("https://ln402.test/demo/quote");
    expect(paid.status).toBe(200);
    expect(await paid.json()).toMatchObject({ author: "Satoshi Nakamoto" });
    const settled = decodePaymentResponseHeader(paid.headers.get("PAYMENT-RESPONSE") ?? "");
    expect(settled).toMatchObject({ success: true, network: LNBTC_NETWORKS.regtest });
    expect((await devnet.wallet("merchant")).balanceMsat - before).toBe(21_000);
  });

  it("behavior: when DEMO_NWC_SECRET changes, the demo follows the configured wallet", async () => {
    const name = uniqueName("demo2");
    const other = await devnet.createWallet(name);
    const fetchDemo = demoWorker({ DEMO_NWC_SECRET: other.connectionString });
    const before = (await devnet.wallet(name)).balanceMsat;
    const paid = await wrapFetchWithPayment(
      fetchDemo,
      createLightningX402Client({ wallet: payer, maxAmountMsat: 50_000 }),
    )("https://ln402.test/demo/quote");
    expect(paid.status).toBe(200);
    expect((await devnet.wallet(name)).balanceMsat - before).toBe(21_000);
  });
});
