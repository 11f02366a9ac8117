import type {
  PaymentPayloadContext,
  PaymentPayloadResult,
  PaymentRequirements,
  SchemeNetworkClient,
} from "@x402/core/types";
import type { DecodedInvoice } from "../protocol/bolt11/Bolt11.ts";
import { ProblemError } from "../protocol/Errors.ts";
import { proves } from "../protocol/Preimage.ts";
import type { BindingResult, ProfileParams } from "../protocol/x402/lnbtc/Binding.ts";
import type { LnbtcNetworkId, LnbtcNetworkName } from "../protocol/x402/lnbtc/Networks.ts";
import type { LnbtcReason } from "../protocol/x402/lnbtc/Reasons.ts";
import { checkInvoice, checkTerms } from "../protocol/x402/lnbtc/Terms.ts";

/** What a payer adapter reports (scheme_exact_lnbtc §Client Payment Construction). */
export type LnbtcPayResult =
  | {
      status: "paid";
      preimage?: string | null;
      invoice?: string;
      paymentHash?: string;
      amountMsat?: number;
    }
  | { status: "in_flight" }
  | { status: "unpaid" };

/** Pays exactly the invoice amount; must return the preimage when it reports `paid`. */
export type LnbtcPayer = {
  payInvoice(invoice: string, network: LnbtcNetworkId): Promise<LnbtcPayResult>;
  /** The state of a payment started earlier; asked instead of paying again when one was in flight. */
  lookupPayment?(invoice: string): Promise<LnbtcPayResult>;
};

/** Computes the binding of the request the client intends to pay for, under the offered profile. */
export type ClientRequestBinding = (
  offered: ProfileParams,
) => BindingResult | Promise<BindingResult>;

/** Options of `ExactLnbtcClientScheme`. */
export type ExactLnbtcClientOptions = {
  payer: LnbtcPayer;
  /** The most one payment may cost, in msat. */
  maxAmountMsat: number;
  /** The most all payments together may cost, in msat. Default: no total cap. */
  budgetMsat?: number;
  /** Networks this client pays on; default mainnet and testnet (regtest only on request). */
  networks?: readonly LnbtcNetworkName[];
  /** Payee node keys this client pays; default any. */
  allowedPayees?: readonly string[];
  /** Clock-skew allowance in seconds; default 60 (§Client Payment Construction 8). */
  skewSecs?: number;
  /** Clock in unix ms. Default `Date.now`. */
  now?: () => number;
};

/** Why this client refused or could not finish a payment; `in_flight` may be retried. */
export type LnbtcClientReason = LnbtcReason | "over_max" | "over_budget" | "payee_not_allowed";

/** A refused offer or an unfinished payment. The reason is also in the message (@x402/fetch keeps only that). */
export class LnbtcClientError extends ProblemError {
  readonly reason: LnbtcClientReason;

  constructor(reason: LnbtcClientReason, detail: string) {
    super(422, "x402-lnbtc-refused", "Lightning payment refused", `[${reason}] ${detail}`, {
      extensions: { reason },
    });
    this.name = "LnbtcClientError";
    this.reason = reason;
  }

  /** True when the payment may still complete: retry later, and nothing is paid twice. */
  get inFlight(): boolean {
    return this.reason === "exact_lnbtc_payment_in_flight";
  }
}

const MAX_REMEMBERED = 1000;

/**
 * The client side of x402 `exact` on lnbtc. Before any money moves it runs every check
 * of §Client Payment Construction: the terms, the invoice (signature, one `h`, signer =
 * `payTo`, currency, amount, expiry = `maxTimeoutSeconds`, creation skew, unexpired), and
 * the request hash recomputed from the client's own request. Each invoice is paid at
 * most once; a payment reported `in_flight` is looked up, never restarted.
 */
export class ExactLnbtcClientScheme {
  readonly #options: ExactLnbtcClientOptions;
  readonly #paid = new Map<string, string>();
  readonly #paying = new Map<string, Promise<string>>();
  readonly #inFlight = new Map<string, number>();
  #spentMsat = 0;

  constructor(options: ExactLnbtcClientOptions) {
    for (const [name, value] of [
      ["maxAmountMsat", options.maxAmountMsat],
      ["budgetMsat", options.budgetMsat ?? 1],
    ] as const) {
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new RangeError(`${name} must be a positive whole number of msat.`);
    }
    this.#options = options;
  }

  /** Total msat paid or in flight. */
  get spentMsat(): number {
    return this.#spentMsat;
  }

  /** A `SchemeNetworkClient` that pays offers for the one request `binding` describes. */
  forRequest(binding: ClientRequestBinding): SchemeNetworkClient {
    return {
      scheme: "exact",
      createPaymentPayload: (version, requirements, context) =>
        this.createPaymentPayload(version, requirements, binding, context),
    };
  }

  /** Checks the offer against the intended request, pays once, and returns `{ preimage }`. */
  async createPaymentPayload(
    x402Version: number,
    requirements: PaymentRequirements,
    binding: ClientRequestBinding,
    context?: PaymentPayloadContext,
  ): Promise<PaymentPayloadResult> {
    const { invoice, decoded, network } = await this.#check(requirements, binding, context);
    const preimage =
      this.#paid.get(decoded.invoice) ?? (await this.#payOnce(invoice, decoded, network));
    return { x402Version, payload: { preimage } };
  }

  async #check(
    requirements: PaymentRequirements,
    binding: ClientRequestBinding,
    context?: PaymentPayloadContext,
  ) {
    const refuse = (reason: LnbtcClientReason, detail: string) =>
      new LnbtcClientError(reason, detail);
    const terms = checkTerms(requirements, this.#options.networks ?? ["mainnet", "testnet"]);
    if (!terms.ok)
      throw refuse(terms.errorReason, "The offer's terms are not a valid lnbtc offer.");
    const { invoice } = terms.value;
    if (typeof invoice !== "string" || invoice === "")
      throw refuse("invalid_exact_lnbtc_invoice_missing", "The offer has no extra.invoice.");
    // §Client Payment Construction 4: the digest of the client's own request, never the echo.
    const mine = await binding(terms.value.binding);
    if (!mine.ok || mine.binding.requestHash !== terms.value.requestHash) {
      throw refuse(
        "invalid_exact_lnbtc_request_mismatch",
        mine.ok ? "The offer is bound to another request than this one." : mine.detail,
      );
    }
    const nowSecs = Math.floor((this.#options.now ?? Date.now)() / 1000);
    const checked = checkInvoice(invoice, {
      terms: terms.value,
      requestHash: mine.binding.requestHash,
      now: nowSecs,
      skewSecs: this.#options.skewSecs ?? 60,
    });
    if (!checked.ok) throw refuse(checked.errorReason, "The invoice does not match the offer.");
    const decoded = checked.value;
    // Unexpired at validation time: at created + expiry it is expired (vectors: client-expiry-boundary).
    if (!this.#paid.has(decoded.invoice) && nowSecs >= decoded.expiresAt)
      throw refuse(
        "invalid_exact_lnbtc_invoice_expired",
        `The invoice expired at ${decoded.expiresAt}.`,
      );
    const allowed = this.#options.allowedPayees;
    if (allowed && !allowed.includes(decoded.payeeNodeKey))
      throw refuse("payee_not_allowed", `Payee ${decoded.payeeNodeKey} is not in allowedPayees.`);
    const sdkCap = context?.maxAmountPerPayment;
    const cap =
      sdkCap !== undefined && /^[0-9]{1,16}$/.test(sdkCap)
        ? Math.min(Number(sdkCap), this.#options.maxAmountMsat)
        : this.#options.maxAmountMsat;
    if ((decoded.amountMsat ?? 0) > cap)
      throw refuse(
        "over_max",
        `${decoded.amountMsat} msat is over the per-payment cap of ${cap} msat.`,
      );
    return { invoice, decoded, network: terms.value.network };
  }

  /** Pays unless already paying; a payment in flight is looked up instead of paid again. */
  #payOnce(invoice: string, decoded: DecodedInvoice, network: LnbtcNetworkId): Promise<string> {
    const key = decoded.invoice;
    const running = this.#paying.get(key);
    if (running) return running;
    const amountMsat = decoded.amountMsat ?? 0;
    const wasInFlight = this.#inFlight.has(key);
    if (!wasInFlight) {
      const budget = this.#options.budgetMsat;
      if (budget !== undefined && this.#spentMsat + amountMsat > budget)
        throw new LnbtcClientError(
          "over_budget",
          `Paying ${amountMsat} msat would exceed the budget of ${budget}.`,
        );
      this.#spentMsat += amountMsat;
    }
    const payer = this.#options.payer;
    const attempt = wasInFlight
      ? (payer.lookupPayment?.(invoice) ?? Promise.resolve<LnbtcPayResult>({ status: "in_flight" }))
      : payer.payInvoice(invoice, network);
    const paying = attempt
      .then((result) => this.#settle(key, decoded, amountMsat, result))
      .catch((err: unknown) => {
        // A thrown payer error moved nothing we can prove; the budget is released.
        if (!(err instanceof LnbtcClientError)) this.#release(key, amountMsat);
        throw err;
      });
    this.#paying.set(key, paying);
    return paying.finally(() => this.#paying.delete(key));
  }

  /** §Client Payment Construction, after paying: the result must name this invoice, and prove it. */
  #settle(
    key: string,
    decoded: DecodedInvoice,
    amountMsat: number,
    result: LnbtcPayResult,
  ): string {
    const fail = (reason: LnbtcClientReason, detail: string) =>
      new LnbtcClientError(reason, detail);
    if (result.status === "in_flight") {
      this.#inFlight.set(key, amountMsat);
      throw fail(
        "exact_lnbtc_payment_in_flight",
        "The payment is in flight; retry to look it up (it is not paid twice).",
      );
    }
    if (result.status !== "paid") {
      this.#release(key, amountMsat);
      throw fail("exact_lnbtc_payment_not_paid", "The payer did not pay the invoice.");
    }
    this.#inFlight.delete(key);
    // From here money may have moved: the spend stays counted whatever the outcome.
    if (result.invoice !== undefined && result.invoice.toLowerCase() !== key)
      throw fail(
        "invalid_exact_lnbtc_payer_invoice_mismatch",
        "The payer reported another invoice.",
      );
    if (result.paymentHash !== undefined && result.paymentHash !== decoded.paymentHash)
      throw fail(
        "invalid_exact_lnbtc_payer_payment_hash_mismatch",
        "The payer reported another payment hash.",
      );
    if (result.amountMsat !== undefined && result.amountMsat !== amountMsat)
      throw fail("invalid_exact_lnbtc_payer_amount_mismatch", "The payer reported another amount.");
    const { preimage } = result;
    if (preimage === undefined || preimage === null || preimage === "")
      throw fail(
        "invalid_exact_lnbtc_payer_preimage_required",
        "The payer reported paid without a preimage.",
      );
    if (!/^[0-9a-f]{64}$/.test(preimage))
      throw fail(
        "invalid_exact_lnbtc_payer_preimage_malformed",
        "The preimage is not 64 lowercase hex.",
      );
    if (!proves(preimage, decoded.paymentHash))
      throw fail(
        "invalid_exact_lnbtc_payer_preimage_hash_mismatch",
        "The preimage does not hash to the payment hash.",
      );
    if (this.#paid.size >= MAX_REMEMBERED) {
      const oldest = this.#paid.keys().next();
      if (!oldest.done) this.#paid.delete(oldest.value);
    }
    this.#paid.set(key, preimage);
    return preimage;
  }

  #release(key: string, amountMsat: number): void {
    this.#inFlight.delete(key);
    this.#spentMsat -= amountMsat;
  }
}
