import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../devnet/stack.ts";
import { type NwcPayer, nwcPayer } from "../../src/client/wallet.ts";
import * as Challenge from "../../src/protocol/mpp/Challenge.ts";
import * as Credential from "../../src/protocol/mpp/Credential.ts";
import * as Receipt from "../../src/protocol/mpp/Receipt.ts";
import { parseConnectionString } from "../../src/protocol/nip47/ConnectionString.ts";
import { NwcLightningProvider } from "../../src/providers/nwc.ts";
import { NwcClient } from "../../src/relay/NwcClient.ts";
import { gw, lnbtcFetch, type Merchant, mppFetch, putRoutes, stats } from "./support/gateway.ts";
import { startUpstream, type Upstream } from "./support/upstream.ts";

/**
 * The gateway's paid requests end to end: `wrangler dev` + the devnet, an upstream in
 * plain node:http, paid by ln402's own clients over x402 lnbtc and MPP. Every test
 * states what an attacker would try: serving unpaid, serving twice, or redeeming a proof
 * for another request.
 */

let stack: Stack;
let upstream: Upstream;
let payer: NwcPayer;
let provider: NwcLightningProvider;
let merchant: Merchant;
const PRICE_MSAT = 21_000;

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({ vars: { ALLOW_INSECURE_UPSTREAMS: "true" } });
  merchant = stack.merchant;
  payer = nwcPayer(stack.devnet.wallet("payer").connectionString, { allowInsecureRelays: true });
  provider = new NwcLightningProvider({
    connectionString: stack.devnet.wallet("payer").connectionString,
    allowInsecureRelays: true,
  });
  const res = await putRoutes(stack, merchant, {
    routes: [
      {
        method: "*",
        path: "/v1/*",
        upstream: upstream.url,
        description: "Test API",
        protocols: ["x402", "x402-legacy", "mpp"],
        price: { type: "charge", sats: 21 },
      },
    ],
  });
  expect(res.status).toBe(200);
}, 90_000);

afterAll(async () => {
  payer?.close();
  provider?.close();
  await stack?.stop();
  await upstream?.stop();
});

/** An unpaid request's 402: its lnbtc and legacy accepts, and its MPP challenge. */
async function challengeFor(url: string) {
  const res = await fetch(url);
  expect(res.status).toBe(402);
  expect(res.headers.get("Cache-Control")).toBe("no-store");
  const required = decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "");
  const [challenge] = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]);
  const body = (await res.json()) as { invoice: string; paymentHash: string };
  return { required, challenge, body };
}

/** A PAYMENT-SIGNATURE for an accept with `payload`. */
function signature(accepted: PaymentRequirements, payload: Record<string, unknown>): string {
  return encodePaymentSignatureHeader({ x402Version: 2, accepted, payload } as PaymentPayload);
}

describe("gateway: charge", () => {
  it("behavior: paid over x402 lnbtc, the upstream answers once, gets the secret and never the proof; exactly the price moves", async () => {
    const merchantBefore = stack.devnet.wallet("merchant").balanceMsat();
    const payerBefore = stack.devnet.wallet("payer").balanceMsat();
    const callsBefore = upstream.total();
    const res = await lnbtcFetch(payer)(gw(stack, merchant, "/v1/items?x=1"));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ path: "/v1/items", query: "?x=1" });
    expect(res.headers.get("PAYMENT-RESPONSE")).toBeTruthy();
    expect(upstream.total() - callsBefore).toBe(1);
    expect(upstream.lastHeaders["ln402-gateway-secret"]).toMatch(/^ln402_gw_/);
    expect(upstream.lastHeaders["payment-signature"]).toBeUndefined();
    expect(stack.devnet.wallet("merchant").balanceMsat() - merchantBefore).toBe(PRICE_MSAT);
    expect(payerBefore - stack.devnet.wallet("payer").balanceMsat()).toBe(PRICE_MSAT);
  });

  it("behavior: paid over MPP with a Payment-Receipt naming the payment; exactly the price moves", async () => {
    const merchantBefore = stack.devnet.wallet("merchant").balanceMsat();
    const res = await mppFetch(provider)(gw(stack, merchant, "/v1/mpp"), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ q: "hello" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ method: "POST", body: '{"q":"hello"}' });
    const receipt = Receipt.parse(res.headers.get("Payment-Receipt") ?? "");
    expect(receipt).toMatchObject({ status: "success", method: "lightning" });
    expect(upstream.lastHeaders.authorization).toBeUndefined();
    expect(stack.devnet.wallet("merchant").balanceMsat() - merchantBefore).toBe(PRICE_MSAT);
  });

  it("error: one 402 names one invoice for every protocol; paid once through MPP, the x402 and legacy proofs of it are refused", async () => {
    const url = gw(stack, merchant, "/v1/one");
    const { required, challenge, body } = await challengeFor(url);
    const [lnbtc, legacy] = required.accepts;
    expect(lnbtc?.network).toMatch(/^lnbtc:/);
    expect(legacy?.network).toMatch(/^bip122:/);
    expect(lnbtc?.extra.invoice).toBe(body.invoice);
    expect(legacy?.extra.invoice).toBe(body.invoice);
    expect(challenge?.request).toMatchObject({ methodDetails: { invoice: body.invoice } });
    const { preimage } = await payer.payInvoice(body.invoice);
    const calls = upstream.total();
    const paid = await fetch(url, {
      headers: {
        Authorization: Credential.serialize({
          challenge: challenge as Challenge.Challenge,
          payload: { preimage },
        }),
      },
    });
    expect(paid.status).toBe(200);
    for (const [accepted, payload] of [
      [lnbtc, { preimage }],
      [legacy, { preimage }],
      [legacy, { invoice: body.invoice }],
    ] as const) {
      const again = await fetch(url, {
        headers: { "PAYMENT-SIGNATURE": signature(accepted as PaymentRequirements, payload) },
      });
      expect(again.status).toBe(402);
      expect(await again.json()).toMatchObject({ reason: "already_redeemed" });
    }
    expect(upstream.total() - calls).toBe(1);
  });

  it("error: 64 concurrent retries with one proof get one 200 and one upstream call", async () => {
    const url = gw(stack, merchant, "/v1/race");
    const { required, body } = await challengeFor(url);
    const { preimage } = await payer.payInvoice(body.invoice);
    const header = signature(required.accepts[0] as PaymentRequirements, { preimage });
    const calls = upstream.calls.get("/v1/race") ?? 0;
    const answers = await Promise.all(
      Array.from({ length: 64 }, () => fetch(url, { headers: { "PAYMENT-SIGNATURE": header } })),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 402)).toHaveLength(63);
    expect((upstream.calls.get("/v1/race") ?? 0) - calls).toBe(1);
  });

  it("error: after an upstream 500 the same request with the same proof is served once more; another request with it is refused", async () => {
    const url = gw(stack, merchant, "/v1/flaky?n=5");
    const { required, body } = await challengeFor(url);
    const { preimage } = await payer.payInvoice(body.invoice);
    const headers = {
      "PAYMENT-SIGNATURE": signature(required.accepts[0] as PaymentRequirements, { preimage }),
    };
    upstream.failNext = 1;
    const failed = await fetch(url, { headers });
    expect(failed.status).toBe(502);
    expect(await failed.json()).toMatchObject({ paymentReceived: true, retryable: true });
    const other = await fetch(gw(stack, merchant, "/v1/flaky?n=6"), { headers });
    expect(other.status).toBe(402);
    const retried = await fetch(url, { headers });
    expect(retried.status).toBe(200);
    const third = await fetch(url, { headers });
    expect(third.status).toBe(402);
    expect(await third.json()).toMatchObject({ reason: "already_redeemed" });
    expect(upstream.calls.get("/v1/flaky")).toBe(2);
  });

  it("error: Ln402-Paid is a proof only once the wallet received the payment, for that request, once", async () => {
    const url = gw(stack, merchant, "/v1/page");
    const page = await fetch(url, { headers: { Accept: "text/html" } });
    expect(page.status).toBe(402);
    expect(page.headers.get("Content-Type")).toContain("text/html");
    const html = await page.text();
    // The page carries its data in a JSON block: the invoice, and how to retry once paid.
    const data = JSON.parse(
      /<script type="application\/json" id="ln402-paywall">([^<]*)<\/script>/.exec(html)?.[1] ??
        "{}",
    ) as { invoice: string; paymentHash: string; retry: { headers: Record<string, string> } };
    const { invoice, paymentHash } = data;
    const paidHeader = { "Ln402-Paid": paymentHash, ...data.retry.headers };
    // The payment hash alone (it is in the QR code) is not enough: the page's token is needed.
    const withoutToken = await fetch(url, { headers: { "Ln402-Paid": paymentHash } });
    expect(withoutToken.status).toBe(402);
    expect(await withoutToken.json()).toMatchObject({ reason: "page_token_mismatch" });
    const early = await fetch(url, { headers: paidHeader });
    expect(early.status).toBe(402);
    expect(await early.json()).toMatchObject({ reason: "payment_not_received" });
    await payer.payInvoice(invoice);
    const elsewhere = await fetch(gw(stack, merchant, "/v1/page?other"), { headers: paidHeader });
    expect(elsewhere.status).toBe(402);
    expect(await elsewhere.json()).toMatchObject({ reason: "request_mismatch" });
    const served = await fetch(url, { headers: paidHeader });
    expect(served.status).toBe(200);
    const again = await fetch(url, { headers: paidHeader });
    expect(await again.json()).toMatchObject({ reason: "already_redeemed" });
  });

  it("error: the payee's own preimage of an unpaid invoice buys nothing", async () => {
    const url = gw(stack, merchant, "/v1/unpaid");
    const { challenge, body } = await challengeFor(url);
    // The merchant's wallet (and so a co-tenant on it) knows the preimage before anyone pays.
    const wallet = await NwcClient.connect(
      parseConnectionString(stack.devnet.wallet("merchant").connectionString, {
        allowInsecureRelays: true,
      }),
    );
    const { preimage } = await wallet.lookupInvoice({ paymentHash: body.paymentHash });
    wallet.close();
    expect(preimage).toMatch(/^[0-9a-f]{64}$/);
    const calls = upstream.total();
    const res = await fetch(url, {
      headers: {
        Authorization: Credential.serialize({
          challenge: challenge as Challenge.Challenge,
          payload: { preimage },
        }),
      },
    });
    expect(res.status).toBe(402);
    expect(await res.json()).toMatchObject({ reason: "payment_not_received" });
    expect(upstream.total()).toBe(calls);
  });

  it("behavior: a streamed (SSE) answer streams through, and stats count paid requests and revenue", async () => {
    const before = await stats(stack, merchant);
    const res = await lnbtcFetch(payer)(gw(stack, merchant, "/v1/sse"));
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/event-stream");
    expect(await res.text()).toBe('data: {"n":1}\n\ndata: {"n":2}\n\ndata: {"n":3}\n\n');
    const after = await stats(stack, merchant);
    expect((after.totals.paidRequests ?? 0) - (before.totals.paidRequests ?? 0)).toBe(1);
    expect((after.totals.revenueMsat ?? 0) - (before.totals.revenueMsat ?? 0)).toBe(PRICE_MSAT);
    expect(after.totals.upstreamFailures).toBeGreaterThanOrEqual(1);
  });
});
