import { Hono } from "hono";
import { BadRequestError, NotFoundError, UnauthorizedError } from "../../protocol/Errors.ts";
import type { Env } from "../env.ts";
import { unwrap } from "../merchant/rpc.ts";
import { merchantStub } from "../merchantStub.ts";
import { authenticate, getMerchant, merchantForInvoice } from "../registry.ts";
import { bearerToken, clientIp, enforceLimit, readJsonObject } from "../request.ts";

/** Invoice creation and status. Amounts on the wire are msat strings (x402 units). */
export const invoiceRoutes = new Hono<Env>();

const DEFAULT_EXPIRY_SECS = 600;
const MAX_EXPIRY_SECS = 86_400;
/** BOLT11 `d` fields are at most 639 bytes. */
const MAX_DESCRIPTION_BYTES = 639;

type InvoiceRequest = {
  merchantId: string;
  amountMsat: number;
  description?: string;
  /** 64 lowercase hex: signed as the invoice's `h` field (x402 lnbtc request binding). */
  descriptionHash?: string;
  expirySecs: number;
};

function parseInvoiceRequest(body: Record<string, unknown>): InvoiceRequest {
  const { merchantId, amount, amountSats, description, descriptionHash, expirySecs } = body;
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
  if (descriptionHash !== undefined) {
    if (typeof descriptionHash !== "string" || !/^[0-9a-f]{64}$/.test(descriptionHash))
      throw new BadRequestError("descriptionHash must be 64 lowercase hex characters (a SHA-256).");
    if (description !== undefined)
      throw new BadRequestError(
        "Send description or descriptionHash, not both: an invoice has one.",
      );
    request.descriptionHash = descriptionHash;
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

/**
 * The header in which an authenticated resource server names its own client's address,
 * so invoices are limited per end client: one stranger cannot use up the invoices every
 * other customer of the merchant needs. Untrusted (ignored) without the API key.
 */
export const CLIENT_IP_HEADER = "Ln402-Client-Ip";

invoiceRoutes.post("/invoice", async (c) => {
  const token = bearerToken(c);
  const callerLimit = () =>
    enforceLimit(c.env.INVOICE_IP_LIMIT, `invoice-ip:${clientIp(c)}`, "invoices from this address");
  // Unauthenticated callers are limited by address before anything else is done.
  if (token === null) await callerLimit();
  const request = parseInvoiceRequest(await readJsonObject(c));
  const merchant =
    token === null ? null : await authenticate(c.var.store, request.merchantId, token);
  let endClient = clientIp(c);
  if (merchant !== null) {
    endClient = c.req.header(CLIENT_IP_HEADER)?.trim().slice(0, 64) || endClient;
  } else if (token !== null) {
    await callerLimit();
    throw new UnauthorizedError("This API key is not the key of the merchant named in merchantId.");
  } else {
    const record = await getMerchant(c.var.store, request.merchantId);
    if (!record) throw new NotFoundError("No merchant with this merchantId.");
    if (!record.settings.publicInvoices) {
      throw new UnauthorizedError(
        "Creating invoices needs the merchant's API key as `Authorization: Bearer <apiKey>` (resource servers forward their client's address in Ln402-Client-Ip). A merchant can allow unauthenticated invoices with PATCH /merchants/:id { publicInvoices: true }.",
      );
    }
  }
  // Every limit is checked before the merchant's wallet is asked for anything.
  await enforceLimit(
    c.env.INVOICE_CLIENT_LIMIT,
    `invoice-c:${request.merchantId}:${endClient}`,
    "invoices for this client",
  );
  await enforceLimit(
    c.env.INVOICE_MERCHANT_LIMIT,
    `invoice-m:${request.merchantId}`,
    "invoices for this merchant",
  );
  const issued = unwrap(
    await merchantStub(c.env, request.merchantId).createInvoice({
      amountMsat: request.amountMsat,
      expirySecs: request.expirySecs,
      ...(request.description !== undefined ? { description: request.description } : {}),
      ...(request.descriptionHash !== undefined
        ? { descriptionHash: request.descriptionHash }
        : {}),
    }),
  );
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
  await enforceLimit(
    c.env.STATUS_LIMIT,
    `status:${clientIp(c)}`,
    "status checks from this address",
  );
  const paymentHash = c.req.param("paymentHash");
  if (!/^[0-9a-f]{64}$/.test(paymentHash))
    throw new BadRequestError("paymentHash must be 64 lowercase hex characters.");
  // Only the merchant that first indexed the hash answers for it.
  const merchantId = await merchantForInvoice(c.var.store, paymentHash);
  const status =
    merchantId === null
      ? null
      : unwrap(await merchantStub(c.env, merchantId).invoiceStatus(paymentHash));
  if (!status) throw new NotFoundError("ln402 issued no invoice with this payment hash.");
  return c.json({
    merchantId,
    paid: status.paid,
    ...(status.settledAt !== null ? { settledAt: status.settledAt } : {}),
    amount: String(status.amountMsat),
    expiresAt: status.expiresAt,
  });
});
