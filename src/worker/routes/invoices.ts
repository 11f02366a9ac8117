import { Hono } from "hono";
import { BadRequestError, NotFoundError } from "../../protocol/Errors.ts";
import type { Env } from "../env.ts";
import { unwrap } from "../merchant/rpc.ts";
import { merchantStub } from "../merchantStub.ts";
import { indexInvoice, merchantExists, merchantForInvoice } from "../registry.ts";
import { clientIp, enforceLimit, readJsonObject } from "../request.ts";

/** Invoice creation and status. Amounts on the wire are msat strings (x402 units). */
export const invoiceRoutes = new Hono<Env>();

const DEFAULT_EXPIRY_SECS = 600;
const MAX_EXPIRY_SECS = 86_400;
/** The global index outlives the invoice: late status checks and proofs still find the merchant. */
const INDEX_GRACE_SECS = 30 * 86_400;
/** BOLT11 `d` fields are at most 639 bytes. */
const MAX_DESCRIPTION_BYTES = 639;

type InvoiceRequest = {
  merchantId: string;
  amountMsat: number;
  description?: string;
  expirySecs: number;
};

function parseInvoiceRequest(body: Record<string, unknown>): InvoiceRequest {
  const { merchantId, amount, amountSats, description, expirySecs } = body;
  if (typeof merchantId !== "string" || merchantId === "")
    throw new BadRequestError("merchantId is required.");
  if ((amount === undefined) === (amountSats === undefined)) {
    throw new BadRequestError(
      'Send exactly one of amount (msat, e.g. "21000") or amountSats (e.g. 21).',
    );
  }
  const amountMsat =
    amount !== undefined
      ? wholeNumber(amount, "amount")
      : wholeNumber(amountSats, "amountSats") * 1000;
  if (amountMsat <= 0 || !Number.isSafeInteger(amountMsat)) {
    throw new BadRequestError("The amount must be positive and at most 9007199254740991 msat.");
  }
  const request: InvoiceRequest = { merchantId, amountMsat, expirySecs: DEFAULT_EXPIRY_SECS };
  if (description !== undefined) {
    if (typeof description !== "string") throw new BadRequestError("description must be a string.");
    if (new TextEncoder().encode(description).length > MAX_DESCRIPTION_BYTES) {
      throw new BadRequestError(
        `description is limited to ${MAX_DESCRIPTION_BYTES} bytes (BOLT11).`,
      );
    }
    request.description = description;
  }
  if (expirySecs !== undefined) {
    const secs = wholeNumber(expirySecs, "expirySecs");
    if (secs < 10 || secs > MAX_EXPIRY_SECS)
      throw new BadRequestError(`expirySecs must be between 10 and ${MAX_EXPIRY_SECS}.`);
    request.expirySecs = secs;
  }
  return request;
}

function wholeNumber(value: unknown, name: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (typeof value === "string" && /^[0-9]{1,16}$/.test(value)) return Number(value);
  throw new BadRequestError(`${name} must be a whole number (a JSON number or a decimal string).`);
}

invoiceRoutes.post("/invoice", async (c) => {
  await enforceLimit(
    c.env.INVOICE_IP_LIMIT,
    `invoice-ip:${clientIp(c)}`,
    "invoices from this address",
  );
  const request = parseInvoiceRequest(await readJsonObject(c));
  await enforceLimit(
    c.env.INVOICE_MERCHANT_LIMIT,
    `invoice-m:${request.merchantId}`,
    "invoices for this merchant",
  );
  if (!(await merchantExists(c.var.store, request.merchantId))) {
    throw new NotFoundError("No merchant with this merchantId.");
  }
  const issued = unwrap(
    await merchantStub(c.env, request.merchantId).createInvoice({
      amountMsat: request.amountMsat,
      expirySecs: request.expirySecs,
      ...(request.description !== undefined ? { description: request.description } : {}),
    }),
  );
  const ttlSecs = Math.max(60, issued.expiresAt - Math.floor(Date.now() / 1000)) + INDEX_GRACE_SECS;
  await indexInvoice(c.var.store, issued.paymentHash, request.merchantId, ttlSecs);
  return c.json(
    {
      invoice: issued.invoice,
      paymentHash: issued.paymentHash,
      amount: String(issued.amountMsat),
      expiresAt: issued.expiresAt,
    },
    201,
  );
});

invoiceRoutes.get("/invoice/status/:paymentHash", async (c) => {
  const paymentHash = c.req.param("paymentHash");
  if (!/^[0-9a-f]{64}$/.test(paymentHash))
    throw new BadRequestError("paymentHash must be 64 lowercase hex characters.");
  const merchantId = await merchantForInvoice(c.var.store, paymentHash);
  const status =
    merchantId === null
      ? null
      : unwrap(await merchantStub(c.env, merchantId).invoiceStatus(paymentHash));
  if (!status) throw new NotFoundError("ln402 issued no invoice with this payment hash.");
  return c.json({
    paid: status.paid,
    ...(status.settledAt !== null ? { settledAt: status.settledAt } : {}),
    amount: String(status.amountMsat),
    expiresAt: status.expiresAt,
  });
});
