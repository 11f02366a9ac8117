import { type DecodedInvoice, decodeInvoice } from "../../protocol/bolt11/Bolt11.ts";
import { tagCensus } from "../../protocol/bolt11/Census.ts";
import { ProblemError } from "../../protocol/Errors.ts";
import type { WalletRecord } from "./registration.ts";

/**
 * Checks an invoice the merchant's wallet just returned before ln402 records or hands it
 * out: a valid signed BOLT11, the reported payment hash, the requested amount, the
 * wallet's network and node, and not already expired. A wallet that answers otherwise
 * is faulty (or lying): 502, and nothing is recorded.
 */
export function checkIssued(
  invoice: string,
  paymentHash: string,
  amountMsat: number,
  wallet: WalletRecord,
  nowSecs: number,
  descriptionHash: string | null = null,
): DecodedInvoice {
  const mismatch = (what: string) =>
    new ProblemError(
      502,
      "wallet-bad-invoice",
      "Wallet returned a bad invoice",
      `The merchant's wallet returned an invoice whose ${what}; it was not issued.`,
    );
  let decoded: DecodedInvoice;
  try {
    decoded = decodeInvoice(invoice);
  } catch {
    throw mismatch("BOLT11 encoding is invalid");
  }
  if (decoded.paymentHash !== paymentHash)
    throw mismatch("payment hash differs from the one reported");
  if (decoded.amountMsat !== amountMsat) throw mismatch(`amount is not ${amountMsat} msat`);
  if (decoded.network !== wallet.network) throw mismatch(`network is not ${wallet.network}`);
  if (wallet.nodePubkey !== null && decoded.payeeNodeKey !== wallet.nodePubkey) {
    throw mismatch("payee is not the wallet's node");
  }
  if (decoded.expiresAt <= nowSecs) throw mismatch("expiry is already past");
  if (descriptionHash !== null) {
    // x402 lnbtc binds the request by the `h` field: exactly that hash, and no `d`.
    const census = tagCensus(invoice);
    if (
      decoded.descriptionHash !== descriptionHash ||
      census.descriptionHashes !== 1 ||
      census.descriptions !== 0
    ) {
      throw mismatch("description hash is not exactly the one requested (or it has a description)");
    }
  }
  return decoded;
}
