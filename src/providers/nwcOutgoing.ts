import type { NwcTransaction } from "../protocol/nip47/Messages.ts";
import { NwcWalletError } from "../protocol/nip47/NwcErrors.ts";
import { proves } from "../protocol/Preimage.ts";
import { ConnectionError } from "./errors.ts";
import type { OutgoingPaymentState } from "./LightningProvider.ts";

/**
 * An outgoing payment's state from a NIP-47 `lookup_invoice` by payment hash, shared by
 * the NWC provider and the gateway's wallet: only a transaction of `type: "outgoing"` is
 * a payment (an invoice the wallet issued, settled or not, is not); `NOT_FOUND` means it
 * never paid it. A settled payment counts only with a preimage that hashes to the hash.
 * Throws when the wallet's answer cannot tell (no `type`, another hash, no valid preimage).
 */
export async function lookupOutgoing(
  lookup: () => Promise<NwcTransaction>,
  paymentHash: string,
): Promise<OutgoingPaymentState> {
  let tx: NwcTransaction;
  try {
    tx = await lookup();
  } catch (err) {
    if (err instanceof NwcWalletError && err.kind === "not_found") return { state: "unknown" };
    throw err;
  }
  if (tx.paymentHash !== paymentHash.toLowerCase())
    throw new ConnectionError("The wallet answered about another payment.");
  if (tx.type === undefined)
    throw new ConnectionError("The wallet does not say whether it paid or issued this invoice.");
  if (tx.type !== "outgoing") return { state: "unknown" };
  const fees = tx.feesPaidMsat === undefined ? {} : { feesPaidMsat: tx.feesPaidMsat };
  switch (tx.state) {
    case "settled":
      if (tx.preimage === undefined || !proves(tx.preimage, paymentHash))
        throw new ConnectionError("The wallet reports the payment settled without its preimage.");
      return { state: "succeeded", preimage: tx.preimage.toLowerCase(), ...fees };
    case "failed":
    case "expired":
      return { state: "failed" };
    case "pending":
    case "accepted":
      return { state: "pending" };
    default:
      // No state: a valid preimage is the proof; anything else may still be in flight.
      if (tx.preimage !== undefined && proves(tx.preimage, paymentHash))
        return { state: "succeeded", preimage: tx.preimage.toLowerCase(), ...fees };
      return { state: "pending" };
  }
}
