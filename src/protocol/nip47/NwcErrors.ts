import { ProblemError } from "../Errors.ts";

/**
 * The two ways a wallet's answer fails: it says no (`NwcWalletError`, NIP-47 §error
 * codes) or what it says is not NIP-47 (`NwcResponseError`). Both are problems, so the
 * app can render them; callers with more context map them to their own wording.
 */

/** NIP-47 §error codes. Anything else a wallet sends is read as `OTHER`. */
export const ERROR_CODES = [
  "RATE_LIMITED",
  "NOT_IMPLEMENTED",
  "INSUFFICIENT_BALANCE",
  "QUOTA_EXCEEDED",
  "RESTRICTED",
  "UNAUTHORIZED",
  "INTERNAL",
  "UNSUPPORTED_ENCRYPTION",
  "OTHER",
  "PAYMENT_FAILED",
  "NOT_FOUND",
] as const;

/** A NIP-47 error code. */
export type NwcErrorCode = (typeof ERROR_CODES)[number];

/** What a wallet's refusal means, whoever asked (the merchant's object, a provider, a payer). */
export type NwcErrorKind =
  | "retry_later"
  | "insufficient_funds"
  | "not_permitted"
  | "unsupported"
  | "not_found"
  | "payment_failed"
  | "wallet_error";

/**
 * The one reading of NIP-47 §error codes in ln402; every caller maps kinds, never codes.
 * QUOTA_EXCEEDED is the connection's spending budget used up: insufficient funds, not a
 * busy wallet (NIP-47: "The wallet has exceeded its spending quota").
 */
export const NWC_ERROR_KINDS: Readonly<Record<NwcErrorCode, NwcErrorKind>> = {
  RATE_LIMITED: "retry_later",
  QUOTA_EXCEEDED: "insufficient_funds",
  INSUFFICIENT_BALANCE: "insufficient_funds",
  RESTRICTED: "not_permitted",
  UNAUTHORIZED: "not_permitted",
  NOT_IMPLEMENTED: "unsupported",
  UNSUPPORTED_ENCRYPTION: "unsupported",
  NOT_FOUND: "not_found",
  PAYMENT_FAILED: "payment_failed",
  INTERNAL: "wallet_error",
  OTHER: "wallet_error",
};

/**
 * HTTP status of a wallet refusal. The wallet is an upstream of ln402, so its refusals
 * are 502 unless one means something a client can act on: no such invoice (404), try
 * again later (503).
 */
const STATUS_BY_KIND: Partial<Record<NwcErrorKind, number>> = { not_found: 404, retry_later: 503 };
const MAX_WALLET_MESSAGE = 300;

/** The wallet answered with a NIP-47 error (`code`, and its own `walletMessage`). */
export class NwcWalletError extends ProblemError {
  readonly code: NwcErrorCode;
  readonly kind: NwcErrorKind;
  readonly walletMessage: string;

  constructor(code: string, walletMessage: string, method: string) {
    const known = (ERROR_CODES as readonly string[]).includes(code)
      ? (code as NwcErrorCode)
      : "OTHER";
    const message = walletMessage.slice(0, MAX_WALLET_MESSAGE);
    super(
      STATUS_BY_KIND[NWC_ERROR_KINDS[known]] ?? 502,
      `wallet-${known.toLowerCase().replaceAll("_", "-")}`,
      "Wallet refused the request",
      `The wallet refused ${method}: ${known}${message ? ` (${message})` : ""}.`,
      { extensions: { walletCode: known } },
    );
    this.name = "NwcWalletError";
    this.code = known;
    this.kind = NWC_ERROR_KINDS[known];
    this.walletMessage = message;
  }
}

/** The wallet sent something that is not a valid NIP-47 message: a 502. */
export class NwcResponseError extends ProblemError {
  constructor(what: string, problem: string) {
    super(
      502,
      "wallet-bad-response",
      "Wallet sent an invalid response",
      `The wallet's ${what} is not valid NIP-47: ${problem}.`,
    );
    this.name = "NwcResponseError";
  }
}
