import { decodePaymentResponseHeader, decodePaymentSignatureHeader } from "@x402/core/http";
import { x402ResourceServer } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { wrapFetchWithPayment } from "@x402/fetch";
import { paymentMiddleware } from "@x402/hono";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../devnet/stack.ts";
import { startWrangler } from "../../devnet/wrangler.ts";
import { ExactLnbtcClientScheme } from "../../src/client/lnbtc.ts";
import { lnbtcPayer, wrapFetchWithLnbtc } from "../../src/client/lnbtcFetch.ts";
import { type NwcPayer, nwcPayer } from "../../src/client/wallet.ts";
import { LNBTC_NETWORKS } from "../../src/protocol/x402/lnbtc/Networks.ts";
import { ExactLnbtcServerScheme } from "../../src/x402/lnbtc.ts";
import { ln402Receiver } from "../../src/x402/receiver.ts";
import { ln402Facilitator } from "../../src/x402/server.ts";

/**
 * x402 `exact` on lnbtc with ln402 as the receiver (`POST /invoice` with a description
 * hash) and the facilitator (`/settle` in the merchant's Durable Object), under
 * `wrangler dev` with the devnet: `@x402/hono` with ln402's server scheme, paid by
 * `@x402/fetch` with ln402's client scheme from a devnet NWC wallet.
 */

const REGTEST = LNBTC_NETWORKS.regtest;
type Merchant = { merchantId: string; apiKey: string };
let stack: Stack;
let payer: NwcPayer;
let payTo: string;
let cotenant: Merchant;

function resourceServer(url: string, merchant: Merchant) {
  const scheme = new ExactLnbtcServerScheme({
    receiver: ln402Receiver({ url, ...merchant }),
    payTo,
    merchantId: merchant.merchantId,
    networks: ["regtest"],
    binding: { profile: "http:1", publicOrigin: "https://api.test", headers: [] },
  });
  const server = new x402ResourceServer(
    ln402Facilitator({ url, apiKey: merchant.apiKey }),
  ).register(REGTEST, scheme);
  const route = (path: string) => ({
    accepts: {
      scheme: "exact",
      network: REGTEST,
      price: { asset: "BTC", amount: "21000" },
      payTo,
      maxTimeoutSeconds: 600,
    },
    resource: `https://api.test${path}`,
  });
  const app = new Hono();
  app.use(
    paymentMiddleware(
      { "GET /article/A": route("/article/A"), "GET /article/B": route("/article/B") },
      server,
    ),
  );
  app.get("/article/:id", (c) => c.json({ article: c.req.param("id") }));
  const serve: typeof fetch = async (input, init) => app.fetch(new Request(input, init));
  return serve;
}

/**
 * Pays as a client would, and returns the response and the PAYMENT-SIGNATURE it sent.
 * With `hold`, the paid retry never reaches the resource server (so nothing settles it):
 * the proof is captured for the test to present itself.
 */
async function payFor(serve: typeof fetch, url: string, options: { hold?: boolean } = {}) {
  let signature = "";
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    signature = request.headers.get("PAYMENT-SIGNATURE") ?? signature;
    if (options.hold && signature !== "") return new Response("held", { status: 599 });
    return serve(request);
  };
  const client = new ExactLnbtcClientScheme({
    payer: lnbtcPayer(payer),
    maxAmountMsat: 50_000,
    networks: ["regtest"],
  });
  const res = await wrapFetchWithLnbtc(recording, client, {
    maxAmountMsat: 50_000,
    wrapFetchWithPayment,
  })(url);
  expect(signature).not.toBe("");
  return { res, signature };
}

/** POST /settle of a recorded proof, as the merchant (or whoever holds `apiKey`). */
async function settle(url: string, signature: string, apiKey: string) {
  const payload = decodePaymentSignatureHeader(signature) as PaymentPayload;
  const res = await fetch(`${url}/settle`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
    body: JSON.stringify({
      x402Version: 2,
      paymentPayload: payload,
      paymentRequirements: payload.accepted as PaymentRequirements,
    }),
  });
  return (await res.json()) as Record<string, unknown>;
}

beforeAll(async () => {
  stack = await startStack();
  payer = nwcPayer(stack.devnet.wallet("payer").connectionString, { allowInsecureRelays: true });
  payTo = stack.devnet.wallet("merchant").nodePubkey;
  // A co-tenant: another merchant on the same wallet, so the same node key signs for both.
  const res = await fetch(`${stack.ln402.url}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ nwcUrl: stack.devnet.wallet("merchant").connectionString }),
  });
  cotenant = (await res.json()) as Merchant;
}, 90_000);

afterAll(async () => {
  payer?.close();
  await stack?.stop();
});

describe("x402 lnbtc with ln402 as receiver and facilitator", () => {
  it("behavior: /supported lists lnbtc (regtest only because this deployment serves the devnet)", async () => {
    const supported = (await (await fetch(`${stack.ln402.url}/supported`)).json()) as {
      kinds: Array<{ network: string }>;
    };
    const networks = supported.kinds.map((k) => k.network);
    expect(networks).toEqual(
      expect.arrayContaining([LNBTC_NETWORKS.mainnet, LNBTC_NETWORKS.testnet, REGTEST]),
    );
  });

  it("behavior: a request-bound invoice paid once serves the article once; 64 concurrent settles of its proof redeem nothing more", async () => {
    const serve = resourceServer(stack.ln402.url, stack.merchant);
    const before = stack.devnet.wallet("merchant").balanceMsat();
    const { res, signature } = await payFor(serve, "https://api.test/article/A");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ article: "A" });
    const settlement = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE") ?? "");
    expect(settlement).toMatchObject({ success: true, network: REGTEST });
    expect(settlement.payer).toBeUndefined();
    expect(stack.devnet.wallet("merchant").balanceMsat() - before).toBe(21_000);

    const answers = await Promise.all(
      Array.from({ length: 64 }, () => settle(stack.ln402.url, signature, stack.merchant.apiKey)),
    );
    expect(answers.filter((a) => a.success === true)).toHaveLength(0);
    expect(answers.every((a) => a.errorReason === "duplicate_settlement")).toBe(true);
  });

  it("behavior: of 64 concurrent first settles of one proof exactly one succeeds", async () => {
    const serve = resourceServer(stack.ln402.url, stack.merchant);
    // Pay, but capture the proof before any settle: the resource server never sees it.
    const { signature } = await payFor(serve, "https://api.test/article/A", { hold: true });
    const answers = await Promise.all(
      Array.from({ length: 64 }, () => settle(stack.ln402.url, signature, stack.merchant.apiKey)),
    );
    expect(answers.filter((a) => a.success === true)).toHaveLength(1);
    expect(answers.filter((a) => a.errorReason === "duplicate_settlement")).toHaveLength(63);
  });

  it("error: article A's proof presented for article B is refused", async () => {
    const serve = resourceServer(stack.ln402.url, stack.merchant);
    const { res, signature } = await payFor(serve, "https://api.test/article/A");
    expect(res.status).toBe(200);
    const forB = await serve("https://api.test/article/B", {
      headers: { "PAYMENT-SIGNATURE": signature },
    });
    expect(forB.status).toBe(402);
    expect(await forB.text()).not.toContain('"article"');
  });

  it("error: a co-tenant's self-issued invoice on the shared node key does not buy this merchant's resource", async () => {
    // The co-tenant runs the same API under the same node key, and pays its own invoice.
    const theirs = resourceServer(stack.ln402.url, cotenant);
    const { signature } = await payFor(theirs, "https://api.test/article/A", { hold: true });
    // Same request, same amount, same node key: only the invoice book tells them apart.
    const ours = resourceServer(stack.ln402.url, stack.merchant);
    const res = await ours("https://api.test/article/A", {
      headers: { "PAYMENT-SIGNATURE": signature },
    });
    expect(res.status).toBe(402);
    expect(await settle(stack.ln402.url, signature, stack.merchant.apiKey)).toMatchObject({
      success: false,
      errorReason: "unknown_invoice",
    });
  });

  it("behavior: the replay entry survives a restart of the Worker (durable state)", async () => {
    const serve = resourceServer(stack.ln402.url, stack.merchant);
    const { res, signature } = await payFor(serve, "https://api.test/article/B");
    expect(res.status).toBe(200);
    // Stop this Worker and start another on the same persisted state.
    await stack.ln402.stop();
    const second = await startWrangler();
    try {
      expect(await settle(second.url, signature, stack.merchant.apiKey)).toMatchObject({
        success: false,
        errorReason: "duplicate_settlement",
      });
    } finally {
      await second.stop();
    }
  }, 90_000);
});
