import { ProblemError, type ProblemInit } from "../protocol/Errors.ts";

/** Machine-readable codes of Lightning failures. */
export type LightningErrorCode =
  | "insufficient_balance"
  | "invoice_expired"
  | "route_not_found"
  | "payment_timeout"
  | "connection_error"
  | "authentication_error"
  | "payment_failed"
  | "not_found"
  | "unsupported"
  | "invalid_request";

const STATUS: Record<LightningErrorCode, number> = {
  insufficient_balance: 502,
  invoice_expired: 400,
  route_not_found: 502,
  payment_timeout: 504,
  connection_error: 503,
  authentication_error: 502,
  payment_failed: 502,
  not_found: 404,
  unsupported: 501,
  invalid_request: 400,
};

/** Base of every error a LightningProvider throws; `code` says which failure it is. */
export class LightningError extends ProblemError {
  readonly code: LightningErrorCode;
  constructor(code: LightningErrorCode, detail: string, init?: ProblemInit) {
    super(
      STATUS[code],
      `lightning-${code.replaceAll("_", "-")}`,
      "Lightning payment error",
      detail,
      {
        ...init,
        extensions: { code, ...init?.extensions },
      },
    );
    this.name = "LightningError";
    this.code = code;
  }
}

/** The paying wallet cannot afford the payment. */
export class InsufficientBalanceError extends LightningError {
  constructor(detail = "The wallet's balance is too low for this payment.", init?: ProblemInit) {
    super("insufficient_balance", detail, init);
    this.name = "InsufficientBalanceError";
  }
}

/** The invoice expired before it was paid. */
export class InvoiceExpiredError extends LightningError {
  constructor(detail = "The invoice has expired.", init?: ProblemInit) {
    super("invoice_expired", detail, init);
    this.name = "InvoiceExpiredError";
  }
}

/** No route to the payee was found. */
export class RouteNotFoundError extends LightningError {
  constructor(detail = "No route to the payee was found.", init?: ProblemInit) {
    super("route_not_found", detail, init);
    this.name = "RouteNotFoundError";
  }
}

/** The payment did not complete in time (it may still complete later). */
export class PaymentTimeoutError extends LightningError {
  constructor(detail = "The payment did not complete in time.", init?: ProblemInit) {
    super("payment_timeout", detail, init);
    this.name = "PaymentTimeoutError";
  }
}

/** The Lightning backend could not be reached. */
export class ConnectionError extends LightningError {
  constructor(detail = "The Lightning backend could not be reached.", init?: ProblemInit) {
    super("connection_error", detail, init);
    this.name = "ConnectionError";
  }
}

/** The backend refused our credentials (macaroon, NWC permissions, API key). */
export class AuthenticationError extends LightningError {
  constructor(detail = "The Lightning backend refused the credentials.", init?: ProblemInit) {
    super("authentication_error", detail, init);
    this.name = "AuthenticationError";
  }
}
