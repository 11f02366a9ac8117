import type { PaymentRequirements } from "@x402/core/types";
import { describe, expect, it } from "vitest";
import {
  type ClientRequestBinding,
  ExactLnbtcClientScheme,
  type LnbtcPayResult,
} from "../../src/client/lnbtc.ts";
import { refuse } from "../../src/protocol/x402/lnbtc/Binding.ts";
import { httpBinding } from "../../src/protocol/x402/lnbtc/HttpBinding.ts";
import {
  HASH,
  INVOICE,
  MAINNET,
  NOW,
  PAY_TO,
  PAYMENT_HASH,
  PREIMAGE,
} from "../../src/protocol/x402/lnbtc/vectors.ts";

/**
 * scheme_exact_lnbtc §Client Payment Construction against the shared vectors' `client`
 * cases: every refusal happens before the payer is called, and every payer result that
 * cannot stand in for a proven payment is refused with the spec's local reason.
 */

const offer = (extra: Record<string, unknown> = {}): PaymentRequirements => ({
  scheme: "exact",
  network: MAINNET,
  amount: "25000",
  asset: "BTC",
  payTo: PAY_TO,
  maxTimeoutSeconds: 300,
  extra: {
    assetTransferMethod: "bolt11",
    paymentFlow: "upfront",
    requestHash: HASH.httpA,
    requestBindingProfile: "http:1",
    requestBindingParams: { headers: [] },
    invoice: INVOICE.a,
    ...extra,
  },
});

const articleA: ClientRequestBinding = (offered) =>
  offered.profile === "http:1"
    ? httpBinding(offered.params, {
        method: "GET",
        url: "https://api.example.com/article/A",
        body: new Uint8Array(),
        header: () => undefined,
      })
    : refuse("HTTP request");

function scheme(results: LnbtcPayResult[], now = NOW) {
  const calls: string[] = [];
  const s = new ExactLnbtcClientScheme({
    payer: {
      async payInvoice() {
        calls.push("pay");
        return results.shift() ?? { status: "unpaid" };
      },
      async lookupPayment() {
        calls.push("lookup");
        return results.shift() ?? { status: "unpaid" };
      },
    },
    maxAmountMsat: 100_000,
    budgetMsat: 60_000,
    now: () => now * 1000,
  });
  return { s, calls };
}

const paid: LnbtcPayResult = {
  status: "paid",
  invoice: INVOICE.a,
  paymentHash: PAYMENT_HASH.a,
  amountMsat: 25_000,
  preimage: PREIMAGE.a,
};

describe("lnbtc client scheme", () => {
  it("vector: pays-spec-example pays once and returns only the preimage", async () => {
    const { s, calls } = scheme([paid]);
    const result = await s.createPaymentPayload(2, offer(), articleA);
    expect(result).toEqual({ x402Version: 2, payload: { preimage: PREIMAGE.a } });
    await s.createPaymentPayload(2, offer(), articleA);
    expect([calls, s.spentMsat]).toEqual([["pay"], 25_000]);
  });

  const refusals: Array<[string, PaymentRequirements, string, number?]> = [
    [
      "request-hash-differs",
      offer({ requestHash: "0".repeat(64) }),
      "invalid_exact_lnbtc_request_mismatch",
    ],
    [
      "mcp-profile-for-http-request",
      offer({
        requestHash: HASH.mcpA,
        requestBindingProfile: "mcp:1",
        requestBindingParams: { server: "https://api.example.com/mcp", metadata: [] },
      }),
      "invalid_exact_lnbtc_request_mismatch",
    ],
    ["invoice-expired", offer({ invoice: INVOICE.expired }), "invalid_exact_lnbtc_invoice_expired"],
    [
      "invoice-created-in-future",
      offer({ invoice: INVOICE.createdInFuture }),
      "invalid_exact_lnbtc_invoice_created_in_future",
    ],
    [
      "invoice-at-end (open question: ln402 refuses)",
      offer(),
      "invalid_exact_lnbtc_invoice_expired",
      NOW + 300,
    ],
    ["deferred flow", offer({ paymentFlow: "deferred" }), "invalid_exact_lnbtc_payment_flow"],
    [
      "inline description",
      offer({ invoice: INVOICE.inlineDescription }),
      "invalid_exact_lnbtc_invoice_description",
    ],
    [
      "other signer",
      offer({ invoice: INVOICE.otherSigner }),
      "invalid_exact_lnbtc_invoice_payee_mismatch",
    ],
    [
      "tb invoice on mainnet",
      offer({ invoice: INVOICE.testnet }),
      "invalid_exact_lnbtc_invoice_currency_mismatch",
    ],
    [
      "expiry differs",
      offer({ invoice: INVOICE.expiryOneSecond }),
      "invalid_exact_lnbtc_invoice_expiry_mismatch",
    ],
    ["no invoice", offer({ invoice: "" }), "invalid_exact_lnbtc_invoice_missing"],
  ];
  for (const [id, requirements, reason, now] of refusals) {
    it(`error: ${id} is ${reason}, and the payer is never called`, async () => {
      const { s, calls } = scheme([paid], now);
      await expect(s.createPaymentPayload(2, requirements, articleA)).rejects.toMatchObject({
        reason,
      });
      expect([calls, s.spentMsat]).toEqual([[], 0]);
    });
  }

  const payerFaults: Array<[string, LnbtcPayResult, string]> = [
    [
      "payer-other-invoice",
      { ...paid, invoice: "other" },
      "invalid_exact_lnbtc_payer_invoice_mismatch",
    ],
    [
      "payer-other-payment-hash",
      { ...paid, paymentHash: "0".repeat(64) },
      "invalid_exact_lnbtc_payer_payment_hash_mismatch",
    ],
    [
      "payer-other-amount",
      { ...paid, amountMsat: 25_001 },
      "invalid_exact_lnbtc_payer_amount_mismatch",
    ],
    [
      "payer-preimage-null",
      { ...paid, preimage: null },
      "invalid_exact_lnbtc_payer_preimage_required",
    ],
    [
      "payer-preimage-uppercase",
      { ...paid, preimage: "F".repeat(64) },
      "invalid_exact_lnbtc_payer_preimage_malformed",
    ],
    [
      "payer-preimage-wrong",
      { ...paid, preimage: "0".repeat(64) },
      "invalid_exact_lnbtc_payer_preimage_hash_mismatch",
    ],
    ["payer-unpaid", { status: "unpaid" }, "exact_lnbtc_payment_not_paid"],
  ];
  for (const [id, result, reason] of payerFaults) {
    it(`vector: ${id} is ${reason}, and no payload is made`, async () => {
      const { s, calls } = scheme([result]);
      await expect(s.createPaymentPayload(2, offer(), articleA)).rejects.toMatchObject({ reason });
      expect(calls).toEqual(["pay"]);
    });
  }

  it("behavior: payer-in-flight is reported distinctly; the retry looks the payment up and never pays twice", async () => {
    const { s, calls } = scheme([{ status: "in_flight" }, { status: "in_flight" }, paid]);
    const first = s.createPaymentPayload(2, offer(), articleA);
    await expect(first).rejects.toMatchObject({
      reason: "exact_lnbtc_payment_in_flight",
      inFlight: true,
    });
    await expect(s.createPaymentPayload(2, offer(), articleA)).rejects.toMatchObject({
      inFlight: true,
    });
    expect(await s.createPaymentPayload(2, offer(), articleA)).toMatchObject({
      payload: { preimage: PREIMAGE.a },
    });
    expect([calls, s.spentMsat]).toEqual([["pay", "lookup", "lookup"], 25_000]);
  });

  it("error: an unpaid result releases the budget it reserved", async () => {
    const { s } = scheme([{ status: "unpaid" }]);
    await expect(s.createPaymentPayload(2, offer(), articleA)).rejects.toMatchObject({
      reason: "exact_lnbtc_payment_not_paid",
    });
    expect(s.spentMsat).toBe(0);
  });
});
