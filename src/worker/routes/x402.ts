import { type Context, Hono } from "hono";
import { UnauthorizedError } from "../../protocol/Errors.ts";
import { X402_NETWORKS } from "../../protocol/x402/Networks.ts";
import { REASONS } from "../../protocol/x402/Reasons.ts";
import { VERSION } from "../../version.ts";
import type { Env } from "../env.ts";
import {
  parseFacilitatorRequest,
  settleRequest,
  supportedKinds,
  verifyRequest,
} from "../facilitator.ts";
import { isLnbtcBody, lnbtcAnswer } from "../lnbtcFacilitator.ts";
import { authenticate } from "../registry.ts";
import { bearerToken, readJsonObject } from "../request.ts";

/**
 * The x402 v2 facilitator API for Lightning (`exact` scheme, bip122 networks), usable
 * as the facilitator of the standard x402 resource-server middleware. A rejected
 * payment is a 200 with `isValid`/`success` false and a reason from REASONS; only a
 * body that is not x402 at all is a 400.
 */
export const x402Routes = new Hono<Env>();

const lnbtcDeps = (c: Context<Env>) => ({ env: c.env, store: c.var.store, config: c.var.config });

const NETWORK_IDS = Object.values(X402_NETWORKS);

x402Routes.get("/supported", (c) => c.json(supportedKinds(c.var.config)));

x402Routes.post("/verify", async (c) => {
  const body = await readJsonObject(c);
  // lnbtc (upfront flow) never needs /verify; it answers for tooling and consumes nothing.
  if (isLnbtcBody(body))
    return c.json(await lnbtcAnswer(lnbtcDeps(c), body, { consume: false, apiKey: null }));
  const request = parseFacilitatorRequest(body);
  // The merchant's own resource server (its API key) leases a valid proof until it
  // settles, so concurrent copies of one proof run the protected handler once. Anyone
  // else may verify, but takes no lease: a bystander cannot hold a payer's proof hostage.
  const merchantId = request.paymentRequirements.extra?.merchantId;
  const token = bearerToken(c);
  const reserve =
    typeof merchantId === "string" &&
    token !== null &&
    (await authenticate(c.var.store, merchantId, token)) !== null;
  return c.json(await verifyRequest(c.env, c.var.store, request, reserve));
});

x402Routes.post("/settle", async (c) => {
  const body = await readJsonObject(c);
  if (isLnbtcBody(body))
    return c.json(await lnbtcAnswer(lnbtcDeps(c), body, { consume: true, apiKey: bearerToken(c) }));
  const request = parseFacilitatorRequest(body);
  const merchantId = request.paymentRequirements.extra?.merchantId;
  // Only the merchant may burn its proofs: a bystander holding a paid proof cannot settle it.
  const merchant =
    typeof merchantId === "string"
      ? await authenticate(c.var.store, merchantId, bearerToken(c))
      : null;
  if (!merchant) {
    throw new UnauthorizedError(
      "Settling needs the API key of the merchant named in paymentRequirements.extra.merchantId, as `Authorization: Bearer <apiKey>`.",
    );
  }
  return c.json(await settleRequest(c.env, request));
});

x402Routes.get("/.well-known/x402", (c) => {
  const origin = new URL(c.req.url).origin;
  return c.json({
    name: "ln402",
    version: VERSION,
    description:
      "x402 v2 facilitator for Lightning: merchants connect their own wallet with Nostr Wallet Connect; ln402 never holds funds.",
    x402Version: 2,
    endpoints: {
      verify: `${origin}/verify`,
      settle: `${origin}/settle`,
      supported: `${origin}/supported`,
      invoice: `${origin}/invoice`,
      invoiceStatus: `${origin}/invoice/status/{paymentHash}`,
      register: `${origin}/register`,
    },
    scheme: "exact",
    networks: NETWORK_IDS,
    networkAliases: Object.fromEntries(
      Object.entries(X402_NETWORKS).map(([name, id]) => [`lightning:${name}`, id]),
    ),
    asset: "BTC",
    amountUnit: "msat",
    requirementsExtra: {
      paymentMethod: "lightning",
      merchantId: "the ln402 merchant the payment is for (required)",
      invoice: "BOLT11 invoice issued by POST /invoice",
      paymentHash: "its payment hash (hex)",
    },
    payloadForms: [
      { preimage: "64 hex: proof of payment, checked by sha256, no network call" },
      {
        invoice:
          "the paid BOLT11: paid only once the merchant's wallet says it received the payment",
      },
    ],
    verifyAuth:
      "Optional Authorization: Bearer <merchant API key>: a valid proof is then held for this caller for 30 s, so concurrent copies are refused",
    settleAuth: "Authorization: Bearer <merchant API key>",
    extensions: supportedKinds(c.var.config).extensions,
    reasons: REASONS,
    registration: {
      how: 'POST /register with { "nwcUrl": "nostr+walletconnect://…" } → { merchantId, apiKey } (the key is shown once).',
    },
  });
});
