import { type Bolt11Network, decodeInvoice, readInvoice } from "../protocol/bolt11/Bolt11.ts";
import { ProblemError } from "../protocol/Errors.ts";
import { type NwcConnection, parseConnectionString } from "../protocol/nip47/ConnectionString.ts";
import {
  isSettled,
  type NwcTransaction,
  NwcWalletError,
  parseResult,
} from "../protocol/nip47/Messages.ts";
import { walletNetwork } from "../protocol/nip47/Networks.ts";
import { proves } from "../protocol/Preimage.ts";
import { NwcClient } from "../relay/NwcClient.ts";
import { NwcLink } from "../relay/NwcLink.ts";
import { NoWebSocketError } from "../relay/RelaySocket.ts";
import {
  AuthenticationError,
  ConnectionError,
  InsufficientBalanceError,
  InvoiceExpiredError,
  LightningError,
  PaymentTimeoutError,
  RouteNotFoundError,
} from "./errors.ts";
import type {
  CreateInvoiceArgs,
  InvoiceState,
  LightningProvider,
  OutgoingPaymentState,
  PayInvoiceArgs,
  PaymentResult,
  ProviderInvoice,
} from "./LightningProvider.ts";
import { lookupOutgoing } from "./nwcOutgoing.ts";

/** Options of `NwcLightningProvider`. */
export type NwcProviderOptions = {
  /** `nostr+walletconnect://…`; its secret is never logged nor put in errors. */
  connectionString: string;
  /** Time one wallet request may take (default 30 s; payments may override per call). */
  timeoutSecs?: number;
  /** Accept `ws://` relays: development and tests only. */
  allowInsecureRelays?: boolean;
  WebSocket?: typeof WebSocket;
  /** Clock in ms, to tell an expired invoice from a pending one when the wallet does not say. */
  now?: () => number;
};

/**
 * A LightningProvider over Nostr Wallet Connect (NIP-47). One relay connection is
 * opened on first use and reused; a dead one is replaced on the next call. NWC has no
 * fee cap: `maxFeeMsat` is ignored (the wallet's own budget applies).
 */
export class NwcLightningProvider implements LightningProvider {
  readonly #conn: NwcConnection;
  readonly #options: NwcProviderOptions;
  readonly #link: NwcLink;

  constructor(options: NwcProviderOptions) {
    this.#options = options;
    try {
      this.#conn = parseConnectionString(options.connectionString, {
        allowInsecureRelays: options.allowInsecureRelays ?? false,
      });
    } catch (err) {
      throw new LightningError("invalid_request", (err as Error).message, { cause: err });
    }
    const timeoutMs = (options.timeoutSecs ?? 30) * 1000;
    this.#link = new NwcLink({
      now: Date.now,
      backoff: false,
      open: (onClose) =>
        NwcClient.connect(this.#conn, {
          requestTimeoutMs: timeoutMs,
          openTimeoutMs: Math.min(timeoutMs, 10_000),
          onClose,
          ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
        }),
    });
  }

  /** make_invoice; `amountMsat` 0 asks the wallet for a no-amount invoice. */
  async createInvoice(args: CreateInvoiceArgs): Promise<ProviderInvoice> {
    return this.#issue("make_invoice", args, {});
  }

  /** pay_invoice; the returned preimage is checked against the invoice's hash. */
  async payInvoice(args: PayInvoiceArgs): Promise<PaymentResult> {
    const paymentHash = invoiceHash(args.invoice);
    const client = await this.#connect();
    const timeoutMs = (args.timeoutSecs ?? this.#options.timeoutSecs ?? 30) * 1000;
    const params: Record<string, unknown> = { invoice: args.invoice };
    if (args.amountMsat !== undefined) params.amount = args.amountMsat;
    let raw: unknown;
    try {
      raw = await client.request("pay_invoice", params, { timeoutMs });
    } catch (err) {
      throw toLightningError(err, "pay_invoice");
    }
    const result = this.#parse("pay_invoice", raw);
    if (!proves(result.preimage, paymentHash))
      throw new LightningError("payment_failed", "The wallet returned a preimage of another hash.");
    return { preimage: result.preimage, feesPaidMsat: result.feesPaidMsat ?? 0 };
  }

  /** lookup_invoice by payment hash. */
  async lookupInvoice(paymentHash: string): Promise<InvoiceState> {
    const tx = this.#parse(
      "lookup_invoice",
      await this.#call("lookup_invoice", { payment_hash: paymentHash }),
    );
    const nowSecs = Math.floor((this.#options.now ?? Date.now)() / 1000);
    const state = txState(tx, nowSecs);
    return {
      paymentHash: tx.paymentHash,
      state,
      // Wallets show the payee its own preimage before payment: report it only once settled.
      ...(state === "settled" && tx.preimage ? { preimage: tx.preimage } : {}),
      ...(tx.settledAt ? { settledAt: tx.settledAt } : {}),
      amountMsat: tx.amountMsat,
    };
  }

  /**
   * An outgoing payment by hash (lookup_invoice): only a transaction the wallet sent
   * counts, `NOT_FOUND` reads as never paid (see `lookupOutgoing`).
   */
  async lookupPayment(paymentHash: string): Promise<OutgoingPaymentState> {
    const client = await this.#connect();
    try {
      return await lookupOutgoing(() => client.lookupInvoice({ paymentHash }), paymentHash);
    } catch (err) {
      throw toLightningError(err, "lookup_invoice");
    }
  }

  /** The network from get_info (`bitcoin` and `mainnet` both read as mainnet). */
  async getNetwork(): Promise<Bolt11Network> {
    const info = this.#parse("get_info", await this.#call("get_info", {}));
    return toNetwork(info.network);
  }

  /** make_hold_invoice (NIP-47 hold-invoice extension): the caller keeps the preimage. */
  async createHoldInvoice(args: CreateInvoiceArgs & { paymentHash: string }) {
    return this.#issue("make_hold_invoice", args, { payment_hash: args.paymentHash });
  }

  /** settle_hold_invoice: releases a held payment. */
  async settleHoldInvoice(preimage: string): Promise<void> {
    await this.#call("settle_hold_invoice", { preimage });
  }

  /** cancel_hold_invoice: fails a held payment back to its payer. */
  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    await this.#call("cancel_hold_invoice", { payment_hash: paymentHash });
  }

  /** Closes the relay connection (a script can then exit); the next call opens a new one. */
  close(): void {
    this.#link.close("closed by its owner");
  }

  async #issue(
    method: "make_invoice" | "make_hold_invoice",
    args: CreateInvoiceArgs,
    extra: Record<string, unknown>,
  ): Promise<ProviderInvoice> {
    const params: Record<string, unknown> = { amount: args.amountMsat, ...extra };
    if (args.description !== undefined) params.description = args.description;
    if (args.expirySecs !== undefined) params.expiry = args.expirySecs;
    const tx = this.#parse("make_invoice", await this.#call(method, params));
    // The wallet is an upstream: check that its invoice is what was asked for.
    const decoded = (() => {
      try {
        return decodeInvoice(tx.invoice);
      } catch (err) {
        throw new ConnectionError("The wallet sent an invalid invoice.", { cause: err });
      }
    })();
    const wanted = args.amountMsat === 0 ? null : args.amountMsat;
    if (decoded.paymentHash !== tx.paymentHash || decoded.amountMsat !== wanted)
      throw new LightningError("payment_failed", "The wallet's invoice differs from the request.");
    return {
      invoice: tx.invoice,
      paymentHash: decoded.paymentHash,
      amountMsat: decoded.amountMsat,
      expiresAt: decoded.expiresAt,
    };
  }

  async #call(method: string, params: Record<string, unknown>): Promise<unknown> {
    const client = await this.#connect();
    try {
      return await client.request(method, params);
    } catch (err) {
      throw toLightningError(err, method);
    }
  }

  #parse<M extends "make_invoice" | "lookup_invoice" | "pay_invoice" | "get_info">(
    method: M,
    raw: unknown,
  ) {
    try {
      return parseResult(method, raw);
    } catch (err) {
      // After pay_invoice was sent, a garbled answer leaves the payment's outcome unknown.
      if (method === "pay_invoice")
        throw new PaymentTimeoutError("The wallet's answer was unreadable.", { cause: err });
      throw new ConnectionError("The wallet sent an invalid response.", { cause: err });
    }
  }

  /** The open client, or a new one; concurrent callers share one connection attempt. */
  async #connect(): Promise<NwcClient> {
    try {
      return await this.#link.client();
    } catch (err) {
      // Not a relay problem: this runtime cannot open any socket.
      if (err instanceof NoWebSocketError)
        throw new LightningError("unsupported", err.message, { cause: err });
      const why = err instanceof Error ? err.message : String(err);
      throw new ConnectionError(`Could not reach the NWC wallet's relay: ${why}`, { cause: err });
    }
  }
}

/** Maps what NwcClient threw to the provider's typed errors (NIP-47 §error codes). */
function toLightningError(err: unknown, method: string): LightningError {
  if (err instanceof LightningError) return err;
  const init = { cause: err };
  if (err instanceof NwcWalletError) {
    const message = err.walletMessage;
    switch (err.kind) {
      case "insufficient_funds":
        return new InsufficientBalanceError(undefined, init);
      case "not_permitted":
        return new AuthenticationError(`The wallet refused ${method}: ${err.code}.`, init);
      case "not_found":
        return new LightningError("not_found", "The wallet has no such invoice.", init);
      case "unsupported":
        return new LightningError("unsupported", `The wallet does not support ${method}.`, init);
      case "retry_later":
        return new ConnectionError("The wallet is rate limiting requests; retry later.", init);
      case "payment_failed":
        // NIP-47 has one code for every payment failure: the wallet's message says which.
        if (/expired/i.test(message)) return new InvoiceExpiredError(undefined, init);
        if (/route/i.test(message)) return new RouteNotFoundError(message || undefined, init);
        return new LightningError("payment_failed", `Payment failed: ${message}`, init);
      default:
        return method === "pay_invoice"
          ? new LightningError("payment_failed", `Payment failed: ${message}`, init)
          : new LightningError("invalid_request", `The wallet refused ${method}: ${message}`, init);
    }
  }
  // Once pay_invoice may have reached the wallet, silence or a dropped socket means the
  // payment's outcome is unknown (it may still complete): say so rather than "failed".
  if (method === "pay_invoice")
    return new PaymentTimeoutError("The wallet did not confirm the payment in time.", init);
  if (err instanceof ProblemError && err.status === 400)
    return new LightningError("invalid_request", err.detail, init);
  return new ConnectionError(`The wallet did not answer ${method}.`, init);
}

function txState(tx: NwcTransaction, nowSecs: number): InvoiceState["state"] {
  switch (tx.state) {
    case "failed":
      return "canceled";
    case undefined:
      // A wallet that omits the state: settled_at and expiry tell it.
      if (isSettled(tx)) return "settled";
      return tx.expiresAt !== undefined && nowSecs >= tx.expiresAt ? "expired" : "pending";
    default:
      return tx.state;
  }
}

function toNetwork(network: string | undefined): Bolt11Network {
  const known = walletNetwork(network);
  if (known === null)
    throw new LightningError("unsupported", `The wallet reports network "${network ?? ""}".`);
  return known;
}

function invoiceHash(invoice: string): string {
  try {
    return readInvoice(invoice).paymentHash;
  } catch (err) {
    throw new LightningError("invalid_request", "Not a valid BOLT11 invoice.", { cause: err });
  }
}
