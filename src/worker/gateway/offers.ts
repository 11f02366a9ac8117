import { lnbtcNetworkId } from "../../protocol/x402/lnbtc/Networks.ts";
import { x402Network } from "../../protocol/x402/Networks.ts";
import type { GatewayOffer } from "./types.ts";

/**
 * The x402 `accepts` entries of a gateway 402, built from its one invoice. The same
 * builder makes the requirements a paid retry is judged against (with the retry's
 * invoice as the one dynamic field), so offer and check cannot drift apart.
 */

/** Lifetime of a gateway invoice; also the lnbtc `maxTimeoutSeconds` (they must be equal). */
export const GATEWAY_INVOICE_EXPIRY_SECS = 600;

/** The lnbtc binding parameters the gateway uses: `http:1`, no bound headers. */
export const GATEWAY_BINDING = { profile: "http:1", params: { headers: [] as string[] } } as const;

/** What an lnbtc accept is built from. */
export type LnbtcOfferFacts = Pick<
  GatewayOffer,
  "network" | "nodePubkey" | "merchantId" | "amountMsat"
> & {
  requestHash: string;
  invoice: string;
};

/** The lnbtc (`x402`) accept (scheme_exact_lnbtc §PaymentRequirements), upfront flow. */
export function lnbtcAccept(facts: LnbtcOfferFacts): Record<string, unknown> {
  return {
    scheme: "exact",
    network: lnbtcNetworkId(facts.network),
    amount: String(facts.amountMsat),
    asset: "BTC",
    payTo: facts.nodePubkey,
    maxTimeoutSeconds: GATEWAY_INVOICE_EXPIRY_SECS,
    extra: {
      assetTransferMethod: "bolt11",
      paymentFlow: "upfront",
      requestHash: facts.requestHash,
      requestBindingProfile: GATEWAY_BINDING.profile,
      requestBindingParams: GATEWAY_BINDING.params,
      invoice: facts.invoice,
      merchantId: facts.merchantId,
    },
  };
}

/**
 * The legacy (`x402-legacy`, bip122) accept. It carries the very same invoice as the
 * lnbtc accept and the MPP challenge: the invoice's description hash is the request
 * hash, which legacy clients ignore, and the gateway checks it for every protocol. So
 * one payment, whichever protocol presents it, redeems the one invoice once.
 */
export function legacyAccept(offer: GatewayOffer): Record<string, unknown> {
  return {
    scheme: "exact",
    network: x402Network(offer.network),
    amount: String(offer.amountMsat),
    asset: "BTC",
    payTo: offer.merchantId,
    maxTimeoutSeconds: offer.expirySecs,
    extra: {
      paymentMethod: "lightning",
      invoice: offer.invoice,
      paymentHash: offer.paymentHash,
      merchantId: offer.merchantId,
    },
  };
}
