import { x402Client } from "@x402/core/client";
import type {
  PaymentPayloadContext,
  PaymentPayloadResult,
  PaymentRequirements,
  SchemeNetworkClient,
} from "@x402/core/types";
import {
  type Bolt11Network,
  type DecodedInvoice,
  decodeInvoice,
} from "../protocol/bolt11/Bolt11.ts";
import { ProblemError } from "../protocol/Errors.ts";
import { proves } from "../protocol/Preimage.ts";
import { lightningNetwork } from "../protocol/x402/Networks.ts";
import type { LightningPayer } from "./wallet.ts";

/** Options of `ExactLightningClientScheme` and `createLightningX402Client`. */
export type ExactLightningClientOptions = {
  wallet: LightningPayer;
  /** The most one payment may cost, in msat. */
  maxAmountMsat: number;
  /** The most all payments of this scheme together may cost, in msat. Default: no total cap. */
  budgetMsat?: number;
  /** What the retry proves with: `{ preimage, paymentHash }` (default) or `{ invoice }`. */
  payloadForm?: "preimage" | "invoice";
  /** Payee node keys (66 hex) this client pays; default any. */
  allowedPayees?: string[];
  /** Lightning networks this client pays on; default any it recognises. */
  allowedNetworks?: Bolt11Network[];
  /** Clock in unix ms (tests move it). Default `Date.now`. */
  now?: () => number;
};

/** Why a Lightning x402 offer was refused; nothing was paid for it (except `bad_preimage`). */
export type X402LightningClientErrorCode =
  | "not_lightning"
  | "invalid_invoice"
  | "amount_mismatch"
  | "network_mismatch"
  | "network_not_allowed"
  | "hash_mismatch"
  | "invoice_expired"
  | "payee_not_allowed"
  | "over_max"
  | "over_budget"
  | "bad_preimage";

/**
 * A Lightning offer this client will not pay. The code is also in the message, because
 * `@x402/fetch` rethrows scheme errors as plain `Error`s carrying only the message.
 */
export class X402LightningClientError extends ProblemError {
  readonly code: X402LightningClientErrorCode;

  constructor(code: X402LightningClientErrorCode, detail: string) {
    super(422, "x402-lightning-refused", "Lightning payment refused", `[${code}] ${detail}`, {
      extensions: { code },
    });
    this.name = "X402LightningClientError";
    this.code = code;
  }
}

type Proof = { preimage: string; paymentHash: string };

/** Invoices seconds from expiry are refused: the payment and the retry need that long. */
const EXPIRY_MARGIN_SECS = 10;
/** Paid invoices remembered for re-presented offers; the oldest are forgotten first. */
const MAX_REMEMBERED = 1000;

/**
 * The x402 `exact` scheme on Lightning for paying clients. Every offer is checked
 * against its own invoice before any money moves (amount, network, hash, expiry,
 * payee, caps); then the wallet pays and its preimage is checked against the hash.
 * An invoice is paid at most once per scheme instance: `@x402/fetch` creates a payload
 * before it notices a payment was already attempted, so a re-presented invoice gets
 * the remembered proof instead of a second payment.
 */
export class ExactLightningClientScheme implements SchemeNetworkClient {
  readonly scheme = "exact";
  readonly #options: ExactLightningClientOptions;
  readonly #now: () => number;
  readonly #allowedPayees: Set<string> | null;
  readonly #paid = new Map<string, Proof>();
  readonly #paying = new Map<string, Promise<Proof>>();
  /** Reserved before paying, so concurrent payments cannot overrun the budget together. */
  #spentMsat = 0;

  constructor(options: ExactLightningClientOptions) {
    for (const [name, value] of [
      ["maxAmountMsat", options.maxAmountMsat],
      ["budgetMsat", options.budgetMsat ?? 1],
    ] as const) {
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new RangeError(`${name} must be a positive whole number of msat.`);
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#allowedPayees = options.allowedPayees
      ? new Set(options.allowedPayees.map((key) => key.toLowerCase()))
      : null;
  }

  /** Total msat paid (or in flight) through this scheme. */
  get spentMsat(): number {
    return this.#spentMsat;
  }

  /** Checks the offer, pays its invoice once, and returns the proof for the retry. */
  async createPaymentPayload(
    x402Version: number,
    requirements: PaymentRequirements,
    context?: PaymentPayloadContext,
  ): Promise<PaymentPayloadResult> {
    const { invoice, decoded } = this.#check(requirements, context);
    const key = decoded.invoice;
    // An invoice already paid is answered with its proof even if it has expired since,
    // and costs nothing more.
    const proof = this.#paid.get(key) ?? (await this.#payOnce(key, invoice, decoded));
    const payload: Record<string, unknown> =
      this.#options.payloadForm === "invoice" ? { invoice } : { ...proof };
    return { x402Version, payload };
  }

  /** Everything that can be known before paying; throws on the first failed check. */
  #check(requirements: PaymentRequirements, context?: PaymentPayloadContext) {
    const refuse = (code: X402LightningClientErrorCode, detail: string) =>
      new X402LightningClientError(code, detail);
    const extra = requirements.extra ?? {};
    if (extra.paymentMethod !== "lightning" || typeof extra.invoice !== "string")
      throw refuse("not_lightning", "The offer has no extra.paymentMethod lightning invoice.");
    if (String(requirements.asset).toUpperCase() !== "BTC")
      throw refuse("not_lightning", `The offer's asset is ${requirements.asset}, not BTC.`);
    const invoice = extra.invoice;
    let decoded: DecodedInvoice;
    try {
      decoded = decodeInvoice(invoice);
    } catch (err) {
      throw refuse("invalid_invoice", err instanceof Error ? err.message : String(err));
    }
    const amountMsat = /^[0-9]{1,16}$/.test(requirements.amount)
      ? Number(requirements.amount)
      : NaN;
    if (decoded.amountMsat === null || decoded.amountMsat !== amountMsat) {
      throw refuse(
        "amount_mismatch",
        `The invoice is for ${decoded.amountMsat ?? "any"} msat, the offer for ${requirements.amount}.`,
      );
    }
    const network = lightningNetwork(requirements.network);
    if (network !== decoded.network) {
      throw refuse(
        "network_mismatch",
        `The offer is on ${requirements.network}, the invoice on ${decoded.network}.`,
      );
    }
    if (this.#options.allowedNetworks && !this.#options.allowedNetworks.includes(network))
      throw refuse("network_not_allowed", `This client does not pay on ${network}.`);
    const hash = extra.paymentHash;
    if (hash !== undefined && String(hash).toLowerCase() !== decoded.paymentHash)
      throw refuse("hash_mismatch", "extra.paymentHash is not the invoice's payment hash.");
    if (this.#allowedPayees && !this.#allowedPayees.has(decoded.payeeNodeKey))
      throw refuse("payee_not_allowed", `Payee ${decoded.payeeNodeKey} is not in allowedPayees.`);
    // The SDK's cap comes from our own spend controls, or a stricter one set on the client.
    const sdkCap = context?.maxAmountPerPayment;
    const capMsat =
      sdkCap !== undefined && /^[0-9]{1,16}$/.test(sdkCap)
        ? Math.min(Number(sdkCap), this.#options.maxAmountMsat)
        : this.#options.maxAmountMsat;
    if (amountMsat > capMsat)
      throw refuse(
        "over_max",
        `${amountMsat} msat is over the per-payment cap of ${capMsat} msat.`,
      );
    return { invoice, decoded };
  }

  /** Pays `invoice` unless it is already being paid; concurrent callers share one payment. */
  #payOnce(key: string, invoice: string, decoded: DecodedInvoice): Promise<Proof> {
    const inFlight = this.#paying.get(key);
    if (inFlight) return inFlight;
    const nowSecs = Math.floor(this.#now() / 1000);
    if (decoded.expiresAt - EXPIRY_MARGIN_SECS <= nowSecs) {
      throw new X402LightningClientError(
        "invoice_expired",
        `The invoice expired (or expires within ${EXPIRY_MARGIN_SECS} s) at ${decoded.expiresAt}.`,
      );
    }
    const amountMsat = decoded.amountMsat ?? 0;
    const budget = this.#options.budgetMsat;
    if (budget !== undefined && this.#spentMsat + amountMsat > budget) {
      throw new X402LightningClientError(
        "over_budget",
        `Paying ${amountMsat} msat would bring the total to ${this.#spentMsat + amountMsat} msat, over the budget of ${budget}.`,
      );
    }
    this.#spentMsat += amountMsat;
    const paying = this.#pay(invoice, decoded).then(
      (proof) => {
        this.#remember(key, proof);
        return proof;
      },
      (err: unknown) => {
        // The wallet refused or timed out. A refusal moved nothing; a timeout may still
        // settle, but the budget must not stay blocked by payments that never happen.
        this.#spentMsat -= amountMsat;
        throw err;
      },
    );
    this.#paying.set(key, paying);
    return paying.finally(() => this.#paying.delete(key));
  }

  async #pay(invoice: string, decoded: DecodedInvoice): Promise<Proof> {
    const { preimage } = await this.#options.wallet.payInvoice(invoice);
    if (!proves(preimage, decoded.paymentHash)) {
      // Money has moved (or the wallet claims so): the spend stays counted.
      throw new X402LightningClientError(
        "bad_preimage",
        "The wallet returned a preimage that does not hash to the invoice's payment hash.",
      );
    }
    return { preimage: preimage.toLowerCase(), paymentHash: decoded.paymentHash };
  }

  #remember(key: string, proof: Proof): void {
    if (this.#paid.size >= MAX_REMEMBERED) {
      const oldest = this.#paid.keys().next();
      if (!oldest.done) this.#paid.delete(oldest.value);
    }
    this.#paid.set(key, proof);
  }
}

/**
 * An `x402Client` that pays Lightning offers on every `bip122:*` network (and legacy
 * `lightning:*` ids). Its spend controls allow BTC there, capped at `maxAmountMsat`:
 * the SDK's default controls reject any asset it has no USD table for.
 */
export function createLightningX402Client(options: ExactLightningClientOptions): x402Client {
  const scheme = new ExactLightningClientScheme(options);
  const cap = String(options.maxAmountMsat);
  return new x402Client()
    .register("bip122:*", scheme)
    .register("lightning:*", scheme)
    .setSpendControls({
      allowedAssets: [
        { network: "bip122:*", asset: "BTC", maxAmountPerPayment: cap },
        { network: "lightning:*", asset: "BTC", maxAmountPerPayment: cap },
      ],
    })
    .registerPolicy((_version, accepts) =>
      // Prefer what this scheme can pay: a bip122 offer without a Lightning invoice
      // (on-chain, say) would be selected first and then refused.
      accepts.filter(
        (r) => lightningNetwork(r.network) === null || r.extra?.paymentMethod === "lightning",
      ),
    );
}
