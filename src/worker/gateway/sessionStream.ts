import type { Sessions } from "../../mpp/session/Sessions.ts";
import { readEventBatches, serve as serveEvents } from "../../mpp/session/sse.ts";
import { PROBLEM_BASE } from "../../protocol/Errors.ts";
import { isRecord } from "../../protocol/Schema.ts";
import { refusedResponse, upstreamFailedResponse } from "./answers.ts";
import { callUpstream } from "./proxy.ts";
import { type GatewayRoute, routeKey } from "./RouteConfig.ts";

/**
 * The metered stream of a session route, run inside the merchant's Durable Object (its
 * `fetch`, the one call that can return a stream): the object calls the upstream and
 * bills each upstream SSE event at the session's agreed per-unit price before forwarding
 * it (draft-lightning-session-00 §Streaming and Per-Chunk Billing): `payment-need-topup`
 * when the balance runs short, held until a top-up lands in this same object or
 * `session-timeout`, then `payment-receipt` and `[DONE]`. A non-SSE answer bills one unit.
 */

/** The internal header that tells the object which session and route a streamed request is for. */
export const SESSION_SERVE_HEADER = "Ln402-Session-Serve";

/** What the Worker tells the object about an admitted session request. */
export type SessionServeMeta = { sessionId: string; routeKey: string; pathAndQuery: string };

/**
 * The request the Worker sends to the merchant's object: the client's method, headers and
 * body, and the admitted session in `SESSION_SERVE_HEADER` (set here, never taken from
 * the client: a client's own copy is overwritten).
 */
export function sessionServeRequest(
  client: Request,
  body: Uint8Array | null,
  meta: SessionServeMeta,
): Request {
  const headers = new Headers(client.headers);
  headers.set(SESSION_SERVE_HEADER, JSON.stringify(meta));
  return new Request("https://merchant.internal/gateway/session", {
    method: client.method,
    headers,
    body,
  });
}

/** What the object's stream handler needs. */
export type SessionStreamDeps = {
  sessions: Sessions;
  routes(): Promise<GatewayRoute[]>;
  /** The route each session was opened on. */
  routeOf(sessionId: string): string | null;
  secret(): Promise<string>;
  /** Counts an upstream failure for the route (nothing was billed). */
  countFailure(routeKey: string): void;
};

/** Serves an admitted session request from inside the object (see `sessionServeRequest`). */
export async function serveSessionStream(
  deps: SessionStreamDeps,
  request: Request,
): Promise<Response> {
  const meta = readMeta(request.headers.get(SESSION_SERVE_HEADER));
  const route = meta && (await deps.routes()).find((r) => routeKey(r) === meta.routeKey);
  if (
    !meta ||
    !route ||
    route.price.type !== "session" ||
    deps.routeOf(meta.sessionId) !== meta.routeKey
  )
    return refusedResponse({
      reason: "session_not_found",
      detail: "No such session on this route.",
    });
  const session = await deps.sessions.get(meta.sessionId);
  if (session?.status !== "open")
    return refusedResponse({
      reason: "session_closed",
      detail: "This session is closed; open a new one.",
    });
  const headers = new Headers(request.headers);
  headers.delete(SESSION_SERVE_HEADER);
  const bytes = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
  const result = await callUpstream({
    method: request.method,
    upstream: route.upstream,
    pathAndQuery: meta.pathAndQuery,
    headers,
    body: bytes !== null && bytes.length > 0 ? bytes : null,
    secret: await deps.secret(),
  });
  if (!result.ok) {
    deps.countFailure(meta.routeKey);
    return upstreamFailedResponse(false, `${result.why}; nothing was billed`, {
      retryable: false,
      untilMs: null,
    });
  }
  const upstream = result.response;
  const sse = (upstream.headers.get("Content-Type") ?? "")
    .toLowerCase()
    .startsWith("text/event-stream");
  if (sse && upstream.body !== null) {
    const body = upstream.body;
    // Each upstream event with data is one unit; its data is forwarded, its name is not
    // (the payment-* and session-* names are the session's own events). What one upstream
    // read brought is billed event by event and forwarded in one write.
    return serveEvents({
      sessions: deps.sessions,
      sessionId: meta.sessionId,
      generate: async function* () {
        for await (const batch of readEventBatches(body)) yield batch.map((event) => event.data);
      },
    });
  }
  // Not a stream: the answer is one unit, billed before it is forwarded.
  const billed = await deps.sessions.deduct(meta.sessionId, session.amountPerUnitMsat);
  if (!billed.ok) {
    await upstream.body?.cancel();
    return insufficient(meta.sessionId, billed.requiredMsat, billed.spentMsat);
  }
  return upstream;
}

/** 402 when the balance cannot pay one unit: top up, then retry. */
function insufficient(sessionId: string, requiredMsat: number, spentMsat: number): Response {
  const body = {
    type: `${PROBLEM_BASE}payment-insufficient`,
    title: "Session balance too low",
    status: 402,
    detail: "The session's balance cannot pay for this answer: top up the session and retry.",
    sessionId,
    balanceRequired: requiredMsat / 1000,
    balanceSpent: spentMsat / 1000,
  };
  return new Response(JSON.stringify(body), {
    status: 402,
    headers: { "Content-Type": "application/problem+json", "Cache-Control": "no-store" },
  });
}

function readMeta(raw: string | null): SessionServeMeta | null {
  if (raw === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (
    !isRecord(value) ||
    typeof value.sessionId !== "string" ||
    typeof value.routeKey !== "string" ||
    typeof value.pathAndQuery !== "string"
  )
    return null;
  return { sessionId: value.sessionId, routeKey: value.routeKey, pathAndQuery: value.pathAndQuery };
}
