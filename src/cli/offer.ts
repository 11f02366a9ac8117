/**
 * The shape of a payable 402 offer for `ln402 pay`: what a scheme is given, what it
 * returns, and the helpers the MPP schemes share.
 */
import * as Challenge from "../protocol/mpp/Challenge.ts";
import type { LightningProvider } from "../providers/LightningProvider.ts";
import type { Io } from "./io.ts";

/** What was paid, for `--json` and the progress lines. */
export type Payment = {
  protocol: "x402" | "mpp";
  scheme: "exact" | "charge" | "session";
  network: string | null;
  /** Everything paid, in sats (for a session: deposit and top-ups). */
  amountSats: number;
  paymentHash: string;
  /** The server's receipt: x402 PAYMENT-RESPONSE (decoded) or MPP Payment-Receipt (as sent). */
  receipt: unknown;
  refundSats?: number;
  refundStatus?: string;
};

/** What a scheme needs to pay one request. */
export type PayContext = {
  io: Io;
  wallet: LightningProvider;
  /** The most this one command may spend, in sats. */
  maxSats: number;
  /** A fresh copy of the user's request (a body can be sent only once per Request). */
  request: () => Request;
  /** The plain fetch (no payment). */
  send: (request: Request) => Promise<Response>;
};

/** The answer to the paid retry, what was paid, and how to end what the payment opened. */
export type Paid = {
  response: Response;
  payment: Payment;
  /** Called for each server-sent event of the paid body (a session tops up here). */
  onEvent?: (event: { event: string; data: string }) => Promise<"continue" | "stop">;
  /** Called once the body has been read (a session closes and is refunded here). */
  finish?: () => Promise<void>;
};

/** One kind of 402 offer the CLI pays. */
export type PayScheme = {
  readonly name: string;
  /** Whether this 402 answer carries an offer of this kind. */
  offered(res: Response): boolean;
  /** Checks and pays the offer, then sends the paid request. */
  pay(res: Response, ctx: PayContext): Promise<Paid>;
};

/** The Lightning challenges of an MPP 402, if any. */
export function lightningChallenges(res: Response, intent: string): Challenge.Challenge[] {
  const header = res.headers.get("WWW-Authenticate");
  if (!header) return [];
  try {
    return Challenge.parseAll([header]).filter(
      (c) => c.method === "lightning" && c.intent === intent,
    );
  } catch {
    return [];
  }
}

/**
 * A fetch whose first call answers with the 402 already received, so the MPP client
 * pays that challenge instead of asking for (and minting) another invoice.
 */
export function replaying(
  first: Response,
  send: (request: Request) => Promise<Response>,
): (request: Request) => Promise<Response> {
  let used = false;
  return async (request) => {
    if (used) return send(request);
    used = true;
    return new Response(null, { status: first.status, headers: first.headers });
  };
}
