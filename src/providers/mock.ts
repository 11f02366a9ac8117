import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import {
  type Bolt11Network,
  type DecodedInvoice,
  decodeInvoice,
  encodeInvoice,
} from "../protocol/bolt11/Bolt11.ts";
import {
  InsufficientBalanceError,
  InvoiceExpiredError,
  LightningError,
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

/**
 * A TEST AND DEVELOPMENT TOOL, not a Lightning node: in-memory providers that issue
 * real, signed BOLT11 invoices and pay each other instantly through a shared
 * `MockLightningNetwork`. No channels, routing or fees exist.
 */

type MockInvoice = {
  decoded: DecodedInvoice;
  payee: string;
  preimage: string | null; // null for a hold invoice until its payee settles it
  hold: boolean;
  state: "pending" | "accepted" | "settled" | "canceled";
  payer: string | null;
  paidMsat: number | null;
  settledAt: number | null;
  release: ((preimage: string | null) => void) | null; // ends a held payment (null: canceled)
};

/**
 * The ledger that mock providers share: who issued which invoice, who paid it, and
 * (optionally) balances. Pass one to every mock that should reach the others; mocks
 * given none use `sharedMockNetwork`.
 */
export class MockLightningNetwork {
  readonly #invoices = new Map<string, MockInvoice>();
  /** Balances in msat of nodes that have one; a node without one pays without limit. */
  readonly #balances = new Map<string, number>();
  readonly #nowMs: () => number;

  /** `now` (ms) drives invoice timestamps and expiry, so tests can move time. */
  constructor(options: { now?: () => number } = {}) {
    this.#nowMs = options.now ?? Date.now;
  }

  /** Unix seconds on this network's clock. */
  now(): number {
    return Math.floor(this.#nowMs() / 1000);
  }

  /** A node's balance in msat, or null when it pays without limit. */
  balance(node: string): number | null {
    return this.#balances.get(node) ?? null;
  }

  /** Sets a node's balance (msat); null removes the limit. */
  setBalance(node: string, balanceMsat: number | null): void {
    if (balanceMsat === null) this.#balances.delete(node);
    else this.#balances.set(node, balanceMsat);
  }

  /** Records an issued invoice; the preimage is null for hold invoices. */
  add(payee: string, decoded: DecodedInvoice, preimage: string | null): void {
    if (this.#invoices.has(decoded.paymentHash))
      throw new LightningError("invalid_request", "An invoice with this payment hash exists.");
    const hold = preimage === null;
    const blank = { payer: null, paidMsat: null, settledAt: null, release: null };
    this.#invoices.set(decoded.paymentHash, {
      decoded,
      payee,
      preimage,
      hold,
      state: "pending",
      ...blank,
    });
  }

  /** The invoice with this hash if `node` issued or paid it. */
  find(node: string, paymentHash: string): MockInvoice | null {
    const invoice = this.#invoices.get(paymentHash);
    return invoice && (invoice.payee === node || invoice.payer === node) ? invoice : null;
  }

  /** Moves the money and settles (or, for a hold invoice, waits for the payee). */
  async pay(payer: string, decoded: DecodedInvoice, amountMsat?: number): Promise<string> {
    const invoice = this.#invoices.get(decoded.paymentHash);
    // Signed by another key: an invoice this network has never seen, so no route to it.
    if (!invoice || invoice.decoded.payeeNodeKey !== decoded.payeeNodeKey)
      throw new RouteNotFoundError("No mock node issued this invoice.");
    if (invoice.payee === payer)
      throw new LightningError("payment_failed", "Self-payments are not supported.");
    if (invoice.state !== "pending")
      throw new LightningError("payment_failed", `The invoice is already ${invoice.state}.`);
    if (this.now() >= decoded.expiresAt) throw new InvoiceExpiredError();
    const paying = decoded.amountMsat ?? amountMsat;
    if (paying === undefined || !Number.isSafeInteger(paying) || paying <= 0)
      throw new LightningError("invalid_request", "A no-amount invoice needs amountMsat > 0.");
    if (decoded.amountMsat !== null && amountMsat !== undefined && amountMsat !== paying)
      throw new LightningError("invalid_request", "amountMsat differs from the invoice's.");
    const balance = this.balance(payer);
    if (balance !== null && balance < paying)
      throw new InsufficientBalanceError(`Balance ${balance} msat is below ${paying} msat.`);

    // The HTLC: funds leave the payer now, and the invoice can no longer be paid again.
    if (balance !== null) this.#balances.set(payer, balance - paying);
    invoice.state = "accepted";
    invoice.payer = payer;
    invoice.paidMsat = paying;
    if (!invoice.hold) {
      this.settle(invoice, invoice.preimage ?? "");
      return invoice.preimage ?? "";
    }
    // A hold payment stays in flight until the payee settles or cancels (resolveHold).
    const preimage = await new Promise<string | null>((resolve) => {
      invoice.release = resolve;
    });
    if (preimage === null)
      throw new LightningError("payment_failed", "The payee canceled the hold invoice.");
    return preimage;
  }

  /** Marks an invoice settled and credits its payee. */
  settle(invoice: MockInvoice, preimage: string): void {
    invoice.preimage = preimage;
    invoice.state = "settled";
    invoice.settledAt = this.now();
    const credit = this.balance(invoice.payee);
    if (credit !== null) this.#balances.set(invoice.payee, credit + (invoice.paidMsat ?? 0));
  }

  /** Ends a hold invoice: settled with `preimage`, or canceled (the payer is refunded). */
  resolveHold(node: string, paymentHash: string, preimage: string | null): void {
    const invoice = this.#invoices.get(paymentHash);
    if (!invoice || invoice.payee !== node || !invoice.hold)
      throw new LightningError("not_found", "This node issued no hold invoice with that hash.");
    if (invoice.state === "settled" || invoice.state === "canceled")
      throw new LightningError("invalid_request", `The hold invoice is already ${invoice.state}.`);
    if (preimage !== null && invoice.state !== "accepted")
      throw new LightningError("invalid_request", "The hold invoice has not been paid yet.");
    const release = invoice.release;
    if (preimage !== null) this.settle(invoice, preimage);
    else {
      invoice.state = "canceled";
      const refund = invoice.payer === null ? null : this.balance(invoice.payer);
      if (invoice.payer !== null && refund !== null)
        this.#balances.set(invoice.payer, refund + (invoice.paidMsat ?? 0));
    }
    invoice.release = null;
    release?.(preimage);
  }
}

/** The network mocks join when given none, so two default mocks can pay each other. */
export const sharedMockNetwork = new MockLightningNetwork();

/** Options of `MockLightningProvider`. */
export type MockProviderOptions = {
  /** Unpaid invoices read as settled when their issuer looks them up (default true). */
  autoSettle?: boolean;
  /** payInvoice throws this error (true: a generic `payment_failed`). */
  failOnPay?: boolean | LightningError;
  /** Milliseconds each payment takes. */
  paymentDelay?: number;
  /** The chain invoices are for (default "regtest"). */
  network?: Bolt11Network;
  /** The in-memory network this mock joins (default `sharedMockNetwork`). */
  mockNetwork?: MockLightningNetwork;
  /** Starting balance in msat; omitted, the mock pays without limit. */
  balanceMsat?: number;
  /** A label, for test output. */
  name?: string;
};

/** An in-memory LightningProvider for tests and local development (see the module note). */
export class MockLightningProvider implements LightningProvider {
  readonly name: string;
  /** This mock's node public key (66 hex), the payee of its invoices. */
  readonly nodePubkey: string;
  readonly #nodeKey = secp256k1.utils.randomSecretKey();
  readonly #net: MockLightningNetwork;
  readonly #options: MockProviderOptions;

  constructor(options: MockProviderOptions = {}) {
    this.#options = options;
    this.#net = options.mockNetwork ?? sharedMockNetwork;
    this.nodePubkey = bytesToHex(secp256k1.getPublicKey(this.#nodeKey, true));
    this.name = options.name ?? `mock-${this.nodePubkey.slice(0, 8)}`;
    if (options.balanceMsat !== undefined)
      this.#net.setBalance(this.nodePubkey, options.balanceMsat);
  }

  /** This mock's balance in msat, or null when unlimited. */
  balanceMsat(): number | null {
    return this.#net.balance(this.nodePubkey);
  }

  /** Issues a signed BOLT11 invoice on the mock network. */
  async createInvoice(args: CreateInvoiceArgs): Promise<ProviderInvoice> {
    const preimage = randomBytes(32);
    return this.#issue(args, bytesToHex(sha256(preimage)), bytesToHex(preimage));
  }

  /** Pays another mock's invoice; resolves with its real preimage. */
  async payInvoice(args: PayInvoiceArgs): Promise<PaymentResult> {
    const { failOnPay, paymentDelay } = this.#options;
    if (failOnPay instanceof LightningError) throw failOnPay;
    if (failOnPay) throw new LightningError("payment_failed", "The mock was told to fail.");
    let decoded: DecodedInvoice;
    try {
      decoded = decodeInvoice(args.invoice);
    } catch (err) {
      throw new LightningError("invalid_request", "Not a valid BOLT11 invoice.", { cause: err });
    }
    if (decoded.network !== (this.#options.network ?? "regtest"))
      throw new LightningError("invalid_request", `The invoice is for ${decoded.network}.`);
    if (paymentDelay) await new Promise((resolve) => setTimeout(resolve, paymentDelay));
    const preimage = await this.#net.pay(this.nodePubkey, decoded, args.amountMsat);
    return { preimage, feesPaidMsat: 0 };
  }

  /** The state of an invoice this mock issued or paid; throws `not_found` otherwise. */
  async lookupInvoice(paymentHash: string): Promise<InvoiceState> {
    const invoice = this.#net.find(this.nodePubkey, paymentHash);
    if (!invoice) throw new LightningError("not_found", "This mock has no such invoice.");
    const { decoded } = invoice;
    const expired = invoice.state === "pending" && this.#net.now() >= decoded.expiresAt;
    // autoSettle: as if paid from outside the mock network, so simple tests need no payer.
    const auto = this.#options.autoSettle !== false && invoice.payee === this.nodePubkey;
    if (auto && !invoice.hold && invoice.state === "pending" && !expired)
      this.#net.settle(invoice, invoice.preimage ?? "");
    const state = expired ? "expired" : invoice.state;
    const amountMsat = invoice.paidMsat ?? decoded.amountMsat;
    return {
      paymentHash,
      state,
      ...(state === "settled" && invoice.preimage !== null ? { preimage: invoice.preimage } : {}),
      ...(invoice.settledAt !== null ? { settledAt: invoice.settledAt } : {}),
      ...(amountMsat !== null ? { amountMsat } : {}),
    };
  }

  /** A payment this mock sent, by hash; `unknown` when it paid none (its own invoices included). */
  async lookupPayment(paymentHash: string): Promise<OutgoingPaymentState> {
    const invoice = this.#net.find(this.nodePubkey, paymentHash);
    if (!invoice || invoice.payer !== this.nodePubkey) return { state: "unknown" };
    if (invoice.state === "settled" && invoice.preimage !== null)
      return { state: "succeeded", preimage: invoice.preimage, feesPaidMsat: 0 };
    return { state: invoice.state === "canceled" ? "failed" : "pending" };
  }

  /** The chain this mock's invoices are for. */
  async getNetwork(): Promise<Bolt11Network> {
    return this.#options.network ?? "regtest";
  }

  /** Issues a hold invoice for a caller-chosen hash; payments wait for settle or cancel. */
  async createHoldInvoice(args: CreateInvoiceArgs & { paymentHash: string }) {
    if (!/^[0-9a-f]{64}$/.test(args.paymentHash))
      throw new LightningError("invalid_request", "paymentHash must be 64 lowercase hex.");
    return this.#issue(args, args.paymentHash, null);
  }

  /** Settles an accepted hold invoice of this mock: the payer's payment completes. */
  async settleHoldInvoice(preimage: string): Promise<void> {
    if (!/^[0-9a-f]{64}$/.test(preimage))
      throw new LightningError("invalid_request", "preimage must be 64 lowercase hex.");
    this.#net.resolveHold(this.nodePubkey, bytesToHex(sha256(hexToBytes(preimage))), preimage);
  }

  /** Cancels a hold invoice of this mock; a held payment fails and is refunded. */
  async cancelHoldInvoice(paymentHash: string): Promise<void> {
    this.#net.resolveHold(this.nodePubkey, paymentHash, null);
  }

  #issue(args: CreateInvoiceArgs, paymentHash: string, preimage: string | null): ProviderInvoice {
    const amountMsat = args.amountMsat === 0 ? null : args.amountMsat;
    if (amountMsat !== null && (!Number.isSafeInteger(amountMsat) || amountMsat < 0))
      throw new LightningError("invalid_request", "amountMsat must be a whole number >= 0.");
    const invoice = encodeInvoice(
      {
        network: this.#options.network ?? "regtest",
        amountMsat,
        timestamp: this.#net.now(),
        paymentHash,
        paymentSecret: bytesToHex(randomBytes(32)),
        description: args.description ?? "",
        ...(args.expirySecs !== undefined ? { expirySecs: args.expirySecs } : {}),
      },
      this.#nodeKey,
    );
    const decoded = decodeInvoice(invoice);
    this.#net.add(this.nodePubkey, decoded, preimage);
    return { invoice, paymentHash, amountMsat, expiresAt: decoded.expiresAt };
  }
}
