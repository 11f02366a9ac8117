import type { Bolt11Network } from "../../protocol/bolt11/Bolt11.ts";
import { proves } from "../../protocol/Preimage.ts";
import { type Rejection, reject } from "../../protocol/x402/Reasons.ts";
import type { PaymentCheck } from "../../protocol/x402/Verify.ts";
import type { BookEntry, InvoiceBook } from "./InvoiceBook.ts";
import type { Redemption, Redemptions } from "./Redemptions.ts";

/** Outcome of a verify: valid, or the reason it is not. */
export type VerifyOutcome = { ok: true } | { ok: false; rejection: Rejection };

/** Outcome of a settle: the redemption this call made, or the reason there is none. */
export type SettleOutcome =
  | { ok: true; redemption: Redemption }
  | { ok: false; rejection: Rejection };

/** Where an entry's payment stands after asking (or deciding not to ask) the wallet. */
export type Confirmation = "paid" | "pending" | "unavailable";

/** What the desk needs from its Durable Object. */
export type DeskDeps = {
  book: InvoiceBook;
  redemptions: Redemptions;
  network(): Bolt11Network | null;
  /**
   * Brings a pending, unexpired entry up to date with the wallet (notification-fed book,
   * else a `lookup_invoice` that counts only a *settled* invoice as paid).
   */
  confirm(entry: BookEntry): Promise<Confirmation>;
  nowMs(): number;
};

/** How long a valid `/verify` holds the proof against other verifies: the handler's time budget. */
export const RESERVATION_MS = 30_000;

/**
 * The stateful half of x402 verification, inside the merchant's Durable Object: the
 * invoice must be in this merchant's book, for this amount and network, paid, and not
 * yet redeemed. Paid means a payer presented the preimage, or the merchant's wallet
 * said it received the payment; the wallet's own knowledge of its preimage proves
 * nothing. Settling redeems a proof exactly once: a repeat is `already_settled`, never a
 * second success (in the x402 middleware a settle success is a delivery).
 */
export class PaymentDesk {
  private readonly deps: DeskDeps;

  constructor(deps: DeskDeps) {
    this.deps = deps;
  }

  /**
   * `/verify`: would this proof settle now? With `reserve`, a valid answer also takes a
   * short lease on the proof, so a concurrent copy verifying meanwhile is
   * `payment_in_progress` and its handler never runs.
   */
  async verify(check: PaymentCheck, reserve: boolean): Promise<VerifyOutcome> {
    const redeemed = this.redeemed(check.paymentHash);
    if (redeemed) return redeemed;
    const judged = await this.judge(check);
    if (!judged.ok) return judged;
    // No await from here on: check and lease are one atomic step.
    const again = this.redeemed(check.paymentHash);
    if (again) return again;
    if (reserve) {
      const nowMs = this.deps.nowMs();
      if (!this.deps.redemptions.reserve(check.paymentHash, nowMs, nowMs + RESERVATION_MS))
        return { ok: false, rejection: reject("payment_in_progress") };
    }
    return { ok: true };
  }

  /** `/settle`: redeems the proof once; any other settle of it is `already_settled`. */
  async settle(check: PaymentCheck): Promise<SettleOutcome> {
    const redeemed = this.redeemed(check.paymentHash);
    if (redeemed) return redeemed;
    const judged = await this.judge(check);
    if (!judged.ok) return judged;
    // No await from here to the insert: check-and-redeem is one atomic step.
    const redemption: Redemption = {
      paymentHash: check.paymentHash,
      settledAt: Math.floor(this.deps.nowMs() / 1000),
      amountMsat: check.amountMsat,
    };
    if (!this.deps.redemptions.redeem(redemption))
      return { ok: false, rejection: reject("already_settled") };
    return { ok: true, redemption };
  }

  private redeemed(paymentHash: string): { ok: false; rejection: Rejection } | null {
    return this.deps.redemptions.get(paymentHash)
      ? { ok: false, rejection: reject("already_settled") }
      : null;
  }

  private async judge(check: PaymentCheck): Promise<VerifyOutcome> {
    const entry = this.deps.book.get(check.paymentHash);
    if (!entry) return { ok: false, rejection: reject("unknown_invoice") };
    if (check.invoice !== null && check.invoice !== entry.invoice)
      return { ok: false, rejection: reject("invoice_mismatch") };
    if (check.amountMsat !== entry.amountMsat)
      return { ok: false, rejection: reject("amount_mismatch") };
    if (check.network !== this.deps.network())
      return { ok: false, rejection: reject("network_mismatch") };

    const nowMs = this.deps.nowMs();
    if (check.preimage !== null) {
      // A payer's preimage is the proof: only paying reveals it to anyone but the payee.
      // The book is not marked paid by it: "paid" in the book means the wallet said it
      // received the payment, which x402 lnbtc's receiver key isolation relies on.
      if (!proves(check.preimage, check.paymentHash))
        return { ok: false, rejection: reject("invalid_preimage") };
      return { ok: true };
    }
    if (entry.status === "paid") return { ok: true };
    // Expiry first: an expired invoice is never looked up, so nothing the wallet says
    // about it afterwards can make it paid.
    if (entry.expiresAt * 1000 <= nowMs) return { ok: false, rejection: reject("invoice_expired") };
    const state = await this.deps.confirm(entry);
    if (state === "paid") return { ok: true };
    if (state === "unavailable") return { ok: false, rejection: reject("wallet_unavailable") };
    return { ok: false, rejection: reject("payment_not_received") };
  }
}
