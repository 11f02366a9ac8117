import { ProblemError, UnavailableError } from "../../protocol/Errors.ts";
import type { Store } from "../../store/Store.ts";
import { claimInvoiceIndex } from "../registry.ts";
import type { InvoiceBook } from "./InvoiceBook.ts";
import { checkIssued } from "./issued.ts";
import type { WalletRecord } from "./registration.ts";
import type { InvoiceInput, IssuedInvoice } from "./types.ts";
import type { WalletWatch } from "./WalletWatch.ts";

/** What issuing needs from the merchant's object. */
export type IssueDeps = {
  wallet: WalletRecord;
  watch: WalletWatch;
  store: Store;
  book: InvoiceBook;
  /** How long past expiry the index entry (and the book's entry) are kept. */
  retentionSecs: number;
};

/**
 * Issues an invoice through the merchant's wallet, checks it (signature, hash, amount,
 * network, node key, expiry, description hash), claims its payment hash in the global
 * index (put-if-absent) and records it in the book, in that order: nothing is recorded
 * for a hash another merchant already owns, or when the index cannot be written.
 */
export async function issueInvoice(deps: IssueDeps, input: InvoiceInput): Promise<IssuedInvoice> {
  const { wallet, book } = deps;
  const tx = await deps.watch.ask("create an invoice", (client) =>
    client.makeInvoice({
      amountMsat: input.amountMsat,
      expirySecs: input.expirySecs,
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.descriptionHash !== undefined ? { descriptionHash: input.descriptionHash } : {}),
    }),
  );
  const nowSecs = Math.floor(Date.now() / 1000);
  const decoded = checkIssued(
    tx.invoice,
    tx.paymentHash,
    input.amountMsat,
    wallet,
    nowSecs,
    input.descriptionHash ?? null,
  );
  const ttlSecs = decoded.expiresAt - nowSecs + deps.retentionSecs;
  let owned: boolean;
  try {
    owned = await claimInvoiceIndex(deps.store, decoded.paymentHash, wallet.merchantId, ttlSecs);
  } catch (err) {
    if (err instanceof ProblemError) throw err;
    throw new UnavailableError(
      "store-unavailable",
      "Store unavailable",
      "The invoice could not be indexed, so it was not issued. Try again shortly.",
      { headers: { "Retry-After": "2" } },
    );
  }
  if (!owned) {
    throw new ProblemError(
      502,
      "wallet-bad-invoice",
      "Wallet returned a bad invoice",
      "The merchant's wallet returned an invoice whose payment hash belongs to another ln402 invoice; it was not issued.",
    );
  }
  book.add({
    paymentHash: decoded.paymentHash,
    invoice: decoded.invoice,
    amountMsat: input.amountMsat,
    description: input.description ?? null,
    descriptionHash: input.descriptionHash ?? null,
    createdAt: decoded.timestamp,
    expiresAt: decoded.expiresAt,
    checkedAtMs: Date.now(),
  });
  return {
    invoice: decoded.invoice,
    paymentHash: decoded.paymentHash,
    amountMsat: input.amountMsat,
    expiresAt: decoded.expiresAt,
  };
}
