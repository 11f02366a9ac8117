import { type Bolt11Network, readInvoice } from "../protocol/bolt11/Bolt11.ts";
import { walletNetwork } from "../protocol/nip47/Networks.ts";
import { AuthenticationError, ConnectionError, LightningError } from "./errors.ts";
import type {
  CreateInvoiceArgs,
  InvoiceState,
  LightningProvider,
  PaymentResult,
  ProviderInvoice,
} from "./LightningProvider.ts";

/** Options of `HostedLightningProvider`. */
export type HostedProviderOptions = {
  /** The ln402 facilitator's origin, e.g. `https://ln402.example`. */
  url: string;
  /** The merchant id ln402 returned at registration. */
  merchantId: string;
  /** The merchant's API key from registration (sent as a Bearer token). */
  apiKey: string;
  fetch?: typeof fetch;
  /** Time one request may take (default 15 s). */
  timeoutSecs?: number;
  /** Clock in ms, to tell an expired invoice from a pending one. */
  now?: () => number;
};

type Json = Record<string, unknown>;

/**
 * A hosted ln402 facilitator as a LightningProvider: it issues invoices on the
 * merchant's registered wallet and reports whether they were paid. It is receive-only
 * by design (ln402 holds no spending rights), so `payInvoice` always throws
 * `unsupported`, and lookups carry no preimage (the facilitator never reveals it).
 */
export class HostedLightningProvider implements LightningProvider {
  readonly #url: string;
  readonly #options: HostedProviderOptions;
  readonly #fetch: typeof fetch;

  constructor(options: HostedProviderOptions) {
    if (!/^https?:\/\//.test(options.url))
      throw new LightningError("invalid_request", "url must be the facilitator's http(s) origin.");
    this.#url = options.url.replace(/\/+$/, "");
    this.#options = options;
    // Workers reject a detached global fetch (illegal invocation): call it, don't hold it.
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
  }

  /** `POST /invoice`: an invoice on the merchant's wallet. ln402 issues no no-amount invoices. */
  async createInvoice(args: CreateInvoiceArgs): Promise<ProviderInvoice> {
    if (!Number.isSafeInteger(args.amountMsat) || args.amountMsat <= 0)
      throw new LightningError("unsupported", "A hosted ln402 issues only fixed-amount invoices.");
    const body = await this.#request("POST", "/invoice", {
      merchantId: this.#options.merchantId,
      amount: String(args.amountMsat),
      ...(args.description !== undefined ? { description: args.description } : {}),
      ...(args.expirySecs !== undefined ? { expirySecs: args.expirySecs } : {}),
    });
    const invoice = typeof body.invoice === "string" ? body.invoice : "";
    let fields: ReturnType<typeof readInvoice>;
    try {
      fields = readInvoice(invoice);
    } catch (err) {
      throw new ConnectionError("ln402 sent an invalid invoice.", { cause: err });
    }
    if (fields.paymentHash !== body.paymentHash || fields.amountMsat !== args.amountMsat)
      throw new ConnectionError("ln402's invoice differs from the request.");
    return {
      invoice,
      paymentHash: fields.paymentHash,
      amountMsat: fields.amountMsat,
      expiresAt: fields.expiresAt,
    };
  }

  /**
   * The merchant wallet's network, as ln402 learned it at registration
   * (`GET /merchants/:id`): a regtest or testnet merchant needs no `network` option.
   */
  async getNetwork(): Promise<Bolt11Network> {
    const body = await this.#request(
      "GET",
      `/merchants/${encodeURIComponent(this.#options.merchantId)}`,
    );
    const network = walletNetwork(body.network);
    if (network === null)
      throw new ConnectionError(`ln402 reported an unknown network "${String(body.network)}".`);
    return network;
  }

  /** Hosted ln402 never pays: it holds no spending rights. Always throws `unsupported`. */
  async payInvoice(): Promise<PaymentResult> {
    throw new LightningError(
      "unsupported",
      "A hosted ln402 cannot pay invoices: it holds receive-only rights to the merchant's wallet.",
    );
  }

  /** `GET /invoice/status/{hash}`: settled, pending or expired (never with a preimage). */
  async lookupInvoice(paymentHash: string): Promise<InvoiceState> {
    if (!/^[0-9a-f]{64}$/.test(paymentHash))
      throw new LightningError("invalid_request", "paymentHash must be 64 lowercase hex.");
    const body = await this.#request("GET", `/invoice/status/${paymentHash}`);
    // Only this merchant's invoices count: a hash indexed to another merchant is none of ours.
    if (typeof body.merchantId === "string" && body.merchantId !== this.#options.merchantId)
      throw new LightningError(
        "not_found",
        "ln402 issued no invoice with this hash for this merchant.",
      );
    const nowSecs = Math.floor((this.#options.now ?? Date.now)() / 1000);
    const expiresAt = typeof body.expiresAt === "number" ? body.expiresAt : 0;
    const amount = typeof body.amount === "string" ? Number(body.amount) : Number.NaN;
    const state = body.paid === true ? "settled" : nowSecs >= expiresAt ? "expired" : "pending";
    return {
      paymentHash,
      state,
      ...(typeof body.settledAt === "number" ? { settledAt: body.settledAt } : {}),
      ...(Number.isSafeInteger(amount) ? { amountMsat: amount } : {}),
    };
  }

  async #request(method: string, path: string, body?: Json): Promise<Json> {
    let res: Response;
    try {
      res = await this.#fetch(`${this.#url}${path}`, {
        method,
        headers: {
          Authorization: `Bearer ${this.#options.apiKey}`,
          Accept: "application/json",
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout((this.#options.timeoutSecs ?? 15) * 1000),
      });
    } catch (err) {
      throw new ConnectionError("The ln402 facilitator is unreachable.", { cause: err });
    }
    let parsed: unknown = null;
    try {
      parsed = JSON.parse(await res.text());
    } catch {
      // A non-JSON body: the status alone decides below.
    }
    const json: Json = typeof parsed === "object" && parsed !== null ? (parsed as Json) : {};
    if (!res.ok) throw problemError(res.status, json);
    return json;
  }
}

/** Maps an ln402 problem (RFC 9457) to the provider's typed errors. */
function problemError(status: number, problem: Json): LightningError {
  const type = typeof problem.type === "string" ? problem.type : "";
  const detail = `ln402 answered ${status}: ${
    typeof problem.detail === "string" ? problem.detail.slice(0, 300) : "no detail"
  }`;
  if (status === 401 || status === 403 || type.endsWith("wallet-refused"))
    return new AuthenticationError(detail);
  if (status === 404) return new LightningError("not_found", detail);
  if (status === 400 || status === 413 || status === 422)
    return new LightningError("invalid_request", detail);
  // 429, wallet timeouts, unreachable relays and wallet errors: the backend is not serving.
  return new ConnectionError(detail);
}
