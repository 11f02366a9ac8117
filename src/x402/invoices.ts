import { decodeInvoice } from "../protocol/bolt11/Bolt11.ts";
import { ProblemError } from "../protocol/Errors.ts";
import { count, hex, isRecord, object, required, SchemaIssue, string } from "../protocol/Schema.ts";

/** What a resource server asks for: one invoice of `amountMsat` for one x402 accept. */
export type InvoiceRequest = {
  amountMsat: number;
  description?: string;
  expirySecs?: number;
  /** The paying client's address (ln402 limits invoices per end client). */
  clientIp?: string;
  /** 64 lowercase hex, signed as the invoice's `h` field instead of a description (x402 lnbtc). */
  descriptionHash?: string;
};

/** An invoice ready to advertise in `extra.invoice` / `extra.paymentHash`. */
export type IssuedInvoice = {
  invoice: string;
  /** 64 lowercase hex. */
  paymentHash: string;
  /** Unix seconds. */
  expiresAt: number;
};

/** Where a resource server gets the invoices it puts into its 402 answers. */
export type InvoiceSource = { createInvoice(request: InvoiceRequest): Promise<IssuedInvoice> };

/** Options of `ln402Invoices`. */
export type Ln402InvoicesOptions = {
  /** The ln402 facilitator's base URL, e.g. `https://ln402.example`. */
  url: string;
  merchantId: string;
  /**
   * The merchant's API key. ln402 mints invoices only for their merchant unless the
   * merchant turned `publicInvoices` on; with the key, limits apply per end client.
   */
  apiKey?: string;
  fetch?: typeof fetch;
  /** Per call; default 10 000 (the merchant's wallet answers within the facilitator's own timeout). */
  timeoutMs?: number;
};

/**
 * ln402 could not issue an invoice. `type` and `detail` are ln402's own problem (RFC 9457)
 * when it sent one; `upstreamStatus` is its HTTP status (0 when it was not reached).
 * Toward the resource server's own client this is a 502: the fault is upstream.
 */
export class InvoiceSourceError extends ProblemError {
  readonly upstreamStatus: number;

  constructor(upstreamStatus: number, type: string, detail: string, cause?: unknown) {
    super(502, type, "Invoice source failed", detail, {
      extensions: { upstreamStatus },
      cause,
    });
    this.name = "InvoiceSourceError";
    this.upstreamStatus = upstreamStatus;
  }
}

const IssuedBody = object({
  invoice: required("invoice", string(7089)),
  paymentHash: required("paymentHash", hex(64)),
  amount: required("amount", string(20)),
  expiresAt: required("expiresAt", count),
});

/** An `InvoiceSource` backed by ln402's `POST /invoice` (amounts in msat strings, x402 units). */
export function ln402Invoices(options: Ln402InvoicesOptions): InvoiceSource {
  const endpoint = `${options.url.replace(/\/+$/, "")}/invoice`;
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async createInvoice(request) {
      const body = {
        merchantId: options.merchantId,
        amount: String(request.amountMsat),
        ...(request.description !== undefined ? { description: request.description } : {}),
        ...(request.descriptionHash !== undefined
          ? { descriptionHash: request.descriptionHash }
          : {}),
        ...(request.expirySecs !== undefined ? { expirySecs: request.expirySecs } : {}),
      };
      let response: Response;
      try {
        response = await doFetch(endpoint, {
          method: "POST",
          headers: {
            "Content-Type": "application/json",
            Accept: "application/json",
            ...(options.apiKey !== undefined ? { Authorization: `Bearer ${options.apiKey}` } : {}),
            ...(request.clientIp !== undefined ? { "Ln402-Client-Ip": request.clientIp } : {}),
          },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw new InvoiceSourceError(
          0,
          "invoice-source-unreachable",
          `${endpoint}: ${why(err)}`,
          err,
        );
      }
      const json = await response.json().catch(() => null);
      if (response.status !== 201) throw upstreamProblem(response.status, json);
      return checkIssued(json, request.amountMsat);
    },
  };
}

function upstreamProblem(status: number, json: unknown): InvoiceSourceError {
  const type =
    isRecord(json) && typeof json.type === "string" ? json.type : "invoice-source-failed";
  const detail =
    isRecord(json) && typeof json.detail === "string"
      ? json.detail
      : `ln402 answered ${status} without a problem body.`;
  return new InvoiceSourceError(status, type, detail);
}

/**
 * The answer is checked against the invoice itself: it is about to be advertised to
 * paying clients, who refuse an invoice whose amount or hash differs from the offer.
 */
function checkIssued(json: unknown, amountMsat: number): IssuedInvoice {
  const bad = (detail: string) =>
    new InvoiceSourceError(201, "invoice-source-bad-response", detail);
  let issued: ReturnType<typeof IssuedBody>;
  try {
    issued = IssuedBody(json, "");
  } catch (err) {
    if (err instanceof SchemaIssue) throw bad(`ln402's invoice answer: ${err.message}.`);
    throw err;
  }
  let decoded: ReturnType<typeof decodeInvoice>;
  try {
    decoded = decodeInvoice(issued.invoice);
  } catch (err) {
    throw bad(`ln402 returned an invoice that does not decode: ${why(err)}`);
  }
  if (issued.amount !== String(amountMsat) || decoded.amountMsat !== amountMsat)
    throw bad(`ln402 returned an invoice for another amount than ${amountMsat} msat.`);
  if (decoded.paymentHash !== issued.paymentHash)
    throw bad("ln402 returned a paymentHash that is not the invoice's.");
  return { invoice: issued.invoice, paymentHash: issued.paymentHash, expiresAt: issued.expiresAt };
}

function why(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
