import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { PaymentOption } from "@x402/core/http";
import type { FacilitatorClient, HTTPAdapter, HTTPRequestContext } from "@x402/core/server";
import { x402HTTPResourceServer, x402ResourceServer } from "@x402/core/server";
import type { PaymentPayload, PaymentRequirements } from "@x402/core/types";
import { type Context, Hono } from "hono";
import { NotFoundError, UnavailableError } from "../../protocol/Errors.ts";
import { isRecord } from "../../protocol/Schema.ts";
import { type LnbtcNetworkName, lnbtcNetworkId } from "../../protocol/x402/lnbtc/Networks.ts";
import { lightningNetwork, x402Network } from "../../protocol/x402/Networks.ts";
import type { Store } from "../../store/Store.ts";
import type { InvoiceSource } from "../../x402/invoices.ts";
import { ExactLnbtcServerScheme } from "../../x402/lnbtc.ts";
import { ExactLightningServerScheme } from "../../x402/server.ts";
import { getConfig } from "../config.ts";
import type { Bindings, Env } from "../env.ts";
import { settleRequest, supportedKinds, verifyRequest } from "../facilitator.ts";
import { isLnbtcBody, lnbtcAnswer, lnbtcNetworks } from "../lnbtcFacilitator.ts";
import { unwrap } from "../merchant/rpc.ts";
import { merchantStub } from "../merchantStub.ts";
import { createMerchant } from "../registry.ts";
import { hashApiKey, newApiKey, newMerchantId } from "../secrets.ts";

/**
 * `GET /demo/quote` (when `DEMO_NWC_SECRET` is set): a paid endpoint served through the
 * standard x402 flow — `@x402/core`'s resource server with ln402's Lightning scheme —
 * against this same facilitator, called in-process. The demo merchant is registered
 * on first use with the wallet in `DEMO_NWC_SECRET`.
 *
 * `@x402/hono` is not used here only because it bundles its bazaar extension (ajv and
 * more, ~0.5 MB) into every ln402 isolate; the adapter below is the few lines it needs.
 */
export const demoRoutes = new Hono<Env>();

const PRICE_MSAT = "21000";
const DEMO_KEY = "demo:merchant";
const QUOTES = [
  "The root problem with conventional currency is all the trust that's required to make it work.",
  "Lost coins only make everyone else's coins worth slightly more. Think of it as a donation to everyone.",
  "It might make sense just to get some in case it catches on.",
  "The nature of Bitcoin is such that once version 0.1 was released, the core design was set in stone for the rest of its lifetime.",
  "If you don't believe it or don't get it, I don't have the time to try to convince you, sorry.",
];

/** One resource server per isolate and demo merchant. */
const servers = new Map<string, Promise<x402HTTPResourceServer>>();

type DemoMerchant = { merchantId: string; network: string; nodePubkey: string; wallet: string };

/** A short fingerprint of the configured wallet string (which carries a 256-bit secret). */
function walletFingerprint(nwcUrl: string): string {
  return bytesToHex(sha256(new TextEncoder().encode(nwcUrl))).slice(0, 32);
}

function parseDemo(raw: string | null): DemoMerchant | null {
  if (raw === null) return null;
  const value: unknown = JSON.parse(raw);
  if (!isRecord(value) || typeof value.merchantId !== "string" || typeof value.network !== "string")
    return null;
  return {
    merchantId: value.merchantId,
    network: value.network,
    nodePubkey: typeof value.nodePubkey === "string" ? value.nodePubkey : "",
    // A record without a node key (written before lnbtc) is refreshed like a wallet change.
    wallet:
      typeof value.wallet === "string" && typeof value.nodePubkey === "string" ? value.wallet : "",
  };
}

/**
 * The demo merchant, registering it (once, across isolates) if needed. It follows the
 * configured wallet: when DEMO_NWC_SECRET changes, the same merchant moves to the new
 * wallet on the next request.
 */
async function demoMerchant(env: Bindings, store: Store, nwcUrl: string): Promise<DemoMerchant> {
  const wallet = walletFingerprint(nwcUrl);
  const raw = await store.get(DEMO_KEY);
  const known = parseDemo(raw);
  if (known !== null && known.wallet === wallet) return known;
  if (known !== null) {
    const moved = unwrap(
      await merchantStub(env, known.merchantId).setupWallet({
        merchantId: known.merchantId,
        nwcUrl,
      }),
    );
    const next: DemoMerchant = {
      ...known,
      network: x402Network(moved.network),
      nodePubkey: moved.nodePubkey ?? "",
      wallet,
    };
    await store.compareAndSwap(DEMO_KEY, raw, JSON.stringify(next));
    return next;
  }
  const merchantId = newMerchantId();
  const setup = unwrap(await merchantStub(env, merchantId).setupWallet({ merchantId, nwcUrl }));
  const now = Math.floor(Date.now() / 1000);
  await createMerchant(store, {
    merchantId,
    apiKeyHash: hashApiKey(newApiKey()), // settled in-process: nobody needs this key
    settings: { publicInvoices: false, exclusiveNodeKey: false },
    createdAt: now,
    updatedAt: now,
  });
  const record: DemoMerchant = {
    merchantId,
    network: x402Network(setup.network),
    nodePubkey: setup.nodePubkey ?? "",
    wallet,
  };
  if (await store.putIfAbsent(DEMO_KEY, JSON.stringify(record))) return record;
  await merchantStub(env, merchantId).forget(); // another isolate won the race
  return demoMerchant(env, store, nwcUrl);
}

/** This facilitator, without HTTP: the demo's resource server calls it directly. */
function inProcessFacilitator(env: Bindings, store: Store, merchantId: string): FacilitatorClient {
  const request = (paymentPayload: PaymentPayload, paymentRequirements: PaymentRequirements) => ({
    x402Version: paymentPayload.x402Version,
    paymentPayload: {
      x402Version: paymentPayload.x402Version,
      accepted: paymentPayload.accepted as unknown as Record<string, unknown>,
      payload: paymentPayload.payload,
      ...(paymentPayload.extensions ? { extensions: paymentPayload.extensions } : {}),
    },
    paymentRequirements,
  });
  return {
    // The demo's own resource server: it holds valid proofs until it settles them.
    verify: (payload, requirements) =>
      verifyRequest(env, store, request(payload, requirements), true),
    settle: async (payload, requirements) => {
      const body = request(payload, requirements);
      if (isLnbtcBody(body)) {
        const deps = { env, store, config: getConfig(env) };
        return lnbtcAnswer(deps, body, { consume: true, apiKey: null, asMerchant: merchantId });
      }
      const answer = await settleRequest(env, body);
      return { ...answer, network: requirements.network };
    },
    getSupported: async () => supportedKinds(getConfig(env)),
  } as FacilitatorClient;
}

function demoInvoices(env: Bindings, merchantId: string): InvoiceSource {
  return {
    async createInvoice(req) {
      const issued = unwrap(
        await merchantStub(env, merchantId).createInvoice({
          amountMsat: req.amountMsat,
          expirySecs: req.expirySecs ?? 600,
          ...(req.description !== undefined ? { description: req.description } : {}),
        }),
      );
      return {
        invoice: issued.invoice,
        paymentHash: issued.paymentHash,
        expiresAt: issued.expiresAt,
      };
    },
  };
}

/**
 * The demo's resource server: x402 `exact` on lnbtc first (the official scheme: an
 * invoice bound to the request, settled upfront), and the legacy bip122 entry for older
 * clients. lnbtc is offered only on networks it names (not signet) and where served.
 */
async function resourceServer(
  env: Bindings,
  store: Store,
  merchant: DemoMerchant,
  publicOrigin: string,
) {
  const scheme = new ExactLightningServerScheme({
    invoices: demoInvoices(env, merchant.merchantId),
    merchantId: merchant.merchantId,
    description: "ln402 demo: a Satoshi quote",
  });
  const network = merchant.network as `${string}:${string}`;
  const server = new x402ResourceServer(
    inProcessFacilitator(env, store, merchant.merchantId),
  ).register(network, scheme);
  const accepts: PaymentOption[] = [];
  const lnbtcName = lightningNetwork(merchant.network);
  const lnbtcId = lnbtcName === null ? null : lnbtcNetworkId(lnbtcName);
  const served = lnbtcNetworks(getConfig(env));
  if (
    lnbtcName !== null &&
    lnbtcId !== null &&
    merchant.nodePubkey !== "" &&
    served.includes(lnbtcName as LnbtcNetworkName)
  ) {
    const stub = merchantStub(env, merchant.merchantId);
    server.register(
      lnbtcId,
      new ExactLnbtcServerScheme({
        receiver: {
          async createInvoice({ amountMsat, descriptionHash, expirySeconds }) {
            const issued = unwrap(
              await stub.createInvoice({
                amountMsat: Number(amountMsat),
                descriptionHash,
                expirySecs: expirySeconds,
              }),
            );
            return issued.invoice;
          },
        },
        payTo: merchant.nodePubkey,
        merchantId: merchant.merchantId,
        networks: served,
        binding: { profile: "http:1", publicOrigin, headers: [] },
      }),
    );
    accepts.push({
      scheme: "exact",
      network: lnbtcId,
      price: { asset: "BTC", amount: PRICE_MSAT },
      payTo: merchant.nodePubkey,
      maxTimeoutSeconds: 600,
    });
  }
  accepts.push({
    scheme: "exact",
    network,
    price: { asset: "BTC", amount: PRICE_MSAT },
    payTo: merchant.merchantId,
  });
  const http = new x402HTTPResourceServer(server, {
    "GET /demo/quote": {
      accepts,
      description: "A Satoshi Nakamoto quote, for 21 sats over Lightning",
      mimeType: "application/json",
    },
  });
  await http.initialize();
  return http;
}

function adapter(c: Context<Env>): HTTPAdapter {
  return {
    getHeader: (name) => c.req.header(name),
    getMethod: () => c.req.method,
    getPath: () => c.req.path,
    getUrl: () => c.req.url,
    getAcceptHeader: () => c.req.header("Accept") ?? "",
    getUserAgent: () => c.req.header("User-Agent") ?? "",
  };
}

/**
 * The SDK's answer as a response: a browser's paywall is an HTML string sent as the page
 * itself (not JSON-encoded under a text/html type); anything else is JSON.
 */
function render(
  c: Context<Env>,
  response: { status: number; headers: Record<string, string>; body?: unknown; isHtml?: boolean },
): Response {
  const status = response.status as 402;
  if (response.isHtml === true && typeof response.body === "string") {
    return c.body(response.body, status, {
      ...response.headers,
      "Content-Type": "text/html; charset=utf-8",
    });
  }
  const { "Content-Type": _type, "content-type": _lower, ...headers } = response.headers;
  return c.json(response.body ?? {}, status, headers);
}

demoRoutes.get("/demo/quote", async (c) => {
  const nwcUrl = c.env.DEMO_NWC_SECRET;
  if (!nwcUrl)
    throw new NotFoundError(
      "The demo is not enabled on this deployment (DEMO_NWC_SECRET is not set).",
    );
  const merchant = await demoMerchant(c.env, c.var.store, nwcUrl);
  // Keyed by wallet (a resource server is bound to its wallet's network) and origin
  // (lnbtc binds the request's URL).
  const origin = new URL(c.req.url).origin;
  const key = `${merchant.merchantId}:${merchant.wallet}:${origin}`;
  let pending = servers.get(key);
  if (!pending) {
    pending = resourceServer(c.env, c.var.store, merchant, origin);
    servers.set(key, pending);
    pending.catch(() => servers.delete(key));
  }
  const http = await pending;
  const context: HTTPRequestContext = {
    adapter: adapter(c),
    path: c.req.path,
    method: c.req.method,
    ...(c.req.header("payment-signature")
      ? { paymentHeader: c.req.header("payment-signature") }
      : {}),
  };
  const result = await http.processHTTPRequest(context);
  if (result.type === "payment-error") return render(c, result.response);
  if (result.type === "no-payment-required")
    throw new UnavailableError(
      "demo",
      "Demo misconfigured",
      "The demo route should require payment.",
    );
  const quote = QUOTES[Math.floor(Math.random() * QUOTES.length)] ?? QUOTES[0];
  const body = JSON.stringify({
    quote,
    author: "Satoshi Nakamoto",
    paid: `${Number(PRICE_MSAT) / 1000} sats`,
  });
  const settled = await http.processSettlement(
    result.paymentPayload,
    result.paymentRequirements,
    result.declaredExtensions,
    { request: context },
    undefined,
    // lnbtc settles before the handler (upfront): its answer is echoed, not made again.
    result.beforeHandlerSettlement,
  );
  if (!settled.success) return render(c, settled.response);
  return c.body(body, 200, { "Content-Type": "application/json", ...settled.headers });
});
