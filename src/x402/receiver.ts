import { decodeInvoice } from "../protocol/bolt11/Bolt11.ts";
import { tagCensus } from "../protocol/bolt11/Census.ts";
import { count, hex, isRecord, object, required, SchemaIssue, string } from "../protocol/Schema.ts";
import { InvoiceSourceError } from "./invoices.ts";

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

const Issued = object({
  invoice: required("invoice", string(7089)),
  paymentHash: required("paymentHash", hex(64)),
  amount: required("amount", string(20)),
  expiresAt: required("expiresAt", count),
});

/** A `LightningReceiver` over ln402's `POST /invoice` with `descriptionHash`. */
export function ln402Receiver(options: Ln402ReceiverOptions): LightningReceiver {
  const endpoint = `${options.url.replace(/\/+$/, "")}/invoice`;
  const doFetch = options.fetch ?? fetch;
  return {
    async createInvoice(params) {
      if (!/^[0-9a-f]{64}$/.test(params.descriptionHash))
        throw new RangeError("descriptionHash must be 64 lowercase hex characters.");
      const amount = String(params.amountMsat);
      let response: Response;
      try {
        response = await doFetch(endpoint, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            Authorization: `Bearer ${options.apiKey}`,
          },
          body: JSON.stringify({
            merchantId: options.merchantId,
            amount,
            descriptionHash: params.descriptionHash,
            expirySecs: params.expirySeconds,
          }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (err) {
        throw new InvoiceSourceError(
          0,
          "invoice-source-unreachable",
          `${endpoint}: ${String(err)}`,
          err,
        );
      }
      const json: unknown = await response.json().catch(() => null);
      if (response.status !== 201) {
        const type =
          isRecord(json) && typeof json.type === "string" ? json.type : "invoice-source-failed";
        const detail =
          isRecord(json) && typeof json.detail === "string"
            ? json.detail
            : `ln402 answered ${response.status}.`;
        throw new InvoiceSourceError(response.status, type, detail);
      }
      return checkIssued(json, amount, params.descriptionHash);
    },
  };
}

/** The invoice is checked before it is advertised: amount, hash, exactly that `h`, no `d`. */
function checkIssued(json: unknown, amount: string, descriptionHash: string): string {
  const bad = (detail: string) =>
    new InvoiceSourceError(201, "invoice-source-bad-response", detail);
  let issued: ReturnType<typeof Issued>;
  try {
    issued = Issued(json, "");
  } catch (err) {
    if (err instanceof SchemaIssue) throw bad(`ln402's invoice answer: ${err.message}.`);
    throw err;
  }
  let decoded: ReturnType<typeof decodeInvoice>;
  try {
    decoded = decodeInvoice(issued.invoice);
  } catch (err) {
    throw bad(`ln402 returned an invoice that does not decode: ${String(err)}`);
  }
  const census = tagCensus(issued.invoice);
  if (issued.amount !== amount || String(decoded.amountMsat) !== amount)
    throw bad(`ln402 returned an invoice for another amount than ${amount} msat.`);
  if (decoded.paymentHash !== issued.paymentHash)
    throw bad("ln402 returned a paymentHash that is not the invoice's.");
  if (
    decoded.descriptionHash !== descriptionHash ||
    census.descriptions !== 0 ||
    census.descriptionHashes !== 1
  )
    throw bad(
      "ln402 returned an invoice that does not carry exactly the requested description hash.",
    );
  return issued.invoice;
}
