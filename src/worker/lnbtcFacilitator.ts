import { UnauthorizedError } from "../protocol/Errors.ts";
import { isRecord } from "../protocol/Schema.ts";
import {
  LNBTC_NETWORKS,
  type LnbtcNetworkName,
  SPEC_NETWORKS,
} from "../protocol/x402/lnbtc/Networks.ts";
import {
  type LnbtcSettleResponse,
  settleResponse,
  verifyResponse,
} from "../protocol/x402/lnbtc/Responses.ts";
import { checkSettlement, type SettleVerdict } from "../protocol/x402/lnbtc/Settle.ts";
import type { Store } from "../store/Store.ts";
import type { Config } from "./config.ts";
import type { Bindings } from "./env.ts";
import { unlessGone } from "./merchant/rpc.ts";
import { merchantStub } from "./merchantStub.ts";
import { authenticate, getMerchant, merchantForInvoice } from "./registry.ts";

/**
 * The facilitator for x402 `exact` on lnbtc (scheme_exact_lnbtc): the spec's stateless
 * checks in its order (pure, `checkSettlement`), then the merchant's Durable Object —
 * named by the payment-hash index, which only the issuing merchant can have claimed —
 * for Receiver Key Isolation and the durable, atomic replay insert.
 */

/** Whether an x402 body is for the lnbtc namespace (the requirements' network says so). */
export function isLnbtcBody(body: Record<string, unknown>): boolean {
  const req = body.paymentRequirements;
  return isRecord(req) && typeof req.network === "string" && req.network.startsWith("lnbtc:");
}

/** The lnbtc networks served: mainnet and testnet; regtest only where the devnet runs. */
export function lnbtcNetworks(config: Config): readonly LnbtcNetworkName[] {
  return config.allowInsecureRelays ? [...SPEC_NETWORKS, "regtest"] : SPEC_NETWORKS;
}

/** `/supported` kinds for lnbtc. */
export function lnbtcKinds(config: Config) {
  return lnbtcNetworks(config).map((name) => ({
    x402Version: 2,
    scheme: "exact",
    network: LNBTC_NETWORKS[name],
  }));
}

type Deps = { env: Bindings; store: Store; config: Config };

/**
 * `/settle` (consume) or `/verify` (answer only) for an lnbtc body. Settling needs the
 * API key of the merchant that issued the invoice (or, in process, that merchant's id:
 * `asMerchant`); a proof that fails the stateless checks is refused without naming anyone.
 */
export async function lnbtcAnswer(
  deps: Deps,
  body: Record<string, unknown>,
  options: { consume: boolean; apiKey: string | null; asMerchant?: string },
): Promise<LnbtcSettleResponse | ReturnType<typeof verifyResponse>> {
  const requirements = body.paymentRequirements;
  const pp = isRecord(body.paymentPayload) ? body.paymentPayload : {};
  const network = isRecord(requirements) ? String(requirements.network) : "";
  const render = (verdict: SettleVerdict) =>
    options.consume ? settleResponse(verdict, network) : verifyResponse(verdict);

  const verdict = checkSettlement(
    { accepted: pp.accepted, payload: pp.payload, requirements },
    { now: Math.floor(Date.now() / 1000), networks: lnbtcNetworks(deps.config) },
  );
  if (!verdict.ok) return render(verdict);
  const merchantId = await merchantForInvoice(deps.store, verdict.paymentHash);
  const trusted = options.asMerchant !== undefined;
  const merchant =
    merchantId === null || (trusted && merchantId !== options.asMerchant)
      ? null
      : options.consume && !trusted
        ? await authenticate(deps.store, merchantId, options.apiKey)
        : await getMerchant(deps.store, merchantId);
  if (options.consume && !trusted && options.apiKey === null) {
    throw new UnauthorizedError(
      "Settling needs the API key of the merchant that issued the invoice, as `Authorization: Bearer <apiKey>`.",
    );
  }
  // An invoice another merchant issued (a co-tenant on a shared node key, say) redeems
  // nothing for this caller: to it, the invoice is unknown.
  if (merchant === null) return render({ ok: false, errorReason: "unknown_invoice", step: 8 });
  const result = await merchantStub(deps.env, merchant.merchantId).settleLnbtc(verdict, {
    exclusiveNodeKey: merchant.settings.exclusiveNodeKey,
    consume: options.consume,
  });
  // A merchant deleted meanwhile has issued nothing.
  return render(unlessGone(result) ?? { ok: false, errorReason: "unknown_invoice", step: 8 });
}
