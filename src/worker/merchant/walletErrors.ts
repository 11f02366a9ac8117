import { ProblemError, UnavailableError, UnprocessableError } from "../../protocol/Errors.ts";
import { NwcWalletError } from "../../protocol/nip47/Messages.ts";

/**
 * Maps what a merchant's wallet said (a NIP-47 error code) to what the API client
 * sees. The wallet is an upstream: its refusals are 502s (or 503 when it asks us to
 * slow down or is busy), with the wallet's code kept in the body so the merchant
 * can act on it. Other problems (timeouts, unreachable relays) pass through.
 */
export function walletProblem(err: unknown, action: string): ProblemError {
  // First: NwcWalletError is itself a ProblemError, but API clients get our wording
  // (the wallet's own message is the merchant's business, not the payer's).
  if (err instanceof NwcWalletError) {
    const extensions = { walletCode: err.code };
    switch (err.kind) {
      case "retry_later":
        return new UnavailableError(
          "wallet-busy",
          "Wallet busy",
          `The merchant's wallet refused to ${action} for now (${err.code}). Try again later.`,
          { extensions, headers: { "Retry-After": "5" } },
        );
      case "not_permitted":
      case "unsupported":
        return new ProblemError(
          502,
          "wallet-refused",
          "Wallet refused",
          `The merchant's wallet connection is not allowed to ${action} (${err.code}). The merchant must grant this permission or register a new connection string.`,
          { extensions },
        );
      default:
        return new ProblemError(
          502,
          "wallet-error",
          "Wallet error",
          `The merchant's wallet failed to ${action} (${err.code}).`,
          { extensions },
        );
    }
  }
  if (err instanceof ProblemError) return err;
  return new ProblemError(
    502,
    "wallet-error",
    "Wallet error",
    `The merchant's wallet failed to ${action}.`,
  );
}

/** 422 for a wallet that registration cannot accept; `detail` says what to fix. */
export function walletRejected(
  slug: string,
  title: string,
  detail: string,
  extensions: Record<string, unknown> = {},
): UnprocessableError {
  return new UnprocessableError(slug, title, detail, { extensions });
}
