import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import {
  decodePaymentRequiredHeader,
  decodePaymentResponseHeader,
  decodePaymentSignatureHeader,
} from "@x402/core/http";
import { type FacilitatorClient, x402ResourceServer } from "@x402/core/server";
import type {
  Network,
  PaymentPayload,
  PaymentRequirements,
  SettleResponse,
  SupportedResponse,
  VerifyResponse,
} from "@x402/core/types";
import { wrapFetchWithPayment } from "@x402/fetch";
import { paymentMiddleware } from "@x402/hono";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, type DevnetWallet, startDevnet } from "../../devnet/index.ts";
import { type NwcPayer, nwcPayer } from "../../src/client/wallet.ts";
import {
  createLightningX402Client,
  type ExactLightningClientOptions,
  ExactLightningClientScheme,
  X402LightningClientError,
  type X402LightningClientErrorCode,
} from "../../src/client/x402.ts";
import type { InvoiceSource, IssuedInvoice } from "../../src/x402/invoices.ts";
import { ExactLightningServerScheme } from "../../src/x402/server.ts";

/**
 * The paying side of x402 on Lightning, against the devnet: a real NWC wallet pays
 * real (signature-valid, regtest) invoices, so balances show what moved. Every refusal
 * is shown to happen before any money does.
 */

/** DESIGN §3; the devnet's network. */
const REGTEST: Network = "bip122:0f9188f13cb7b2c71f2a335e3a4fc328";
const MAINNET: Network = "bip122:000000000019d6689c085ae165831e93";
const MERCHANT_ID = "m_devnet_merchant";

let devnet: Devnet;
let merchant: DevnetWallet;
let payer: DevnetWallet;
let wallet: NwcPayer;

beforeAll(async () => {
  devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: 100_000 } },
  });
  merchant = devnet.wallet("merchant");
  payer = devnet.wallet("payer");
  wallet = nwcPayer(payer.connectionString, { allowInsecureRelays: true });
});

afterAll(async () => {
  wallet?.close();
  await devnet?.stop();
});

function scheme(options: Partial<ExactLightningClientOptions> = {}) {
  return new ExactLightningClientScheme({ wallet, maxAmountMsat: 100_000, ...options });
}

/** A requirement as an ln402 resource server sends it, for a fresh merchant invoice. */
function offer(amountMsat = 21_000, change: Partial<PaymentRequirements> = {}) {
  const tx = merchant.makeInvoice({ amountMsat, expirySecs: 600 });
  const requirements: PaymentRequirements = {
    scheme: "exact",
    network: REGTEST,
    asset: "BTC",
    amount: String(amountMsat),
    payTo: MERCHANT_ID,
    maxTimeoutSeconds: 300,
    extra: {
      paymentMethod: "lightning",
      invoice: tx.invoice,
      paymentHash: tx.payment_hash,
      merchantId: MERCHANT_ID,
    },
    ...change,
  };
  return { requirements, tx };
}

const hashOf = (preimage: string) => bytesToHex(sha256(hexToBytes(preimage)));

/** Asserts that `client` refuses `requirements` with `code` and never asks the wallet to pay. */
async function expectRefused(
  requirements: PaymentRequirements,
  code: X402LightningClientErrorCode,
  client = scheme(),
  context?: { maxAmountPerPayment: string },
): Promise<void> {
  const balance = payer.balanceMsat();
  const payCalls = payer.requestCounts().pay_invoice ?? 0;
  const err = await client.createPaymentPayload(2, requirements, context).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(X402LightningClientError);
  expect((err as X402LightningClientError).code).toBe(code);
  expect(payer.balanceMsat()).toBe(balance);
  expect(payer.requestCounts().pay_invoice ?? 0).toBe(payCalls);
}

describe("ExactLightningClientScheme against devnet wallets", () => {
  it("behavior: pays a valid offer; balances move by exactly the amount; the preimage proves it", async () => {
    const { requirements, tx } = offer(21_000);
    const [payerBefore, merchantBefore] = [payer.balanceMsat(), merchant.balanceMsat()];
    const result = await scheme().createPaymentPayload(2, requirements);
    expect(payerBefore - payer.balanceMsat()).toBe(21_000);
    expect(merchant.balanceMsat() - merchantBefore).toBe(21_000);
    expect(result.payload.paymentHash).toBe(tx.payment_hash);
    expect(hashOf(String(result.payload.preimage))).toBe(tx.payment_hash);
  });

  it("behavior: payloadForm 'invoice' sends the paid invoice instead of the preimage", async () => {
    const { requirements, tx } = offer(1_000);
    const result = await scheme({ payloadForm: "invoice" }).createPaymentPayload(2, requirements);
    expect(result.payload).toEqual({ invoice: tx.invoice });
  });

  it("behavior: the same invoice, offered twice or concurrently, is paid once", async () => {
    const client = scheme();
    const { requirements } = offer(2_000);
    const before = payer.balanceMsat();
    const [a, b] = await Promise.all([
      client.createPaymentPayload(2, requirements),
      client.createPaymentPayload(2, requirements),
    ]);
    const c = await client.createPaymentPayload(2, requirements);
    expect(before - payer.balanceMsat()).toBe(2_000);
    expect(b.payload).toEqual(a.payload);
    expect(c.payload).toEqual(a.payload);
    expect(client.spentMsat).toBe(2_000);
  });

  it("behavior: nwcPayer connects on the first payment and reuses that one connection", async () => {
    const own = nwcPayer(payer.connectionString, { allowInsecureRelays: true });
    const before = devnet.relay.connectionCount();
    await own.payInvoice(merchant.makeInvoice({ amountMsat: 1_000 }).invoice);
    await own.payInvoice(merchant.makeInvoice({ amountMsat: 1_000 }).invoice);
    expect(devnet.relay.connectionCount()).toBe(before + 1);
    own.close();
  });

  it("error: an invoice for another amount than the offer", async () => {
    await expectRefused(offer(21_000, { amount: "20000" }).requirements, "amount_mismatch");
  });

  it("error: a regtest invoice under the mainnet network id, or on a network not allowed", async () => {
    await expectRefused(offer(21_000, { network: MAINNET }).requirements, "network_mismatch");
    const mainnetOnly = scheme({ allowedNetworks: ["mainnet"] });
    await expectRefused(offer().requirements, "network_not_allowed", mainnetOnly);
  });

  it("error: an expired invoice (the client's clock is an hour ahead)", async () => {
    const late = scheme({ now: () => Date.now() + 3_600_000 });
    await expectRefused(offer().requirements, "invoice_expired", late);
  });

  it("error: an amount over maxAmountMsat, or over the SDK's per-payment cap", async () => {
    const { requirements } = offer(50_000);
    await expectRefused(requirements, "over_max", scheme({ maxAmountMsat: 49_999 }));
    await expectRefused(requirements, "over_max", scheme(), { maxAmountPerPayment: "40000" });
  });

  it("error: a second payment that would pass the budget; the first one is paid", async () => {
    const client = scheme({ budgetMsat: 30_000 });
    const before = payer.balanceMsat();
    await client.createPaymentPayload(2, offer(21_000).requirements);
    expect(before - payer.balanceMsat()).toBe(21_000);
    await expectRefused(offer(21_000).requirements, "over_budget", client);
    expect(client.spentMsat).toBe(21_000);
  });

  it("error: an undecodable invoice, another hash, a payee not allowed, a non-Lightning offer", async () => {
    const { requirements: r } = offer();
    const withExtra = (extra: Record<string, unknown>) => ({
      ...r,
      extra: { ...r.extra, ...extra },
    });
    await expectRefused(withExtra({ invoice: "lnbcrt1qqqq" }), "invalid_invoice");
    await expectRefused(withExtra({ paymentHash: "00".repeat(32) }), "hash_mismatch");
    await expectRefused(r, "payee_not_allowed", scheme({ allowedPayees: [payer.nodePubkey] }));
    await expectRefused(withExtra({ paymentMethod: "onchain" }), "not_lightning");
  });

  it("error: a wallet whose preimage does not hash to the payment hash", async () => {
    const liar = { payInvoice: async () => ({ preimage: "11".repeat(32) }) };
    const client = new ExactLightningClientScheme({ wallet: liar, maxAmountMsat: 100_000 });
    const err = await client.createPaymentPayload(2, offer().requirements).catch((e: unknown) => e);
    expect((err as X402LightningClientError).code).toBe("bad_preimage");
  });
});

/** Test double: mints with the devnet merchant wallet directly (no ln402 in between), and counts. */
class DevnetInvoiceSource implements InvoiceSource {
  readonly minted: IssuedInvoice[] = [];
  readonly #wallet: DevnetWallet;
  constructor(wallet: DevnetWallet) {
    this.#wallet = wallet;
  }
  async createInvoice(request: { amountMsat: number; description?: string; expirySecs?: number }) {
    const tx = this.#wallet.makeInvoice(request);
    const issued = { invoice: tx.invoice, paymentHash: tx.payment_hash, expiresAt: tx.expires_at };
    this.minted.push(issued);
    return issued;
  }
}

/**
 * Test double of a facilitator (not ln402): accepts a preimage whose sha256 is the
 * requirements' `extra.paymentHash`, for an invoice the test's invoice source minted,
 * and settles each payment hash once.
 */
class PreimageCheckingFacilitator implements FacilitatorClient {
  readonly settled = new Set<string>();
  readonly #source: DevnetInvoiceSource;
  constructor(source: DevnetInvoiceSource) {
    this.#source = source;
  }
  async getSupported(): Promise<SupportedResponse> {
    const kinds = [{ x402Version: 2, scheme: "exact", network: REGTEST }];
    return { kinds, extensions: [], signers: {} };
  }
  async verify(p: PaymentPayload, r: PaymentRequirements): Promise<VerifyResponse> {
    const reason = this.#reject(p, r);
    return reason ? { isValid: false, invalidReason: reason } : { isValid: true };
  }
  async settle(p: PaymentPayload, r: PaymentRequirements): Promise<SettleResponse> {
    const hash = String(r.extra.paymentHash);
    const reason = this.#reject(p, r) ?? (this.settled.has(hash) ? "already_settled" : null);
    if (reason) return { success: false, errorReason: reason, transaction: "", network: r.network };
    this.settled.add(hash);
    return { success: true, transaction: hash, network: r.network };
  }
  #reject(p: PaymentPayload, r: PaymentRequirements): string | null {
    if (!this.#source.minted.some((i) => i.paymentHash === r.extra.paymentHash))
      return "unknown_invoice";
    const preimage = p.payload.preimage;
    if (typeof preimage !== "string" || hashOf(preimage) !== r.extra.paymentHash)
      return "bad_preimage";
    return null;
  }
}

describe("x402 over HTTP: @x402/hono resource server, @x402/fetch client, devnet wallets", () => {
  it("behavior: an unpaid request gets a 402 with one invoice; the paid retry reuses it, matches and gets 200", async () => {
    const source = new DevnetInvoiceSource(merchant);
    const facilitator = new PreimageCheckingFacilitator(source);
    const lightning = new ExactLightningServerScheme({ invoices: source, merchantId: MERCHANT_ID });
    const resourceServer = new x402ResourceServer(facilitator).register(REGTEST, lightning);
    const app = new Hono();
    const accepts = { scheme: "exact", network: REGTEST, payTo: MERCHANT_ID, price: "21 sat" };
    app.use(
      paymentMiddleware({ "GET /weather": { accepts, description: "Weather" } }, resourceServer),
    );
    app.get("/weather", (c) => c.json({ forecast: "sunny" }));

    const seen: Array<{ signature: string | null; status: number; required: string | null }> = [];
    const appFetch = async (input: string | URL | Request, init?: RequestInit) => {
      const request = new Request(input, init);
      const res = await app.request(request);
      const signature = request.headers.get("PAYMENT-SIGNATURE");
      seen.push({ signature, status: res.status, required: res.headers.get("PAYMENT-REQUIRED") });
      return res;
    };
    const client = createLightningX402Client({ wallet, maxAmountMsat: 50_000 });
    const [payerBefore, merchantBefore] = [payer.balanceMsat(), merchant.balanceMsat()];

    const res = await wrapFetchWithPayment(appFetch, client)("http://api.test/weather");

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ forecast: "sunny" });
    expect(source.minted).toHaveLength(1); // minted for the 402; the retry reused it
    const minted = source.minted[0];
    const settle = decodePaymentResponseHeader(res.headers.get("PAYMENT-RESPONSE") ?? "");
    expect(settle).toMatchObject({ success: true, transaction: minted?.paymentHash });
    expect(facilitator.settled.has(minted?.paymentHash ?? "")).toBe(true);
    expect(payerBefore - payer.balanceMsat()).toBe(21_000);
    expect(merchant.balanceMsat() - merchantBefore).toBe(21_000);

    expect(seen.map((s) => s.status)).toEqual([402, 200]);
    const required = decodePaymentRequiredHeader(seen[0]?.required ?? "");
    expect(required.accepts[0]).toMatchObject({
      amount: "21000",
      asset: "BTC",
      payTo: MERCHANT_ID,
      extra: { paymentMethod: "lightning", merchantId: MERCHANT_ID, invoice: minted?.invoice },
    });
    const paid = decodePaymentSignatureHeader(seen[1]?.signature ?? "");
    expect(paid.accepted).toEqual(required.accepts[0]);
    expect(hashOf(String(paid.payload.preimage))).toBe(minted?.paymentHash);
  });
});
