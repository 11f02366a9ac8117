import type { PaymentFlowConfig, SchemePaymentRequiredContext } from "@x402/core/server";
import type {
  AssetAmount,
  Network,
  PaymentRequirements,
  Price,
  SchemeNetworkServer,
  SupportedKind,
} from "@x402/core/types";
import { isRecord } from "../protocol/Schema.ts";
import type { RequestBinding } from "../protocol/x402/lnbtc/Binding.ts";
import {
  type LnbtcNetworkName,
  lnbtcNetwork,
  SPEC_NETWORKS,
} from "../protocol/x402/lnbtc/Networks.ts";
import { checkInvoice, isNodeKey } from "../protocol/x402/lnbtc/Terms.ts";
import { bindLiveRequest, paymentInContext, type ServerBinding } from "./lnbtcRequest.ts";
import type { LightningReceiver } from "./receiver.ts";
import { LightningRouteError } from "./server.ts";

export type { ServerBinding } from "./lnbtcRequest.ts";

/** Options of `ExactLnbtcServerScheme`. */
export type ExactLnbtcServerOptions = {
  /** Makes fresh invoices with a description hash (ln402's `/invoice`: `ln402Receiver`). */
  receiver: LightningReceiver;
  /** The receiver node's compressed pubkey: every route's `payTo`. */
  payTo: string;
  /** How the live request is bound (profile and parameters from configuration). */
  binding: ServerBinding;
  /** ln402 merchant id, added as `extra.merchantId` so ln402 finds the invoice book. */
  merchantId?: string;
  /** Networks served; default mainnet and testnet (add regtest for the devnet). */
  networks?: readonly LnbtcNetworkName[];
  /** Clock-skew allowance in seconds; default 60. */
  skewSecs?: number;
  /** Clock in unix ms; default `Date.now`. */
  now?: () => number;
};

const SAT_PRICE = /^([0-9]{1,13}) sats?$/;

/**
 * The resource-server side of x402 `exact` on lnbtc (scheme_exact_lnbtc §PaymentRequirements)
 * for `@x402/core`'s `x402ResourceServer`: upfront flow (settle before the handler, never
 * `/verify`), a fresh request-bound invoice per challenge, and on the paid retry the binding
 * recomputed from the live request while the client's invoice fills the one dynamic field.
 */
export class ExactLnbtcServerScheme implements SchemeNetworkServer {
  readonly scheme = "exact";
  readonly defaultAssetTransferMethod = "bolt11";
  readonly paymentFlows: Readonly<Record<string, PaymentFlowConfig>> = {
    bolt11: { supported: ["upfront"], default: "upfront" },
  };
  /** §PaymentRequirements: `invoice` is the only dynamic `extra` field. */
  readonly dynamicExtraFields = ["invoice"];
  readonly #options: ExactLnbtcServerOptions;
  readonly #bindings = new WeakMap<object, Promise<RequestBinding>>();

  constructor(options: ExactLnbtcServerOptions) {
    if (!isNodeKey(options.payTo))
      throw new LightningRouteError(
        "payTo must be the receiver's compressed node key, 66 lowercase hex.",
      );
    this.#options = options;
  }

  /**
   * `{ asset: "BTC", amount: "<msat>" }` or `"21 sats"`. Bare numbers never mean sats and
   * `$` prices are refused (§Amounts): use an explicit atomic AssetAmount.
   */
  async parsePrice(price: Price, network: Network): Promise<AssetAmount> {
    this.#network(network);
    let amount: string | null = null;
    if (typeof price === "object" && price.asset === "BTC") amount = price.amount;
    else if (typeof price === "string" && SAT_PRICE.test(price.trim()))
      amount = String(BigInt(SAT_PRICE.exec(price.trim())?.[1] ?? "0") * 1000n);
    if (amount === null || !/^[1-9][0-9]*$/.test(amount)) {
      throw new LightningRouteError(
        `Price ${JSON.stringify(price)} is not an lnbtc price: use { asset: "BTC", amount: "<msat>" } or "21 sats".`,
      );
    }
    return { asset: "BTC", amount };
  }

  /** Pins `payTo`, the transfer method and the upfront flow; binds and mints nothing yet. */
  async enhancePaymentRequirements(
    requirements: PaymentRequirements,
    _kind: SupportedKind,
    _extensions: string[],
  ): Promise<PaymentRequirements> {
    this.#network(requirements.network);
    if (requirements.payTo !== this.#options.payTo)
      throw new LightningRouteError(
        `payTo must be the receiver's node key ${this.#options.payTo}.`,
      );
    if ("invoice" in requirements.extra || "requestHash" in requirements.extra)
      throw new LightningRouteError("extra.invoice and extra.requestHash are set per request.");
    return {
      ...requirements,
      extra: {
        ...requirements.extra,
        assetTransferMethod: "bolt11",
        paymentFlow: "upfront",
        ...(this.#options.merchantId !== undefined ? { merchantId: this.#options.merchantId } : {}),
      },
    };
  }

  /**
   * Binds the first unbound lnbtc accept to the live request. Core calls this once per
   * accept in order, so the first without `requestHash` is the current one. With a payment
   * and no error, no invoice is issued: the accepted invoice fills `invoice` (the facilitator
   * judges it against the recomputed hash). Otherwise a fresh invoice is made and checked.
   */
  enrichPaymentRequiredResponse = async (
    ctx: SchemePaymentRequiredContext,
  ): Promise<PaymentRequirements[] | undefined> => {
    const index = ctx.requirements.findIndex(
      (r) =>
        r.scheme === this.scheme && this.#serves(r.network) && r.extra.requestHash === undefined,
    );
    const accept = ctx.requirements[index];
    if (accept === undefined) return undefined;
    const binding = await this.#bindingFor(ctx);
    const bound: PaymentRequirements = {
      ...accept,
      extra: {
        ...accept.extra,
        requestHash: binding.requestHash,
        requestBindingProfile: binding.profile,
        requestBindingParams: binding.params,
      },
    };
    const payment = ctx.error === undefined ? paymentInContext(ctx) : undefined;
    const echoed = acceptedInvoice(payment, bound);
    bound.extra.invoice = echoed ?? (await this.#issue(bound));
    return ctx.requirements.map((r, i) => (i === index ? bound : r));
  };

  #bindingFor(ctx: SchemePaymentRequiredContext): Promise<RequestBinding> {
    const key = ctx.paymentRequiredResponse;
    let pending = this.#bindings.get(key);
    if (!pending) {
      pending = bindLiveRequest(this.#options.binding, ctx.transportContext).then(
        ({ result, url }) => {
          if (!result.ok) throw new LightningRouteError(`[${result.errorReason}] ${result.detail}`);
          // §HTTP Profile: resource.url must equal the bound URL, or clients refuse to pay.
          if (url !== undefined && ctx.resourceInfo.url !== url)
            throw new LightningRouteError(
              `resource.url (${ctx.resourceInfo.url}) must be the bound URL ${url}: set the route's resource.`,
            );
          return result.binding;
        },
      );
      this.#bindings.set(key, pending);
    }
    return pending;
  }

  /** A fresh invoice for bound requirements, checked as §PaymentRequirements 1–7 require. */
  async #issue(bound: PaymentRequirements): Promise<string> {
    const requestHash = String(bound.extra.requestHash);
    const invoice = await this.#options.receiver.createInvoice({
      amountMsat: BigInt(bound.amount),
      descriptionHash: requestHash,
      expirySeconds: bound.maxTimeoutSeconds,
      network: bound.network,
    });
    const lightning = this.#network(bound.network);
    const now = Math.floor((this.#options.now ?? Date.now)() / 1000);
    const checked = checkInvoice(invoice, {
      terms: {
        lightning,
        amount: bound.amount,
        payTo: this.#options.payTo,
        maxTimeoutSeconds: bound.maxTimeoutSeconds,
      },
      requestHash,
      now,
      skewSecs: this.#options.skewSecs ?? 60,
    });
    if (!checked.ok || now >= checked.value.expiresAt)
      throw new Error(
        `The receiver made an invoice this offer cannot use (${checked.ok ? "expired" : checked.errorReason}).`,
      );
    return invoice;
  }

  #serves(network: string): boolean {
    return lnbtcNetwork(network, this.#options.networks ?? SPEC_NETWORKS) !== null;
  }

  #network(network: string) {
    const lightning = lnbtcNetwork(network, this.#options.networks ?? SPEC_NETWORKS);
    if (lightning === null)
      throw new LightningRouteError(`${network} is not an lnbtc network this scheme serves.`);
    return lightning;
  }
}

/** The invoice of an lnbtc payment on the same network, or undefined; judged by the facilitator. */
function acceptedInvoice(payment: unknown, bound: PaymentRequirements): string | undefined {
  const accepted = isRecord(payment) && isRecord(payment.accepted) ? payment.accepted : undefined;
  const invoice = accepted && isRecord(accepted.extra) ? accepted.extra.invoice : undefined;
  return accepted?.scheme === "exact" &&
    accepted.network === bound.network &&
    typeof invoice === "string" &&
    invoice !== "" &&
    invoice.length <= 7089
    ? invoice
    : undefined;
}
