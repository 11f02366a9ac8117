import { status } from "@grpc/grpc-js";
import {
  AuthenticationError,
  ConnectionError,
  InvoiceExpiredError,
  LightningError,
  PaymentTimeoutError,
} from "./errors.ts";

/**
 * LND's gRPC failures as ln402's typed Lightning errors. LND speaks through status codes
 * (NOT_FOUND for an unknown invoice, ALREADY_EXISTS for a paid one) and, for a bad
 * macaroon, through the message of an UNKNOWN status.
 */

/** What a call was for: a payment's failures mean other things than a lookup's. */
export type GrpcOp = "pay" | "create" | "lookup" | "hold" | "info";

/** A failed unary call as a typed error (LND's status codes, and its messages for auth). */
export function unaryError(op: GrpcOp, err: unknown): LightningError {
  const { code, message, detail } = describe(err);
  if (isAuth(code, message)) return new AuthenticationError(detail);
  if (code === status.UNAVAILABLE)
    return new ConnectionError(`LND's gRPC endpoint is unreachable: ${message}`);
  if (code === status.DEADLINE_EXCEEDED)
    return new ConnectionError("LND did not answer before the deadline.");
  if (code === status.NOT_FOUND || /unable to locate invoice/i.test(message))
    return new LightningError("not_found", detail);
  if (code === status.UNIMPLEMENTED)
    return new LightningError("unsupported", `${detail} (is LND built with this sub-server?)`);
  if (code === status.INVALID_ARGUMENT || (op === "hold" && code === status.ALREADY_EXISTS))
    return new LightningError("invalid_request", detail);
  return new ConnectionError(detail);
}

/** A SendPaymentV2 stream that ended in an error status rather than a final update. */
export function payError(err: unknown, updates: number): LightningError {
  const { code, message, detail } = describe(err);
  if (isAuth(code, message)) return new AuthenticationError(detail);
  // Before any update, LND refused the payment up front (expired, already paid, bad request).
  if (updates === 0 && code !== status.UNAVAILABLE && code !== status.DEADLINE_EXCEEDED) {
    if (/expired/i.test(message)) return new InvoiceExpiredError(detail);
    return new LightningError("payment_failed", detail);
  }
  // Otherwise the stream broke or timed out while the payment was in flight.
  return new PaymentTimeoutError(`LND's payment stream broke off: ${detail}`);
}

function describe(err: unknown): { code: number; message: string; detail: string } {
  // grpc-js rejects with a ServiceError: an Error with the status `code` and `details`.
  const isObject = typeof err === "object" && err !== null;
  const rawCode = isObject && "code" in err ? err.code : undefined;
  const details = isObject && "details" in err ? err.details : undefined;
  const code = typeof rawCode === "number" ? rawCode : status.UNKNOWN;
  const message = typeof details === "string" ? details.slice(0, 300) : "";
  const name = status[code] ?? String(code);
  return { code, message, detail: `LND answered ${name}: ${message || "no message"}` };
}

// LND answers a missing or wrong macaroon with UNKNOWN and a message (its interceptor's
// plain error); UNAUTHENTICATED and PERMISSION_DENIED come from proxies in front of it.
function isAuth(code: number, message: string): boolean {
  if (code === status.UNAUTHENTICATED || code === status.PERMISSION_DENIED) return true;
  return /macaroon|verification failed|permission denied/i.test(message);
}
