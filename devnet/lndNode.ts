import { decodeInvoice } from "../src/protocol/bolt11/Bolt11.ts";
import { type Ledger, LedgerError, type Nip47Transaction } from "./ledger.ts";

/**
 * What the LND stand-ins (REST in `./lnd.ts`, gRPC in `./lndGrpc.ts`) answer, apart from
 * how they put it on the wire: one devnet wallet seen as an LND node, with LND's states,
 * failure reasons, refusals (as gRPC status codes and LND's messages) and macaroon check.
 * NOT LND and not a Lightning node: money moves on the devnet `Ledger`.
 */

/** gRPC status codes LND answers with (the REST gateway maps them to HTTP statuses). */
export const Code = { UNKNOWN: 2, INVALID_ARGUMENT: 3, NOT_FOUND: 5, ALREADY_EXISTS: 6 } as const;

/** A refusal as LND gives it: a gRPC status code and LND's message. */
export class LndRefusal extends Error {
  readonly code: number;
  constructor(code: number, message: string) {
    super(message);
    this.name = "LndRefusal";
    this.code = code;
  }
}

/** LND's invoice fields, transport-neutral: hashes as hex, amounts in msat, times in seconds. */
export type NodeInvoice = {
  memo: string;
  preimage: string;
  paymentHash: string;
  valueMsat: number;
  settled: boolean;
  creationDate: number;
  settleDate: number;
  paymentRequest: string;
  expiry: number;
  amtPaidMsat: number;
  state: "OPEN" | "ACCEPTED" | "SETTLED" | "CANCELED";
};

/** An added invoice: AddInvoiceResponse / AddHoldInvoiceResp. */
export type AddedInvoice = {
  paymentHash: string;
  paymentRequest: string;
  addIndex: number;
  paymentAddr: string;
};

/** A payment update of SendPaymentV2's stream (lnrpc.Payment). */
export type NodePayment = {
  paymentHash: string;
  status: "IN_FLIGHT" | "SUCCEEDED" | "FAILED";
  preimage: string;
  valueMsat: number;
  feeMsat: number;
  failureReason: string;
};

/** AddInvoice's arguments, as LND reads them. */
export type InvoiceRequest = {
  valueMsat: number;
  memo: string;
  expirySecs: number;
  descriptionHash?: string;
};

/** Refuses a missing or wrong macaroon as LND does: UNKNOWN with its interceptor's message (lnd#2332). */
export function checkMacaroon(given: string | undefined, expected: string): void {
  if (given === undefined) throw new LndRefusal(Code.UNKNOWN, "expected 1 macaroon, got 0");
  if (given !== expected)
    throw new LndRefusal(
      Code.UNKNOWN,
      "verification failed: signature mismatch after caveat verification",
    );
}

/** One devnet wallet answering as an LND node. */
export class LndStandInNode {
  readonly #ledger: Ledger;
  readonly #wallet: string;
  #addIndex = 0;

  constructor(ledger: Ledger, wallet: string) {
    this.#ledger = ledger;
    this.#wallet = wallet;
  }

  /** GetInfo: the node's key and its (regtest) chain. */
  getInfo() {
    return {
      identityPubkey: this.#ledger.nodePubkey(this.#wallet),
      alias: `devnet-lnd-${this.#wallet}`,
      version: "devnet-stand-in",
      syncedToChain: true,
      blockHeight: 1,
      network: "regtest",
    };
  }

  /** AddInvoice. A description hash replaces the memo in the invoice, as in LND. */
  addInvoice(request: InvoiceRequest): AddedInvoice {
    return this.#added(this.#ledger.makeInvoice(this.#wallet, ledgerRequest(request)));
  }

  /** AddHoldInvoice for the caller's payment hash. */
  addHoldInvoice(request: InvoiceRequest & { paymentHash: string }): AddedInvoice {
    const { paymentHash } = request;
    return this.#added(
      this.#ledger.makeHoldInvoice(this.#wallet, { ...ledgerRequest(request), paymentHash }),
    );
  }

  /** SettleInvoice with the preimage. */
  settleInvoice(preimage: string): void {
    this.#ledger.settleHoldInvoice(this.#wallet, preimage);
  }

  /** CancelInvoice by payment hash. */
  cancelInvoice(paymentHash: string): void {
    this.#ledger.cancelHoldInvoice(this.#wallet, paymentHash);
  }

  /** LookupInvoice: this node's own invoices only. */
  lookupInvoice(paymentHash: string): NodeInvoice {
    const tx = attempt(() => this.#ledger.lookup(this.#wallet, { paymentHash }));
    if (tx?.type !== "incoming") throw new LndRefusal(Code.NOT_FOUND, "unable to locate invoice");
    const state = { pending: "OPEN", accepted: "ACCEPTED", settled: "SETTLED" } as const;
    return {
      memo: tx.description,
      preimage: tx.preimage,
      paymentHash: tx.payment_hash,
      valueMsat: tx.amount,
      settled: tx.state === "settled",
      creationDate: tx.created_at,
      settleDate: tx.settled_at ?? 0,
      paymentRequest: tx.invoice,
      expiry: tx.expires_at - tx.created_at,
      amtPaidMsat: tx.state === "settled" ? tx.amount : 0,
      // LND cancels invoices that expire unpaid.
      state: state[tx.state as keyof typeof state] ?? "CANCELED",
    };
  }

  /**
   * SendPaymentV2: refuses up front what LND's pre-flight checks refuse (throws
   * LndRefusal); otherwise the first IN_FLIGHT update and the final one to come.
   */
  async sendPayment(
    invoice: string,
    amtMsat: number | undefined,
  ): Promise<{ first: NodePayment; final: Promise<NodePayment> }> {
    const outcome = this.#ledger.payInvoice(this.#wallet, invoice, amtMsat).then(
      (tx) => ({ tx }),
      (err: unknown) => ({ err }),
    );
    // The ledger's checks run before its first await: a payment that cannot start has
    // failed by the next macrotask, as LND's pre-flight checks fail before streaming.
    const early = await Promise.race([outcome, new Promise<null>((r) => setImmediate(r, null))]);
    if (early && "err" in early) {
      const refusal = this.#preflight(early.err, invoice);
      if (refusal) throw refusal;
    }
    const paymentHash = attempt(() => decodeInvoice(invoice))?.paymentHash ?? "";
    const update = (fields: Partial<NodePayment>): NodePayment => ({
      paymentHash,
      status: "IN_FLIGHT",
      preimage: "",
      valueMsat: 0,
      feeMsat: 0,
      failureReason: "FAILURE_REASON_NONE",
      ...fields,
    });
    const final = (early ? Promise.resolve(early) : outcome).then((done) =>
      "tx" in done
        ? update({
            status: "SUCCEEDED",
            preimage: done.tx.preimage,
            valueMsat: done.tx.amount,
            feeMsat: done.tx.fees_paid,
          })
        : update({ status: "FAILED", failureReason: failureReason(done.err) }),
    );
    return { first: update({}), final };
  }

  /** LND refuses these before any HTLC leaves (routerrpc's request checks). */
  #preflight(err: unknown, invoice: string): LndRefusal | null {
    if (!(err instanceof LedgerError)) return asRefusal(err);
    if (err.code === "OTHER") return new LndRefusal(Code.UNKNOWN, err.message);
    if (/expired/.test(err.message)) {
      const expiresAt = attempt(() => decodeInvoice(invoice))?.expiresAt ?? 0;
      const until = new Date(expiresAt * 1000).toISOString();
      return new LndRefusal(Code.UNKNOWN, `invoice expired. Valid until ${until}`);
    }
    if (/not for regtest/.test(err.message))
      return new LndRefusal(Code.UNKNOWN, "invoice not for current active network 'regtest'");
    if (/already/.test(err.message)) {
      // LND's own payment database: a node refuses to pay what it already paid.
      const tx = attempt(() => this.#ledger.lookup(this.#wallet, { invoice }));
      const mine = tx?.type === "outgoing" ? tx : null;
      if (mine?.state === "settled")
        return new LndRefusal(Code.ALREADY_EXISTS, "invoice is already paid");
      if (mine?.state === "accepted")
        return new LndRefusal(Code.ALREADY_EXISTS, "payment is in transition");
    }
    return null;
  }

  #added(tx: Nip47Transaction): AddedInvoice {
    return {
      paymentHash: tx.payment_hash,
      paymentRequest: tx.invoice,
      addIndex: ++this.#addIndex,
      paymentAddr: decodeInvoice(tx.invoice).paymentSecret ?? "",
    };
  }
}

/** A ledger error (or any other) as LND's refusal of a unary call. */
export function asRefusal(err: unknown): LndRefusal {
  if (err instanceof LndRefusal) return err;
  if (err instanceof LedgerError && err.code === "NOT_FOUND")
    return new LndRefusal(Code.NOT_FOUND, "unable to locate invoice");
  return new LndRefusal(Code.UNKNOWN, err instanceof Error ? err.message : "internal error");
}

function ledgerRequest(request: InvoiceRequest) {
  return {
    amountMsat: request.valueMsat,
    expirySecs: request.expirySecs || 86_400, // LND's default for 0

    ...(request.descriptionHash
      ? { descriptionHash: request.descriptionHash }
      : { description: request.memo }),
  };
}

function failureReason(err: unknown): string {
  if (!(err instanceof LedgerError)) return "FAILURE_REASON_ERROR";
  if (err.code === "INSUFFICIENT_BALANCE") return "FAILURE_REASON_INSUFFICIENT_BALANCE";
  if (/no route|self-payments/.test(err.message)) return "FAILURE_REASON_NO_ROUTE";
  // The payee rejected the HTLC: an invoice already paid or canceled by its payee.
  return "FAILURE_REASON_INCORRECT_PAYMENT_DETAILS";
}

/** The result of `run`, or null if it throws. */
export function attempt<T>(run: () => T): T | null {
  try {
    return run();
  } catch {
    return null;
  }
}
