import type { Bolt11Network } from "../../protocol/bolt11/Bolt11.ts";
import { proves } from "../../protocol/Preimage.ts";
import { type Rejection, reject } from "../../protocol/x402/Reasons.ts";
import type { PaymentCheck } from "../../protocol/x402/Verify.ts";
import type { Claims } from "./Claims.ts";
import type { BookEntry, InvoiceBook } from "./InvoiceBook.ts";

/** Outcome of a verify: valid, or the reason it is not. */
export type VerifyOutcome = { ok: true } | { ok: false; rejection: Rejection };

/** Outcome of a settle: the response body to send (fresh or an idempotent replay), or the reason. */
export type SettleOutcome =
  | { ok: true; body: string; replay: boolean }
  | { ok: false; rejection: Rejection };

/** What the desk needs from its Durable Object. */
export type DeskDeps = {
  book: InvoiceBook;
  claims: Claims;
  network(): Bolt11Network | null;
  /**
   * Brings a pending entry up to date with the wallet (notification-fed book, else
   * `lookup_invoice`): "unavailable" when the wallet cannot be asked.
   */
  confirm(entry: BookEntry): Promise<"paid" | "pending" | "unavailable">;
  nowSecs(): number;
};

/**
 * The stateful half of x402 verification, inside the merchant's Durable Object: the
 * invoice must be in this merchant's book, for this amount and network, paid (proven
 * by preimage, or confirmed by the wallet), and not yet redeemed. Settling redeems it
 * exactly once.
 */
export class PaymentDesk {
  private readonly deps: DeskDeps;

  constructor(deps: DeskDeps) {
    this.deps = deps;
  }

  /** `/verify`: would this proof settle now? Changes nothing except learning that an invoice was paid. */
  async verify(check: PaymentCheck): Promise<VerifyOutcome> {
    const judged = await this.judge(check);
    if (!judged.ok) return judged;
    if (this.deps.claims.get(check.paymentHash))
      return { ok: false, rejection: reject("already_settled") };
    return { ok: true };
  }

  /**
   * `/settle`: redeems the proof once. A repeat carrying the same idempotency key as the
   * successful settle gets that settle's answer again; any other repeat is refused.
   */
  async settle(
    check: PaymentCheck,
    idempotencyKey: string | null,
    body: string,
  ): Promise<SettleOutcome> {
    const earlier = this.replay(check.paymentHash, idempotencyKey);
    if (earlier) return earlier;
    const judged = await this.judge(check);
    if (!judged.ok) return judged;
    // From here to the insert there is no await: check-and-claim is one atomic step.
    const again = this.replay(check.paymentHash, idempotencyKey);
    if (again) return again;
    const inserted = this.deps.claims.insert({
      paymentHash: check.paymentHash,
      settledAt: this.deps.nowSecs(),
      idempotencyKey,
      response: body,
    });
    if (!inserted) return { ok: false, rejection: reject("already_settled") };
    return { ok: true, body, replay: false };
  }

  private replay(paymentHash: string, idempotencyKey: string | null): SettleOutcome | null {
    const claim = this.deps.claims.get(paymentHash);
    if (!claim) return null;
    if (idempotencyKey !== null && claim.idempotencyKey === idempotencyKey) {
      return { ok: true, body: claim.response, replay: true };
    }
    return { ok: false, rejection: reject("already_settled") };
  }

  private async judge(check: PaymentCheck): Promise<VerifyOutcome> {
    const { book } = this.deps;
    const entry = book.get(check.paymentHash);
    if (!entry) return { ok: false, rejection: reject("unknown_invoice") };
    if (check.invoice !== null && check.invoice !== entry.invoice)
      return { ok: false, rejection: reject("invoice_mismatch") };
    if (check.amountMsat !== entry.amountMsat)
      return { ok: false, rejection: reject("amount_mismatch") };
    if (check.network !== this.deps.network())
      return { ok: false, rejection: reject("network_mismatch") };

    if (check.preimage !== null) {
      // The preimage is the proof: only a payment reveals it (no network call needed).
      if (!proves(check.preimage, check.paymentHash)) {
        return { ok: false, rejection: reject("invalid_preimage") };
      }
      if (entry.status === "pending")
        book.markPaid(entry.paymentHash, this.deps.nowSecs(), check.preimage, Date.now());
      return { ok: true };
    }
    if (entry.status === "paid") return { ok: true };
    const state = await this.deps.confirm(entry);
    if (state === "paid") return { ok: true };
    if (state === "unavailable") return { ok: false, rejection: reject("wallet_unavailable") };
    if (entry.expiresAt <= this.deps.nowSecs())
      return { ok: false, rejection: reject("invoice_expired") };
    return { ok: false, rejection: reject("payment_not_received") };
  }
}
