import { secp256k1 } from "@noble/curves/secp256k1.js";
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from "@x402/core/http";
import {
  type FacilitatorClient,
  type SchemePaymentRequiredContext,
  x402ResourceServer,
} from "@x402/core/server";
import type { Network, PaymentRequirements, SupportedResponse } from "@x402/core/types";
import { paymentMiddleware } from "@x402/hono";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { encodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import {
  type InvoiceSource,
  InvoiceSourceError,
  type IssuedInvoice,
  ln402Invoices,
} from "../../src/x402/invoices.ts";
import { ExactLightningServerScheme, LightningRouteError } from "../../src/x402/server.ts";

/**
 * The resource-server half of x402 on Lightning: msat prices, payTo pinned to the merchant,
 * and the invoice a paid retry echoes reused only for exactly this offer when nothing failed.
 * No wallet: the scheme never decodes what it advertises, so a counting double mints.
 */

const REGTEST: Network = "bip122:0f9188f13cb7b2c71f2a335e3a4fc328";
const SIGNET: Network = "bip122:00000008819873e925422c1ff0f99f7c";
const MERCHANT_ID = "m_shop";
const KIND = { x402Version: 2, scheme: "exact", network: REGTEST };

/** Test double: issues placeholder invoices (never decoded here) and counts them. */
class CountingInvoiceSource implements InvoiceSource {
  readonly minted: IssuedInvoice[] = [];
  async createInvoice(request: { amountMsat: number }): Promise<IssuedInvoice> {
    const n = this.minted.length + 1;
    const issued = {
      invoice: `lnbcrt-test-${n}-${request.amountMsat}`,
      paymentHash: n.toString(16).padStart(64, "0"),
      expiresAt: 2_000_000_000,
    };
    this.minted.push(issued);
    return issued;
  }
}

function setup() {
  const invoices = new CountingInvoiceSource();
  const scheme = new ExactLightningServerScheme({ invoices, merchantId: MERCHANT_ID });
  return { invoices, scheme };
}

/** The requirements the SDK builds for a 21-sat route, before the invoice is added. */
async function baseAccept(scheme: ExactLightningServerScheme) {
  const base: PaymentRequirements = {
    scheme: "exact",
    network: REGTEST,
    asset: "BTC",
    amount: "21000",
    payTo: MERCHANT_ID,
    maxTimeoutSeconds: 300,
    extra: {},
  };
  return scheme.enhancePaymentRequirements(base, KIND, []);
}

function context(
  accepts: PaymentRequirements[],
  echoed?: PaymentRequirements,
  error?: string,
): SchemePaymentRequiredContext {
  const paymentHeader = echoed
    ? encodePaymentSignatureHeader({ x402Version: 2, accepted: echoed, payload: {} })
    : undefined;
  const resourceInfo = { url: "http://api.test/weather" };
  return {
    requirements: accepts,
    resourceInfo,
    paymentRequiredResponse: { x402Version: 2, resource: resourceInfo, accepts },
    transportContext: { request: { paymentHeader } },
    ...(error !== undefined ? { error } : {}),
  };
}

/** `accept` as a paying client echoes it, with the invoice it paid. */
const paidEcho = (accept: PaymentRequirements): PaymentRequirements => ({
  ...accept,
  extra: { ...accept.extra, invoice: "lnbcrt-paid", paymentHash: "ab".repeat(32) },
});

describe("ExactLightningServerScheme.parsePrice", () => {
  it("behavior: msat asset amounts, numbers of sats, and sat/msat strings become msat", async () => {
    const { scheme } = setup();
    const amount = async (price: Parameters<typeof scheme.parsePrice>[0]) =>
      (await scheme.parsePrice(price, REGTEST)).amount;
    expect(await amount({ asset: "BTC", amount: "21000" })).toBe("21000");
    expect(await amount(21)).toBe("21000");
    expect(await amount("21 sat")).toBe("21000");
    expect(await amount("21 sats")).toBe("21000");
    expect(await amount(" 1 SAT ")).toBe("1000");
    expect(await amount("21500 msat")).toBe("21500");
    const legacy = await scheme.parsePrice("21 sat", "lightning:regtest");
    expect(legacy).toEqual({ asset: "BTC", amount: "21000" });
  });

  it("error: dollar prices, bare numbers, other assets, non-positive or fractional amounts, other networks", async () => {
    const { scheme } = setup();
    const refusal = (price: Parameters<typeof scheme.parsePrice>[0], network = REGTEST) =>
      scheme.parsePrice(price, network).then(
        () => null,
        (e: unknown) => e as LightningRouteError,
      );
    expect((await refusal("$0.01"))?.message).toMatch(/Dollar prices are refused/);
    for (const price of ["0.01", "21", "21 usd", "0 sat", "1.5 sat", 0, -1, 1.5]) {
      expect(await refusal(price)).toBeInstanceOf(LightningRouteError);
    }
    expect((await refusal({ asset: "USDC", amount: "1" }))?.message).toMatch(/BTC/);
    expect((await refusal({ asset: "BTC", amount: "0" }))?.message).toMatch(/positive/);
    expect((await refusal("21 sat", "eip155:8453"))?.message).toMatch(/not a Lightning network/);
  });
});

describe("ExactLightningServerScheme.enhancePaymentRequirements", () => {
  it("behavior: adds the static Lightning extra and mints nothing", async () => {
    const { scheme, invoices } = setup();
    const { extra } = await baseAccept(scheme);
    expect(extra).toEqual({ paymentMethod: "lightning", merchantId: MERCHANT_ID });
    expect(invoices.minted).toHaveLength(0);
  });

  it("error: payTo other than the merchantId, and a route that pins an invoice", async () => {
    const { scheme } = setup();
    const base = { ...(await baseAccept(scheme)), extra: {} };
    const enhance = (r: PaymentRequirements) => scheme.enhancePaymentRequirements(r, KIND, []);
    await expect(enhance({ ...base, payTo: "m_other" })).rejects.toThrow(/payTo must be the/);
    await expect(enhance({ ...base, extra: { invoice: "x" } })).rejects.toThrow(/per request/);
  });
});

describe("ExactLightningServerScheme.enrichPaymentRequiredResponse", () => {
  it("behavior: an unpaid request gets a freshly minted invoice", async () => {
    const { scheme, invoices } = setup();
    const ctx = context([await baseAccept(scheme)]);
    const enriched = await scheme.enrichPaymentRequiredResponse(ctx);
    expect(invoices.minted).toHaveLength(1);
    expect(enriched?.[0]?.extra).toMatchObject({
      invoice: invoices.minted[0]?.invoice,
      paymentHash: invoices.minted[0]?.paymentHash,
    });
  });

  it("behavior: a retry echoing exactly this offer gets its own invoice back, without a mint", async () => {
    const { scheme, invoices } = setup();
    const accept = await baseAccept(scheme);
    const echoed = paidEcho(accept);
    const enriched = await scheme.enrichPaymentRequiredResponse(context([accept], echoed));
    expect(invoices.minted).toHaveLength(0);
    expect(enriched?.[0]).toEqual(echoed);
  });

  it("behavior: a second pass over an enriched offer changes nothing and mints nothing", async () => {
    const { scheme, invoices } = setup();
    const first = await scheme.enrichPaymentRequiredResponse(context([await baseAccept(scheme)]));
    expect(await scheme.enrichPaymentRequiredResponse(context(first ?? []))).toBeUndefined();
    expect(invoices.minted).toHaveLength(1);
  });

  it("error: an echo for another amount, merchant or payTo, a failed payment, or a garbled header mints anew", async () => {
    const { scheme, invoices } = setup();
    const accept = await baseAccept(scheme);
    const paid = paidEcho(accept);
    const cases: SchemePaymentRequiredContext[] = [
      context([accept], { ...paid, amount: "1000" }),
      context([accept], { ...paid, extra: { ...paid.extra, merchantId: "m_other" } }),
      context([accept], { ...paid, payTo: "m_other" }),
      context([accept], { ...paid, extra: { ...paid.extra, paymentHash: "not-hex" } }),
      context([accept], paid, "invalid_payment"),
      { ...context([accept]), transportContext: { request: { paymentHeader: "%%%" } } },
    ];
    for (const [i, ctx] of cases.entries()) {
      const enriched = await scheme.enrichPaymentRequiredResponse(ctx);
      expect(invoices.minted).toHaveLength(i + 1);
      expect(enriched?.[0]?.extra.invoice).toBe(invoices.minted[i]?.invoice);
    }
  });
});

/** Test double of a facilitator (not ln402) that finds every payment invalid. */
class RejectingFacilitator implements FacilitatorClient {
  async getSupported(): Promise<SupportedResponse> {
    const kinds = [REGTEST, SIGNET].map((network) => ({ ...KIND, network }));
    return { kinds, extensions: [], signers: {} };
  }
  async verify() {
    return { isValid: false, invalidReason: "invalid_preimage" };
  }
  async settle(_p: unknown, r: PaymentRequirements) {
    return { success: false, errorReason: "invalid_preimage", transaction: "", network: r.network };
  }
}

function paywalledApp() {
  const { scheme, invoices } = setup();
  const server = new x402ResourceServer(new RejectingFacilitator()).register("bip122:*", scheme);
  const option = { scheme: "exact", payTo: MERCHANT_ID, price: "21 sat" };
  const accepts = [REGTEST, SIGNET].map((network) => ({ ...option, network }));
  const app = new Hono();
  app.use(paymentMiddleware({ "GET /weather": { accepts } }, server));
  app.get("/weather", (c) => c.json({ forecast: "sunny" }));
  const get = async (accepted?: PaymentRequirements) => {
    const payload = { preimage: "00".repeat(32) };
    const signature =
      accepted && encodePaymentSignatureHeader({ x402Version: 2, accepted, payload });
    const headers = signature ? { "PAYMENT-SIGNATURE": signature } : undefined;
    const res = await app.request("http://api.test/weather", { headers });
    expect(res.status).toBe(402);
    return decodePaymentRequiredHeader(res.headers.get("PAYMENT-REQUIRED") ?? "");
  };
  return { invoices, get };
}

describe("ExactLightningServerScheme inside @x402/hono", () => {
  it("behavior: two Lightning networks on one route each get their own invoice (the SDK's additive-extra check passes)", async () => {
    const { invoices, get } = paywalledApp();
    const required = await get();
    expect(required.accepts.map((a) => [a.network, a.extra.invoice])).toEqual([
      [REGTEST, invoices.minted[0]?.invoice],
      [SIGNET, invoices.minted[1]?.invoice],
    ]);
  });

  it("behavior: a payment that fails verification gets a fresh invoice, one mint for that request", async () => {
    const { invoices, get } = paywalledApp();
    const first = await get();
    const echoed = first.accepts[0];
    const again = await get(echoed);
    expect(again.error).toBe("invalid_preimage");
    // Per accept at most one mint per request: signet's (not echoed) was minted first,
    // then regtest's fresh one once the failure was known.
    expect(invoices.minted).toHaveLength(4);
    expect(again.accepts.map((a) => a.extra.invoice)).toEqual([
      invoices.minted[3]?.invoice,
      invoices.minted[2]?.invoice,
    ]);
    expect(again.accepts[0]?.extra.invoice).not.toBe(echoed?.extra.invoice);
  });

  it("behavior: an echo that matches no offer is answered with invoices minted once for that request", async () => {
    const { invoices, get } = paywalledApp();
    const first = await get();
    const tampered = { ...(first.accepts[0] as PaymentRequirements), amount: "1000" };
    const again = await get(tampered);
    expect(again.error).toBe("No matching payment requirements");
    expect(invoices.minted).toHaveLength(4);
    expect(again.accepts.map((a) => a.extra.invoice)).toEqual([
      invoices.minted[2]?.invoice,
      invoices.minted[3]?.invoice,
    ]);
  });
});

describe("ln402Invoices", () => {
  const hash = "cd".repeat(32);
  const fields = { network: "regtest", timestamp: 1_700_000_000, description: "" } as const;
  const invoice = encodeInvoice(
    { ...fields, amountMsat: 21_000, paymentHash: hash, paymentSecret: "ef".repeat(32) },
    secp256k1.utils.randomSecretKey(),
  );
  const issued = { invoice, paymentHash: hash, amount: "21000", expiresAt: 1_700_000_600 };
  /** Test double of ln402's POST /invoice: records requests, answers with `status` and `body`. */
  const ln402 = (status: number, body: unknown) => {
    const requests: Array<{ url: string; body: unknown }> = [];
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      requests.push({ url: String(url), body: JSON.parse(String(init?.body)) });
      return Response.json(body, { status });
    };
    const source = ln402Invoices({ url: "https://ln402.test/", merchantId: "m_1", fetch });
    return { requests, source };
  };

  it("behavior: posts the merchant and the msat amount, and returns the invoice it checked", async () => {
    const { requests, source } = ln402(201, issued);
    const result = await source.createInvoice({ amountMsat: 21_000, expirySecs: 600 });
    expect(result).toEqual({ invoice, paymentHash: hash, expiresAt: 1_700_000_600 });
    const body = { merchantId: "m_1", amount: "21000", expirySecs: 600 };
    expect(requests).toEqual([{ url: "https://ln402.test/invoice", body }]);
  });

  it("error: ln402's problem is carried; an invoice for another amount is refused", async () => {
    const problem = { type: "urn:ln402:problem:not-found", detail: "No merchant." };
    const refused = await ln402(404, problem)
      .source.createInvoice({ amountMsat: 1 })
      .catch((e) => e);
    expect(refused).toBeInstanceOf(InvoiceSourceError);
    expect(refused).toMatchObject({ ...problem, upstreamStatus: 404 });
    const other = ln402(201, { ...issued, amount: "1000" }).source;
    await expect(other.createInvoice({ amountMsat: 1_000 })).rejects.toThrow(/another amount/);
  });
});
