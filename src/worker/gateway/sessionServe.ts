import type { MerchantDO } from "../merchant/MerchantDO.ts";
import { sessionReceipt } from "./sessionChallenge.ts";
import { sessionServeRequest } from "./sessionStream.ts";
import type { SessionAnswer, SessionServe } from "./types.ts";

/**
 * The Worker's side of a session route's admitted requests: management answers (§topUp,
 * §close) rendered with their receipt, and open or bearer requests handed to the
 * merchant's object, whose `fetch` streams the metered upstream answer back.
 */

/** What rendering a session outcome needs from the request. */
export type SessionRequestContext = {
  request: Request;
  body: Uint8Array | null;
  pathAndQuery: string;
  challengeId: string | null;
  nowMs: number;
};

/** A 200 management answer with its `Payment-Receipt` (reference = sessionId). */
export function sessionAnswerResponse(
  outcome: SessionAnswer,
  ctx: SessionRequestContext,
): Response {
  const headers = new Headers({ "Content-Type": "application/json", "Cache-Control": "no-store" });
  if (ctx.challengeId !== null)
    headers.set(
      "Payment-Receipt",
      sessionReceipt(outcome.sessionId, ctx.challengeId, ctx.nowMs, outcome.receiptExtra),
    );
  return new Response(JSON.stringify(outcome.body), { status: 200, headers });
}

/** Streams an open or bearer request through the merchant's object, with the session receipt. */
export async function sessionServeResponse(
  stub: DurableObjectStub<MerchantDO>,
  outcome: SessionServe,
  ctx: SessionRequestContext,
): Promise<Response> {
  const answer = await stub.fetch(
    sessionServeRequest(ctx.request, ctx.body, {
      sessionId: outcome.sessionId,
      routeKey: outcome.routeKey,
      pathAndQuery: ctx.pathAndQuery,
    }),
  );
  const response = new Response(answer.body, answer);
  if (answer.status < 300 && ctx.challengeId !== null)
    response.headers.set(
      "Payment-Receipt",
      sessionReceipt(outcome.sessionId, ctx.challengeId, ctx.nowMs),
    );
  // A metered answer is its payer's alone.
  const cache = response.headers.get("Cache-Control");
  if (!cache) response.headers.set("Cache-Control", "private");
  else if (!/\b(private|no-store)\b/i.test(cache))
    response.headers.set("Cache-Control", `${cache}, private`);
  return response;
}
