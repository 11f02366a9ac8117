import { x402Client } from "@x402/core/client";
import { refuse } from "../protocol/x402/lnbtc/Binding.ts";
import { httpBinding, httpBindingRequestOf } from "../protocol/x402/lnbtc/HttpBinding.ts";
import type { ClientRequestBinding, ExactLnbtcClientScheme, LnbtcPayer } from "./lnbtc.ts";
import type { LightningPayer } from "./wallet.ts";

/**
 * Wiring of the lnbtc client scheme into `@x402/core`'s client and a paying fetch. The
 * fetch wrapper of `@x402/fetch` is passed in, so `ln402/client` does not depend on it.
 */

/**
 * An `x402Client` that pays lnbtc offers for one intended request. For `http:1` it also
 * refuses a challenge whose `resource.url` is not the request's URL (§HTTP Profile).
 */
export function lnbtcX402Client(
  scheme: ExactLnbtcClientScheme,
  binding: ClientRequestBinding,
  options: { maxAmountMsat: number; url?: string },
): x402Client {
  const cap = String(options.maxAmountMsat);
  return new x402Client()
    .register("lnbtc:*", scheme.forRequest(binding))
    .setSpendControls({
      allowedAssets: [{ network: "lnbtc:*", asset: "BTC", maxAmountPerPayment: cap }],
    })
    .onBeforePaymentCreation(async ({ paymentRequired, selectedRequirements }) => {
      const profile = selectedRequirements.extra?.requestBindingProfile;
      if (
        options.url !== undefined &&
        profile === "http:1" &&
        paymentRequired.resource?.url !== options.url
      ) {
        return {
          abort: true,
          reason: "[invalid_exact_lnbtc_request_mismatch] resource.url is not this request's URL.",
        };
      }
      return undefined;
    });
}

/**
 * A fetch that pays lnbtc 402s with `scheme`: each call binds the offer to its own
 * request (method, URL, body bytes, the offered header names), so a challenge for
 * another request, method or body is refused before paying.
 */
export function wrapFetchWithLnbtc(
  fetchImpl: typeof fetch,
  scheme: ExactLnbtcClientScheme,
  options: {
    maxAmountMsat: number;
    /** `wrapFetchWithPayment` of `@x402/fetch`. */
    wrapFetchWithPayment: (fetchImpl: typeof fetch, client: x402Client) => typeof fetch;
  },
): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    const binding = await bindRequest(request);
    const client = lnbtcX402Client(scheme, binding, {
      maxAmountMsat: options.maxAmountMsat,
      url: request.url,
    });
    return options.wrapFetchWithPayment(fetchImpl, client)(request);
  };
}

/**
 * How an offer for `request` is bound (`http:1`): the method, URL and body bytes of this
 * request, read once (the request itself is left unread), and the header names offered.
 */
export async function bindRequest(request: Request): Promise<ClientRequestBinding> {
  const bound = await httpBindingRequestOf(request);
  return (offered) =>
    offered.profile === "http:1"
      ? httpBinding(offered.params, bound)
      : refuse("An HTTP request is bound with http:1, not mcp:1.");
}

/** An `LnbtcPayer` over ln402's `LightningPayer` (e.g. `nwcPayer`): a returned preimage is `paid`. */
export function lnbtcPayer(wallet: LightningPayer): LnbtcPayer {
  return {
    async payInvoice(invoice) {
      const { preimage } = await wallet.payInvoice(invoice);
      return { status: "paid", preimage, invoice };
    },
  };
}
