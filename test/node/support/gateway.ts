import { wrapFetchWithPayment } from "@x402/fetch";
import type { Stack } from "../../../devnet/stack.ts";
import { ExactLnbtcClientScheme } from "../../../src/client/lnbtc.ts";
import { lnbtcPayer, wrapFetchWithLnbtc } from "../../../src/client/lnbtcFetch.ts";
import type { NwcPayer } from "../../../src/client/wallet.ts";
import { lightningChargeClient } from "../../../src/mpp/chargeClient.ts";
import { createPaymentFetch } from "../../../src/mpp/fetch.ts";
import type { NwcLightningProvider } from "../../../src/providers/nwc.ts";

/** Helpers of the gateway suites: route management and ln402's paying clients. */

/** A merchant's id and API key. */
export type Merchant = { merchantId: string; apiKey: string };

/** `PUT /merchants/:id/routes`. */
export function putRoutes(stack: Stack, merchant: Merchant, body: unknown): Promise<Response> {
  return fetch(`${stack.ln402.url}/merchants/${merchant.merchantId}/routes`, {
    method: "PUT",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${merchant.apiKey}` },
    body: JSON.stringify(body),
  });
}

/** `GET /merchants/:id/stats`, the totals and the routes. */
export async function stats(stack: Stack, merchant: Merchant) {
  const res = await fetch(`${stack.ln402.url}/merchants/${merchant.merchantId}/stats`, {
    headers: { Authorization: `Bearer ${merchant.apiKey}` },
  });
  return (await res.json()) as {
    totals: Record<string, number>;
    routes: Array<Record<string, number | string>>;
  };
}

/** A fetch paying x402 lnbtc 402s from the payer's wallet (ln402/client). */
export function lnbtcFetch(payer: NwcPayer): typeof fetch {
  const scheme = new ExactLnbtcClientScheme({
    payer: lnbtcPayer(payer),
    maxAmountMsat: 100_000,
    networks: ["regtest"],
  });
  return wrapFetchWithLnbtc(fetch, scheme, { maxAmountMsat: 100_000, wrapFetchWithPayment });
}

/** A fetch paying MPP lightning charges from the payer's wallet (ln402/client). */
export function mppFetch(payer: NwcLightningProvider) {
  return createPaymentFetch({
    methods: [lightningChargeClient(payer, { network: "regtest", maxAmountSats: 100 })],
  });
}

/** The gateway URL of a path of a merchant. */
export function gw(stack: Stack, merchant: Merchant, path: string): string {
  return `${stack.ln402.url}/gw/${merchant.merchantId}${path}`;
}
