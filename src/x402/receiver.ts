import { decodeInvoice } from "../protocol/bolt11/Bolt11.ts";
import { tagCensus } from "../protocol/bolt11/Census.ts";
import { InvoiceSourceError, ln402Invoices } from "./invoices.ts";

/**
 * A receiver adapter in the shape of the x402 lnbtc reference package's
 * `LightningReceiver` (scheme_exact_lnbtc §Terminology and Adapter Requirements: a fresh
 * invoice for an exact msat amount with a caller-supplied description hash), backed by
 * ln402's `POST /invoice` so the merchant's NWC wallet issues it and ln402's invoice
 * book records it (§Receiver Key Isolation 2.1).
 */

/** What the server scheme asks for (`amountMsat` may be a bigint, as in the reference package). */
export type CreateInvoiceParams = {
  amountMsat: bigint | number;
  /** 64 lowercase hex: the request hash to sign as the `h` field. */
  descriptionHash: string;
  expirySeconds: number;
  network?: string;
};

/** Makes one fresh invoice and returns its BOLT11 string. */
export type LightningReceiver = { createInvoice(params: CreateInvoiceParams): Promise<string> };

/** Options of `ln402Receiver`. */
export type Ln402ReceiverOptions = {
  /** The ln402 base URL, e.g. `https://ln402.example`. */
  url: string;
  merchantId: string;
  /** The merchant API key: `POST /invoice` with a description hash is authenticated. */
  apiKey: string;
  fetch?: typeof fetch;
  /** Per call; default 10 000. */
  timeoutMs?: number;
};

/**
 * A `LightningReceiver` over ln402's `POST /invoice` with `descriptionHash` (the same
 * request and answer checks as `ln402Invoices`, plus the lnbtc ones).
 */
export function ln402Receiver(options: Ln402ReceiverOptions): LightningReceiver {
  const invoices = ln402Invoices(options);
  return {
    async createInvoice(params) {
      if (!/^[0-9a-f]{64}$/.test(params.descriptionHash))
        throw new RangeError("descriptionHash must be 64 lowercase hex characters.");
      const amountMsat = Number(params.amountMsat);
      if (!Number.isSafeInteger(amountMsat) || amountMsat <= 0)
        throw new RangeError("amountMsat must be a positive whole number of msat.");
      const { invoice } = await invoices.createInvoice({
        amountMsat,
        descriptionHash: params.descriptionHash,
        expirySecs: params.expirySeconds,
      });
      // scheme_exact_lnbtc: exactly the requested description hash, and no description.
      const census = tagCensus(invoice);
      if (
        decodeInvoice(invoice).descriptionHash !== params.descriptionHash ||
        census.descriptions !== 0 ||
        census.descriptionHashes !== 1
      ) {
        throw new InvoiceSourceError(
          201,
          "invoice-source-bad-response",
          "ln402 returned an invoice that does not carry exactly the requested description hash.",
        );
      }
      return invoice;
    },
  };
}
