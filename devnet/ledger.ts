import { secp256k1 } from "@noble/curves/secp256k1.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, randomBytes } from "@noble/hashes/utils.js";
import {
  type DecodedInvoice,
  decodeInvoice,
  encodeInvoice,
} from "../src/protocol/bolt11/Bolt11.ts";

/**
 * The devnet's simulated ledger: the money side of an offline Lightning network.
 * Every wallet is its own node (its own node key signs its invoices); payments move
 * balances between wallets instantly and reveal the preimage, as a settled HTLC does.
 * Invoices are real, signature-valid regtest (or, per node, testnet) BOLT11 strings;
 * payments stay within one network. This is a simulation:
 * no channels, routing or on-chain funds exist.
 */

/** NIP-47 error codes the ledger can produce. */
export type LedgerErrorCode = "INSUFFICIENT_BALANCE" | "PAYMENT_FAILED" | "NOT_FOUND" | "OTHER";

/** A refusal with its NIP-47 error code. */
export class LedgerError extends Error {
  readonly code: LedgerErrorCode;
  constructor(code: LedgerErrorCode, message: string) {
    super(message);
    this.name = "LedgerError";
    this.code = code;
  }
}

/** NIP-47 transaction states. */
export type TxState = "pending" | "accepted" | "settled" | "expired" | "failed";

/** A NIP-47 transaction object (the shape of lookup_invoice and list_transactions). */
export type Nip47Transaction = {
  type: "incoming" | "outgoing";
  state: TxState;
  invoice: string;
  description: string;
  description_hash: string;
  preimage: string;
  payment_hash: string;
  amount: number;
  fees_paid: number;
  created_at: number;
  expires_at: number;
  settled_at: number | null;
  settle_deadline?: number;
  metadata: Record<string, unknown>;
};

/** What a wallet is told about; the wallet service turns these into NIP-47 notifications. */
export type LedgerNotification = {
  wallet: string;
  type: "payment_received" | "payment_sent" | "hold_invoice_accepted";
  transaction: Nip47Transaction;
};

type Invoice = {
  decoded: DecodedInvoice;
  payee: string;
  preimage: string | null;
  hold: boolean;
  state: "pending" | "accepted" | "settled" | "failed";
  paidMsat: number | null;
  payer: string | null;
  createdAt: number;
  settledAt: number | null;
  holdOutcome: ((preimage: string | null) => void) | null;
};

/** The networks a devnet node signs invoices for: never mainnet. */
export type DevnetNetwork = "regtest" | "testnet";

type Account = {
  balanceMsat: number;
  nodeKey: Uint8Array;
  nodePubkey: string;
  network: DevnetNetwork;
};

/** Arguments of make_invoice / make_hold_invoice (NIP-47 units: msat, seconds). */
export type InvoiceRequest = {
  amountMsat: number;
  description?: string;
  descriptionHash?: string;
  expirySecs?: number;
};

/** The ledger shared by all devnet wallets. */
export class Ledger {
  private readonly accounts = new Map<string, Account>();
  private readonly invoices = new Map<string, Invoice>();
  private readonly listeners = new Set<(n: LedgerNotification) => void>();
  private readonly nowMs: () => number;

  constructor(now: () => number = Date.now) {
    this.nowMs = now;
  }

  /** Opens an account (a node) with a fresh node key, signing invoices for `network`. */
  openAccount(
    wallet: string,
    balanceMsat = 0,
    network: DevnetNetwork = "regtest",
  ): { nodePubkey: string } {
    if (this.accounts.has(wallet)) throw new Error(`devnet wallet ${wallet} already exists`);
    const nodeKey = secp256k1.utils.randomSecretKey();
    const nodePubkey = bytesToHex(secp256k1.getPublicKey(nodeKey, true));
    this.accounts.set(wallet, {
      balanceMsat: checkMsat(balanceMsat),
      nodeKey,
      nodePubkey,
      network,
    });
    return { nodePubkey };
  }

  /** The network `wallet`'s node signs invoices for. */
  network(wallet: string): DevnetNetwork {
    return this.account(wallet).network;
  }

  /** Adds funds from outside the network (a faucet). */
  fund(wallet: string, amountMsat: number): number {
    const account = this.account(wallet);
    account.balanceMsat += checkMsat(amountMsat);
    return account.balanceMsat;
  }

  /** The wallet's spendable balance in msat. */
  balance(wallet: string): number {
    return this.account(wallet).balanceMsat;
  }

  /** Subscribes to notifications for every wallet; returns the unsubscribe function. */
  onNotification(listener: (n: LedgerNotification) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Issues an invoice whose payment hash is sha256 of a fresh random preimage. */
  makeInvoice(payee: string, request: InvoiceRequest): Nip47Transaction {
    const preimage = randomBytes(32);
    const invoice = this.issue(payee, request, bytesToHex(sha256(preimage)), false);
    invoice.preimage = bytesToHex(preimage);
    return this.toTransaction(invoice, "incoming");
  }

  /** Issues a hold invoice for a caller-chosen payment hash; the preimage stays with the caller. */
  makeHoldInvoice(
    payee: string,
    request: InvoiceRequest & { paymentHash: string },
  ): Nip47Transaction {
    if (!/^[0-9a-f]{64}$/.test(request.paymentHash)) {
      throw new LedgerError("OTHER", "payment_hash must be 64 lowercase hex characters");
    }
    if (this.invoices.has(request.paymentHash)) {
      throw new LedgerError("OTHER", "an invoice with this payment_hash already exists");
    }
    return this.toTransaction(this.issue(payee, request, request.paymentHash, true), "incoming");
  }

  /**
   * Pays a BOLT11 invoice of another devnet wallet. Resolves with the preimage once
   * settled; for a hold invoice that is when the payee settles it (as an HTLC stays
   * in flight on a real network), and a cancel fails the payment and refunds.
   */
  async payInvoice(payer: string, bolt11: string, amountMsat?: number): Promise<Nip47Transaction> {
    const payerAccount = this.account(payer);
    let decoded: DecodedInvoice;
    try {
      decoded = decodeInvoice(bolt11);
    } catch (err) {
      throw new LedgerError("OTHER", `not a valid BOLT11 invoice: ${(err as Error).message}`);
    }
    const invoice = this.invoices.get(decoded.paymentHash);
    if (!invoice || invoice.decoded.payeeNodeKey !== decoded.payeeNodeKey) {
      throw new LedgerError(
        "PAYMENT_FAILED",
        "no route to the invoice's node (not a devnet invoice)",
      );
    }
    if (invoice.payee === payer)
      throw new LedgerError("PAYMENT_FAILED", "self-payments are not supported");
    if (decoded.network !== payerAccount.network) {
      throw new LedgerError(
        "PAYMENT_FAILED",
        `invoice is for ${decoded.network}; this wallet pays on ${payerAccount.network}`,
      );
    }
    if (invoice.state !== "pending") {
      throw new LedgerError(
        "PAYMENT_FAILED",
        `invoice is already ${invoice.state === "failed" ? "canceled" : "paid"}`,
      );
    }
    if (this.now() >= decoded.expiresAt)
      throw new LedgerError("PAYMENT_FAILED", "invoice has expired");
    const fixed = decoded.amountMsat;
    if (fixed === null && amountMsat === undefined) {
      throw new LedgerError("OTHER", "invoice has no amount: pass `amount` in msat");
    }
    if (fixed !== null && amountMsat !== undefined && amountMsat !== fixed) {
      throw new LedgerError(
        "OTHER",
        `amount ${amountMsat} msat does not match the invoice's ${fixed} msat`,
      );
    }
    const paying = checkMsat(fixed ?? amountMsat ?? 0);
    if (paying <= 0) throw new LedgerError("OTHER", "amount must be positive");
    if (payerAccount.balanceMsat < paying) {
      throw new LedgerError(
        "INSUFFICIENT_BALANCE",
        `balance ${payerAccount.balanceMsat} msat is less than ${paying} msat`,
      );
    }

    // The HTLC: the payer's funds are locked from here on.
    payerAccount.balanceMsat -= paying;
    invoice.paidMsat = paying;
    invoice.payer = payer;
    if (invoice.hold) {
      invoice.state = "accepted";
      const settled = new Promise<string | null>((resolve) => {
        invoice.holdOutcome = resolve;
      });
      this.notify(invoice.payee, "hold_invoice_accepted", invoice, "incoming");
      const preimage = await settled;
      if (preimage === null)
        throw new LedgerError("PAYMENT_FAILED", "the payee canceled the hold invoice");
    } else {
      this.settle(invoice, invoice.preimage ?? "");
    }
    return this.toTransaction(invoice, "outgoing");
  }

  /** Settles an accepted hold invoice of `payee` with its preimage. */
  settleHoldInvoice(payee: string, preimageHex: string): void {
    if (!/^[0-9a-f]{64}$/.test(preimageHex))
      throw new LedgerError("OTHER", "preimage must be 64 lowercase hex");
    const invoice = this.invoices.get(bytesToHex(sha256(hexToBytes(preimageHex))));
    if (!invoice || invoice.payee !== payee || !invoice.hold) {
      throw new LedgerError("NOT_FOUND", "no hold invoice of this wallet has that preimage");
    }
    if (invoice.state !== "accepted") {
      throw new LedgerError("OTHER", `hold invoice is ${invoice.state}, not accepted`);
    }
    this.settle(invoice, preimageHex);
  }

  /** Cancels a hold invoice of `payee`; an accepted payment is returned to its payer. */
  cancelHoldInvoice(payee: string, paymentHash: string): void {
    const invoice = this.invoices.get(paymentHash);
    if (!invoice || invoice.payee !== payee || !invoice.hold) {
      throw new LedgerError("NOT_FOUND", "no hold invoice of this wallet has that payment_hash");
    }
    if (invoice.state === "settled")
      throw new LedgerError("OTHER", "hold invoice is already settled");
    if (invoice.state === "accepted" && invoice.payer !== null) {
      this.account(invoice.payer).balanceMsat += invoice.paidMsat ?? 0;
    }
    invoice.state = "failed";
    invoice.holdOutcome?.(null);
    invoice.holdOutcome = null;
  }

  /** lookup_invoice: an invoice this wallet issued or paid, by hash or BOLT11. */
  lookup(wallet: string, by: { paymentHash?: string; invoice?: string }): Nip47Transaction {
    let hash = by.paymentHash;
    if (hash === undefined && by.invoice !== undefined) {
      try {
        hash = decodeInvoice(by.invoice).paymentHash;
      } catch {
        throw new LedgerError("OTHER", "invoice is not a valid BOLT11 string");
      }
    }
    const invoice = hash === undefined ? undefined : this.invoices.get(hash);
    if (invoice?.payee === wallet) return this.toTransaction(invoice, "incoming");
    if (invoice?.payer === wallet) return this.toTransaction(invoice, "outgoing");
    throw new LedgerError("NOT_FOUND", "invoice not found");
  }

  /** list_transactions, newest first. */
  listTransactions(
    wallet: string,
    query: {
      from?: number;
      until?: number;
      limit?: number;
      offset?: number;
      unpaid?: boolean;
      type?: string;
    },
  ): Nip47Transaction[] {
    const all: Nip47Transaction[] = [];
    for (const invoice of this.invoices.values()) {
      if (invoice.payee === wallet) all.push(this.toTransaction(invoice, "incoming"));
      if (invoice.payer === wallet) all.push(this.toTransaction(invoice, "outgoing"));
    }
    return all
      .filter((tx) => query.unpaid === true || tx.state === "settled" || tx.type === "outgoing")
      .filter((tx) => query.type === undefined || tx.type === query.type)
      .filter((tx) => query.from === undefined || tx.created_at >= query.from)
      .filter((tx) => query.until === undefined || tx.created_at <= query.until)
      .sort((a, b) => b.created_at - a.created_at)
      .slice(query.offset ?? 0, (query.offset ?? 0) + (query.limit ?? 50));
  }

  /** The node public key that signs `wallet`'s invoices. */
  nodePubkey(wallet: string): string {
    return this.account(wallet).nodePubkey;
  }

  /**
   * A lying wallet's invoice (a fault for tests): validly signed by `payee`'s node for a
   * payment hash it holds no preimage for (someone else's), and never recorded.
   */
  forgeInvoice(payee: string, request: InvoiceRequest, paymentHash: string): Nip47Transaction {
    return this.toTransaction(this.draft(payee, request, paymentHash, false), "incoming");
  }

  private issue(
    payee: string,
    request: InvoiceRequest,
    paymentHash: string,
    hold: boolean,
  ): Invoice {
    const invoice = this.draft(payee, request, paymentHash, hold);
    this.invoices.set(paymentHash, invoice);
    return invoice;
  }

  private draft(
    payee: string,
    request: InvoiceRequest,
    paymentHash: string,
    hold: boolean,
  ): Invoice {
    const account = this.account(payee);
    const amountMsat = checkMsat(request.amountMsat);
    const expirySecs = request.expirySecs ?? 3600;
    if (request.descriptionHash !== undefined && !/^[0-9a-f]{64}$/.test(request.descriptionHash)) {
      throw new LedgerError("OTHER", "description_hash must be 64 lowercase hex characters");
    }
    if (!Number.isSafeInteger(expirySecs) || expirySecs <= 0) {
      throw new LedgerError("OTHER", "expiry must be a positive whole number of seconds");
    }
    const bolt11 = encodeInvoice(
      {
        network: account.network,
        amountMsat: amountMsat === 0 ? null : amountMsat,
        timestamp: this.now(),
        paymentHash,
        paymentSecret: bytesToHex(randomBytes(32)),
        // NIP-47 make_invoice: a description_hash is signed as `h`, and no `d` is written.
        ...(request.descriptionHash !== undefined
          ? { descriptionHash: request.descriptionHash }
          : { description: request.description ?? "" }),
        expirySecs,
      },
      account.nodeKey,
    );
    const invoice: Invoice = {
      decoded: decodeInvoice(bolt11),
      payee,
      preimage: null,
      hold,
      state: "pending",
      paidMsat: null,
      payer: null,
      createdAt: this.now(),
      settledAt: null,
      holdOutcome: null,
    };
    return invoice;
  }

  private settle(invoice: Invoice, preimage: string): void {
    invoice.preimage = preimage;
    invoice.state = "settled";
    invoice.settledAt = this.now();
    this.account(invoice.payee).balanceMsat += invoice.paidMsat ?? 0;
    invoice.holdOutcome?.(preimage);
    invoice.holdOutcome = null;
    this.notify(invoice.payee, "payment_received", invoice, "incoming");
    if (invoice.payer !== null) this.notify(invoice.payer, "payment_sent", invoice, "outgoing");
  }

  private notify(
    wallet: string,
    type: LedgerNotification["type"],
    invoice: Invoice,
    dir: "incoming" | "outgoing",
  ) {
    const transaction = this.toTransaction(invoice, dir);
    for (const listener of this.listeners) listener({ wallet, type, transaction });
  }

  private toTransaction(invoice: Invoice, type: "incoming" | "outgoing"): Nip47Transaction {
    const d = invoice.decoded;
    const expired = invoice.state === "pending" && this.now() >= d.expiresAt;
    // The payer learns the preimage only once settled; the payee always knows its own.
    const showPreimage = invoice.state === "settled" || (type === "incoming" && !invoice.hold);
    return {
      type,
      state: expired ? "expired" : invoice.state,
      invoice: d.invoice,
      description: d.description ?? "",
      description_hash: d.descriptionHash ?? "",
      preimage: showPreimage ? (invoice.preimage ?? "") : "",
      payment_hash: d.paymentHash,
      amount: invoice.paidMsat ?? d.amountMsat ?? 0,
      fees_paid: 0,
      created_at: invoice.createdAt,
      expires_at: d.expiresAt,
      settled_at: invoice.settledAt,
      metadata: {},
    };
  }

  private account(wallet: string): Account {
    const account = this.accounts.get(wallet);
    if (!account) throw new Error(`no devnet wallet named ${wallet}`);
    return account;
  }

  private now(): number {
    return Math.floor(this.nowMs() / 1000);
  }
}

function checkMsat(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LedgerError("OTHER", "amount must be a non-negative whole number of msat");
  }
  return value;
}
