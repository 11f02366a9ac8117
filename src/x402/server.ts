import { decodePaymentSignatureHeader } from "@x402/core/http";
import {
  HTTPFacilitatorClient,
  type PaymentFlowConfig,
  type SchemePaymentRequiredContext,
} from "@x402/core/server";
import type {
  AssetAmount,
  Network,
  PaymentRequirements,
  Price,
  SchemeNetworkServer,
  SupportedKind,
} from "@x402/core/types";
import { isRecord } from "../protocol/Schema.ts";
import { lightningNetwork } from "../protocol/x402/Networks.ts";
import type { InvoiceSource, IssuedInvoice } from "./invoices.ts";

/** Options of `ExactLightningServerScheme`. */
export type ExactLightningServerOptions = {
  invoices: InvoiceSource;
  /** The merchant the invoices are for; routes must use it as `payTo`. */
  merchantId: string;
  /** The BOLT11 `d` field of every invoice (at most 639 bytes). */
  description?: string;
  /** Default 600. */
  invoiceExpirySecs?: number;
  /**
   * The paying client's address, forwarded to ln402 so that its invoice limits apply per
   * end client, not to this whole server. Default: `CF-Connecting-IP`, else the first
   * `X-Forwarded-For` entry (set it when your proxy puts the address elsewhere).
   */
  clientAddress?: (request: { header(name: string): string | undefined }) => string | undefined;
};

/** A route whose Lightning price or payee cannot work; a developer error, not a payer's. */
export class LightningRouteError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "LightningRouteError";
  }
}

/** x402 `PAYMENT-SIGNATURE` headers are small; a huge one is not worth decoding. */
const MAX_HEADER_CHARS = 16_384;
const SAT_PRICE = /^([0-9]{1,16})\s*(sat|sats|msat)$/i;
const HASH = /^[0-9a-f]{64}$/;

/**
 * The x402 `exact` scheme on Lightning (`bip122:*`) for resource servers using
 * `x402ResourceServer` (e.g. `@x402/hono`). Amounts are msat; every 402 carries a fresh
 * invoice in `extra.invoice`, and the paid retry carries the same one again.
 *
 * Why the retry matches (x402-lightning.md trap 1): the SDK rebuilds the requirements
 * on the retry and needs them deep-equal to `payload.accepted`, invoice included. So
 * `amount` and `payTo` are deterministic, and `enrichPaymentRequiredResponse` puts the
 * invoice the client echoes back (from the `PAYMENT-SIGNATURE` header) into the
 * rebuilt requirements instead of minting one.
 */
export class ExactLightningServerScheme implements SchemeNetworkServer {
  readonly scheme = "exact";
  /** Lightning has one way to move money: the SDK's plumbing default. */
  readonly defaultAssetTransferMethod = "default";
  /** Verify before the handler, settle after it (the standard `exact` flow). */
  readonly paymentFlows: Readonly<Record<string, PaymentFlowConfig>> = {
    default: { supported: ["authorization"], default: "authorization" },
  };
  readonly #invoices: InvoiceSource;
  readonly #merchantId: string;
  readonly #description: string | undefined;
  readonly #expirySecs: number;
  readonly #clientAddress: NonNullable<ExactLightningServerOptions["clientAddress"]>;
  /** Invoices minted per request (keyed by its transport context), so a request mints once per accept. */
  readonly #minted = new WeakMap<object, Map<number, IssuedInvoice>>();

  constructor(options: ExactLightningServerOptions) {
    if (options.merchantId === "") throw new LightningRouteError("merchantId is required.");
    const expirySecs = options.invoiceExpirySecs ?? 600;
    if (!Number.isSafeInteger(expirySecs) || expirySecs <= 0)
      throw new LightningRouteError("invoiceExpirySecs must be a positive whole number.");
    this.#invoices = options.invoices;
    this.#merchantId = options.merchantId;
    this.#description = options.description;
    this.#expirySecs = expirySecs;
    this.#clientAddress = options.clientAddress ?? defaultClientAddress;
  }

  /**
   * `{ asset: "BTC", amount: "<msat>" }`, a number of sats, or `"21 sat"` / `"21000 msat"`.
   * Dollar prices are refused: converted per request they drift between the 402 and
   * the retry, which then matches nothing (x402-lightning.md trap 2).
   */
  async parsePrice(price: Price, network: Network): Promise<AssetAmount> {
    requireLightning(network);
    if (typeof price === "object") {
      if (price.asset !== "BTC")
        throw new LightningRouteError(`A Lightning price is in BTC (msat), not ${price.asset}.`);
      return { asset: "BTC", amount: msat(price.amount, `amount "${price.amount}"`) };
    }
    if (typeof price === "number") {
      if (!Number.isSafeInteger(price))
        throw new LightningRouteError(`A numeric price is whole sats; got ${price}.`);
      return { asset: "BTC", amount: msat(String(price * 1000), `${price} sats`) };
    }
    const match = SAT_PRICE.exec(price.trim());
    if (!match?.[1] || !match[2]) {
      throw new LightningRouteError(
        `Price "${price}" is not a Lightning price. Use "21 sat", "21000 msat", a number of ` +
          "sats, or { asset: 'BTC', amount: '<msat>' }. Dollar prices are refused: a converted " +
          "price changes between the 402 and the paid retry, which then cannot match.",
      );
    }
    const units = match[2].toLowerCase() === "msat" ? 1 : 1000;
    return { asset: "BTC", amount: msat(String(Number(match[1]) * units), price) };
  }

  /** Pins `payTo` to the merchant and adds the static Lightning `extra`; mints nothing. */
  async enhancePaymentRequirements(
    requirements: PaymentRequirements,
    _supportedKind: SupportedKind,
    _facilitatorExtensions: string[],
  ): Promise<PaymentRequirements> {
    requireLightning(requirements.network);
    if (requirements.payTo !== this.#merchantId) {
      throw new LightningRouteError(
        `payTo must be the ln402 merchantId "${this.#merchantId}"; got "${requirements.payTo}". ` +
          "The facilitator pays out to the merchant whose invoice book issued the invoice.",
      );
    }
    if (requirements.asset !== "BTC") throw new LightningRouteError("asset must be BTC.");
    const extra = requirements.extra;
    if ("invoice" in extra || "paymentHash" in extra) {
      throw new LightningRouteError(
        "extra.invoice and extra.paymentHash are minted per request; remove them from the route.",
      );
    }
    return {
      ...requirements,
      extra: { ...extra, paymentMethod: "lightning", merchantId: this.#merchantId },
    };
  }

  /**
   * Adds `invoice` and `paymentHash` to one Lightning accept per call. The SDK calls
   * this once per accept of this scheme, in order, and lets a call add keys only to
   * accepts of that accept's network, without saying which accept it is: filling the
   * first accept still without an invoice fills exactly that one. A second pass over
   * the same array finds nothing left to fill and changes nothing.
   */
  async enrichPaymentRequiredResponse(
    ctx: SchemePaymentRequiredContext,
  ): Promise<PaymentRequirements[] | undefined> {
    const index = ctx.requirements.findIndex((r) => this.#needsInvoice(r));
    const accept = ctx.requirements[index];
    if (accept === undefined) return undefined;
    // A request whose payment failed (ctx.error) gets a new invoice: the one it
    // echoed may be unpaid, expired or someone else's.
    const echoed = ctx.error === undefined ? this.#echoedInvoice(ctx, accept) : null;
    const issued = echoed ?? (await this.#mintOnce(ctx.transportContext, index, accept));
    return ctx.requirements.map((r, i) =>
      i === index
        ? { ...r, extra: { ...r.extra, invoice: issued.invoice, paymentHash: issued.paymentHash } }
        : r,
    );
  }

  #needsInvoice(r: PaymentRequirements): boolean {
    return (
      r.scheme === this.scheme &&
      lightningNetwork(r.network) !== null &&
      r.extra.paymentMethod === "lightning" &&
      r.extra.merchantId === this.#merchantId &&
      r.extra.invoice === undefined
    );
  }

  /**
   * The invoice the paid retry carries, when its `accepted` is this accept.
   * Security: the invoice is not trusted here. The facilitator's verify checks that it
   * is in this merchant's invoice book for this amount and that the proof pays it;
   * reusing it only spares a mint and lets the SDK's deep-equal match succeed.
   */
  #echoedInvoice(ctx: SchemePaymentRequiredContext, accept: PaymentRequirements) {
    const accepted = readAccepted(ctx);
    if (!accepted || !isRecord(accepted.extra)) return null;
    const { invoice, paymentHash, merchantId } = accepted.extra;
    const same =
      accepted.scheme === accept.scheme &&
      accepted.network === accept.network &&
      accepted.amount === accept.amount &&
      accepted.asset === accept.asset &&
      accepted.payTo === this.#merchantId &&
      merchantId === this.#merchantId &&
      typeof invoice === "string" &&
      invoice.length <= 7089 &&
      typeof paymentHash === "string" &&
      HASH.test(paymentHash);
    return same ? { invoice, paymentHash } : null;
  }

  async #mintOnce(transport: unknown, index: number, accept: PaymentRequirements) {
    // The SDK may build a second 402 for the same request (no match, failed verify)
    // with the same transport context: it gets the invoice already minted for it.
    const perRequest = isRecord(transport) ? this.#minted.get(transport) : undefined;
    const known = perRequest?.get(index);
    if (known) return known;
    const clientIp = this.#clientAddress({ header: (name) => transportHeader(transport, name) });
    const issued = await this.#invoices.createInvoice({
      amountMsat: Number(accept.amount),
      ...(clientIp ? { clientIp } : {}),
      expirySecs: this.#expirySecs,
      ...(this.#description !== undefined ? { description: this.#description } : {}),
    });
    if (isRecord(transport)) {
      const map = perRequest ?? new Map<number, IssuedInvoice>();
      map.set(index, issued);
      this.#minted.set(transport, map);
    }
    return issued;
  }
}

/** An `HTTPFacilitatorClient` for ln402: `/settle` carries the merchant's API key (DESIGN §3). */
export function ln402Facilitator(options: {
  url: string;
  apiKey: string;
  timeoutMs?: number;
}): HTTPFacilitatorClient {
  return new HTTPFacilitatorClient({
    url: options.url,
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    // Verify is authenticated too: ln402 then holds a valid proof for this server until
    // it settles, so concurrent copies of one proof never reach the handler.
    createAuthHeaders: async () => ({
      verify: { Authorization: `Bearer ${options.apiKey}` },
      settle: { Authorization: `Bearer ${options.apiKey}` },
      supported: {},
    }),
  });
}

/** A request header from @x402/core's HTTP transport context (`{ request: { adapter } }`). */
function transportHeader(transport: unknown, name: string): string | undefined {
  const request = isRecord(transport) ? transport.request : undefined;
  const adapter = isRecord(request) ? request.adapter : undefined;
  if (!isRecord(adapter) || typeof adapter.getHeader !== "function") return undefined;
  const value: unknown = adapter.getHeader(name);
  return typeof value === "string" ? value : undefined;
}

function defaultClientAddress(request: { header(name: string): string | undefined }) {
  return (
    request.header("cf-connecting-ip") ??
    request.header("x-forwarded-for")?.split(",")[0]?.trim() ??
    undefined
  );
}

function requireLightning(network: string): void {
  if (lightningNetwork(network) === null) {
    throw new LightningRouteError(
      `${network} is not a Lightning network; use a bip122 CAIP-2 id (DESIGN §3).`,
    );
  }
}

function msat(amount: string, what: string): string {
  const value = /^[0-9]{1,16}$/.test(amount) ? Number(amount) : Number.NaN;
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new LightningRouteError(`Price ${what} must be a positive whole number of msat.`);
  return String(value);
}

/** `payload.accepted` of the request's payment, from the context or the raw header. */
function readAccepted(ctx: SchemePaymentRequiredContext): Record<string, unknown> | null {
  let payload: unknown = ctx.paymentPayload;
  if (payload === undefined) {
    const request = isRecord(ctx.transportContext) ? ctx.transportContext.request : undefined;
    const header = isRecord(request) ? request.paymentHeader : undefined;
    if (typeof header !== "string" || header.length > MAX_HEADER_CHARS) return null;
    try {
      payload = decodePaymentSignatureHeader(header);
    } catch {
      return null; // Not ours to judge: the SDK answers a bad header itself.
    }
  }
  if (!isRecord(payload) || payload.x402Version !== 2 || !isRecord(payload.accepted)) return null;
  return payload.accepted;
}
