import { createExecutionContext, env } from "cloudflare:test";
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from "@x402/core/http";
import { wrapFetchWithPayment } from "@x402/fetch";
import { afterAll, describe, expect, inject, it } from "vitest";
import { nwcPayer } from "../../src/client/wallet.ts";
import { createLightningX402Client } from "../../src/client/x402.ts";
import worker from "../../src/worker/index.ts";
import { devnet } from "./devnet.ts";

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
    const offer = decodePaymentRequiredHeader(unpaid.headers.get("PAYMENT-REQUIRED") ?? "")
      .accepts[0];
    expect(offer).toMatchObject({
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
});
