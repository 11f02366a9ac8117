/**
 * The problem types of the Payment HTTP authentication scheme (draft-httpauth-payment-00
 * §errors) and of its Lightning method (draft-lightning-charge-00 §errors,
 * draft-lightning-session-00 §errors), as ln402
 * `ProblemError`s so the app renders them like every other problem.
 */
import { ProblemError, type ProblemInit } from "../Errors.ts";

/** Base URI of the core problem types. */
export const PROBLEM_TYPE_BASE = "https://paymentauth.org/problems/";
/** Base URI of the Lightning method's problem types. */
export const LIGHTNING_PROBLEM_TYPE_BASE = "https://paymentauth.org/problems/lightning/";

/** A problem a Payment-authenticated resource answers with; the server adds a fresh challenge. */
export class PaymentProblem extends ProblemError {
  constructor(status: number, type: string, title: string, detail: string, init?: ProblemInit) {
    super(status, type, title, detail, init);
    this.name = "PaymentProblem";
  }
}

function core(name: string, title: string, status = 402) {
  return (detail: string, init?: ProblemInit) =>
    new PaymentProblem(status, PROBLEM_TYPE_BASE + name, title, detail, init);
}

function lightning(name: string, title: string) {
  return (detail: string, init?: ProblemInit) =>
    new PaymentProblem(402, LIGHTNING_PROBLEM_TYPE_BASE + name, title, detail, init);
}

/** No credential was sent: pay one of the challenges. */
export const paymentRequired = core("payment-required", "Payment Required");
/** The payment was smaller than the route's price. */
export const paymentInsufficient = core("payment-insufficient", "Payment Insufficient");
/** The challenge (or its invoice) expired before the credential arrived. */
export const paymentExpired = core("payment-expired", "Payment Expired");
/** The credential was well-formed but the payment does not check out. */
export const verificationFailed = core("verification-failed", "Verification Failed");
/** The credential names a method/intent this server does not offer (400). */
export const methodUnsupported = core("method-unsupported", "Method Unsupported", 400);
/** The Authorization header is not a readable Payment credential. */
export const malformedCredential = core("malformed-credential", "Malformed Credential");
/** The echoed challenge was not issued by this server, or not for this route. */
export const invalidChallenge = core("invalid-challenge", "Invalid Challenge");

/** The request itself is malformed, apart from any credential (draft-httpauth-payment-01, 400). */
export const badRequest = core("bad-request", "Bad Request", 400);
/** The credential's payload is not acceptable to the method (draft-httpauth-payment-01). */
export const invalidPayload = core("invalid-payload", "Invalid Payload");
/** The server failed while handling the payment; nothing was charged (draft-httpauth-payment-01, 500). */
export const internalPaymentError = core("internal-payment-error", "Internal Payment Error", 500);
/** The client must act before the payment can complete (draft-httpauth-payment-01). */
export const paymentActionRequired = core("payment-action-required", "Payment Action Required");

/** The Lightning payload is not `{ preimage: <64 lowercase hex> }`. */
export const lightningMalformedCredential = lightning(
  "malformed-credential",
  "Malformed Lightning Credential",
);
/** The challenge's invoice is not one this server knows. */
export const unknownChallenge = lightning("unknown-challenge", "Unknown Challenge");
/** sha256(preimage) is not the invoice's payment hash. */
export const invalidPreimage = lightning("invalid-preimage", "Invalid Preimage");
/** The invoice expired before the credential arrived. */
export const expiredInvoice = lightning("expired-invoice", "Expired Invoice");
/** The session named by the credential does not exist (draft-lightning-session-00 §errors). */
export const sessionNotFound = lightning("session-not-found", "Session Not Found");
/** The session was closed for good; open a new one (draft-lightning-session-00 §errors). */
export const sessionClosed = lightning("session-closed", "Session Closed");
/** The open credential's returnInvoice is not a usable no-amount invoice (draft-lightning-session-00 §open). */
export const invalidReturnInvoice = lightning("invalid-return-invoice", "Invalid Return Invoice");
