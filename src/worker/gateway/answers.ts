import { encodePaymentRequiredHeader, encodePaymentResponseHeader } from "@x402/core/http";
import type { PaymentRequired } from "@x402/core/types";
import { PROBLEM_BASE, type ProblemError } from "../../protocol/Errors.ts";
import { lnbtcNetworkId } from "../../protocol/x402/lnbtc/Networks.ts";
import { x402Network } from "../../protocol/x402/Networks.ts";
import { paywallHeaders, renderPaywall } from "../paywall/index.ts";
import { type MppIssuer, mppChallenge, mppReceipt } from "./mppChallenge.ts";
import { legacyAccept, lnbtcAccept } from "./offers.ts";
import { PAGE_TOKEN_HEADER } from "./pageToken.ts";
import type { GatewayRoute } from "./RouteConfig.ts";
import type { GatewayOffer, PaidAdmission, Refusal, RetryWindow } from "./types.ts";

/**
 * The gateway's answers, rendered in the Worker from the object's decisions: the one 402
 * for one invoice that every offered protocol can pay, refusals, the honest 502 after an
 * upstream failure, and the payment headers of a paid answer.
 */

const PROBLEM_JSON = "application/problem+json";

/** What a 402 is rendered for. */
export type ChallengeContext = {
  route: GatewayRoute;
  offer: GatewayOffer;
  /** The bound request URL (`resource.url`). */
  url: string;
  requestHash: string;
  issuer: MppIssuer;
  /** A browser navigation (`wantsPaywall`): answer with the payment page. */
  html: boolean;
  /** The page's token for this invoice (see pageToken.ts), sent back with `Ln402-Paid`. */
  pageToken: string;
  /** Unix seconds, the server's clock (the page's countdown starts from it). */
  nowSecs: number;
};

/**
 * The 402: `PAYMENT-REQUIRED` (lnbtc, plus the legacy entry when offered, both naming the
 * same invoice), `WWW-Authenticate: Payment` (MPP lightning charge on that invoice), no
 * caching, and a problem body (or, for a browser, a page) that names the invoice too.
 */
export function challengeResponse(ctx: ChallengeContext): Response {
  const { route, offer } = ctx;
  const headers = new Headers({ "Cache-Control": "no-store" });
  const accepts: Record<string, unknown>[] = [];
  if (route.protocols.includes("x402"))
    accepts.push(lnbtcAccept({ ...offer, requestHash: ctx.requestHash, invoice: offer.invoice }));
  if (route.protocols.includes("x402-legacy")) accepts.push(legacyAccept(offer));
  if (accepts.length > 0) {
    const required = {
      x402Version: 2,
      error: "Payment required",
      resource: { url: ctx.url, description: route.description, mimeType: "" },
      accepts,
    } as unknown as PaymentRequired; // our accepts carry lnbtc/bip122 networks the SDK types as strings
    headers.set("PAYMENT-REQUIRED", encodePaymentRequiredHeader(required));
  }
  if (route.protocols.includes("mpp"))
    headers.set("WWW-Authenticate", mppChallenge(ctx.issuer, offer, route.description));
  const amountSats = offer.amountMsat / 1000;
  if (ctx.html) {
    const page = {
      invoice: offer.invoice,
      paymentHash: offer.paymentHash,
      amountSats,
      description: route.description,
      statusUrl: `/invoice/status/${offer.paymentHash}`,
      // The retry is the same GET (no headers are bound), with the page's token.
      retry: { url: ctx.url, method: "GET", headers: { [PAGE_TOKEN_HEADER]: ctx.pageToken } },
      expiresAt: offer.expiresAt,
      now: ctx.nowSecs,
    };
    for (const [name, value] of Object.entries(paywallHeaders(page))) headers.set(name, value);
    return new Response(renderPaywall(page), { status: 402, headers });
  }
  headers.set("Content-Type", PROBLEM_JSON);
  const body = {
    type: `${PROBLEM_BASE}payment-required`,
    title: "Payment required",
    status: 402,
    detail: `This request costs ${amountSats} sats. Pay the invoice through x402 (PAYMENT-REQUIRED) or MPP (WWW-Authenticate) and retry the same request with the proof.`,
    invoice: offer.invoice,
    paymentHash: offer.paymentHash,
    amountSats,
    expiresAt: offer.expiresAt,
  };
  return new Response(JSON.stringify(body), { status: 402, headers });
}

/** A proof that does not pay for this request: 402, the reason, nothing consumed. */
export function refusedResponse(refusal: Refusal): Response {
  const headers = new Headers({ "Cache-Control": "no-store", "Content-Type": PROBLEM_JSON });
  if (refusal.retryAfterSecs !== undefined)
    headers.set("Retry-After", String(refusal.retryAfterSecs));
  const body = {
    type: `${PROBLEM_BASE}payment-refused`,
    title: "Payment refused",
    status: 402,
    detail: refusal.detail,
    reason: refusal.reason,
  };
  return new Response(JSON.stringify(body), { status: 402, headers });
}

/** A problem of the proof's own protocol (an MPP problem, a malformed header). */
export function problemAnswer(problem: ProblemError): Response {
  return new Response(JSON.stringify(problem.toJSON()), {
    status: problem.status,
    headers: { "Content-Type": PROBLEM_JSON, "Cache-Control": "no-store", ...problem.headers },
  });
}

/** The honest answer after a paid request's upstream failed: paid, not served, retry once. */
export function upstreamFailedResponse(paid: boolean, why: string, window: RetryWindow): Response {
  const detail = !paid
    ? `The upstream failed (${why}).`
    : window.retryable
      ? `Your payment was received, but the upstream failed (${why}). Retry the same request with the same proof before ${new Date(window.untilMs ?? 0).toISOString()}: it will be served without paying again, once.`
      : `Your payment was received, but the upstream failed (${why}) on the retry too. This proof cannot be used again; contact the merchant.`;
  const body = {
    type: `${PROBLEM_BASE}upstream-failed`,
    title: "Upstream failed",
    status: 502,
    detail,
    paymentReceived: paid,
    retryable: window.retryable,
    ...(window.untilMs !== null && { retryUntil: new Date(window.untilMs).toISOString() }),
  };
  return new Response(JSON.stringify(body), {
    status: 502,
    headers: { "Content-Type": PROBLEM_JSON, "Cache-Control": "no-store" },
  });
}

/** Adds the payment answer header of the proof's protocol; a paid answer is private to its payer. */
export function paidHeaders(
  headers: Headers,
  paid: PaidAdmission,
  challengeId: string | null,
  nowMs: number,
): void {
  if (paid.protocol === "x402" || paid.protocol === "x402-legacy") {
    const network =
      paid.protocol === "x402" ? lnbtcNetworkId(paid.network) : x402Network(paid.network);
    headers.set(
      "PAYMENT-RESPONSE",
      encodePaymentResponseHeader({
        success: true,
        transaction: paid.paymentHash,
        network: network ?? "",
      } as Parameters<typeof encodePaymentResponseHeader>[0]),
    );
  } else if (paid.protocol === "mpp" && challengeId !== null) {
    headers.set("Payment-Receipt", mppReceipt(paid.paymentHash, challengeId, nowMs));
  }
  const cache = headers.get("Cache-Control");
  if (!cache) headers.set("Cache-Control", "private");
  else if (!/\b(private|no-store)\b/i.test(cache))
    headers.set("Cache-Control", `${cache}, private`);
}
