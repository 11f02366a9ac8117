import { describe, expect, it } from "vitest";
import { ProblemError } from "../../protocol/Errors.ts";
import { InsufficientBalanceError, PaymentTimeoutError } from "../../providers/errors.ts";
import { refundProvider } from "./refundSteps.ts";

/**
 * How the gateway's refund payer reads its wallet's failures: a silent wallet or a
 * dropped socket (503) leaves the outcome unknown, so it is a timeout (the engine then
 * asks the wallet before calling the refund failed); a wallet's own refusal is final.
 */

const INVOICE = "lnbcrt1refund";
const walletDown = () =>
  Promise.reject(new ProblemError(503, "wallet-unreachable", "Wallet unreachable", "no answer"));

describe("refundProvider", () => {
  it("error: a 503 from the wallet while paying is a PaymentTimeoutError (outcome unknown)", async () => {
    const provider = refundProvider(walletDown);
    const failure = await provider
      .payInvoice({ invoice: INVOICE, amountMsat: 1_000 })
      .catch((e) => e);
    expect(failure).toBeInstanceOf(PaymentTimeoutError);
    expect((failure as PaymentTimeoutError).code).toBe("payment_timeout");
  });

  it("error: the wallet's own refusal passes through as it is", async () => {
    const refused = new InsufficientBalanceError("not enough");
    const provider = refundProvider(() => Promise.reject(refused));
    await expect(provider.payInvoice({ invoice: INVOICE, amountMsat: 1_000 })).rejects.toBe(
      refused,
    );
  });

  it("behavior: pays the asked amount and offers lookupPayment only when the wallet can look up", async () => {
    const asked: Array<[string, number]> = [];
    const provider = refundProvider(async (invoice, amountMsat) => {
      asked.push([invoice, amountMsat]);
      return { preimage: "ab".repeat(32) };
    });
    expect(await provider.payInvoice({ invoice: INVOICE, amountMsat: 7_000 })).toEqual({
      preimage: "ab".repeat(32),
      feesPaidMsat: 0,
    });
    expect(asked).toEqual([[INVOICE, 7_000]]);
    expect(provider.lookupPayment).toBeUndefined();
    const looking = refundProvider(walletDown, async () => ({ state: "unknown" }));
    expect(await looking.lookupPayment?.("cd".repeat(32))).toEqual({ state: "unknown" });
  });
});
