import { type Context, Hono } from "hono";
import {
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
} from "../../protocol/Errors.ts";
import { httpBinding } from "../../protocol/x402/lnbtc/HttpBinding.ts";
import type { Env } from "../env.ts";
import { unwrap } from "../merchant/rpc.ts";
import { merchantStub } from "../merchantStub.ts";
import { wantsPaywall } from "../paywall/index.ts";
import { clientIp } from "../request.ts";
import {
  challengeResponse,
  paidHeaders,
  problemAnswer,
  refusedResponse,
  upstreamFailedResponse,
} from "./answers.ts";
import { type MppIssuer, mppSecretKey } from "./mppChallenge.ts";
import { GATEWAY_BINDING } from "./offers.ts";
import { PAGE_TOKEN_HEADER, pageToken, pageTokenMatches } from "./pageToken.ts";
import { PAID_HEADER, readRequestProof } from "./proofs.ts";
import { callUpstream } from "./proxy.ts";
import { sessionChallengeResponse } from "./sessionChallenge.ts";
import { sessionAnswerResponse, sessionServeResponse } from "./sessionServe.ts";
import type { AdmitOutcome } from "./types.ts";

/**
 * `/gw/:merchantId/*`: the gateway. The request is bound (lnbtc `http:1`: method, URL,
 * body hash) from the live request, its proof read, and the merchant's Durable Object
 * decides in one call: forward, ask for payment with one invoice for every protocol, or
 * refuse. A paid request is redeemed before the upstream is called (upfront), and an
 * upstream failure leaves the proof good for one retry of the same bound request.
 */
export const gatewayServeRoutes = new Hono<Env>();

/** Largest request body the gateway buffers (it is hashed into the binding, then forwarded). */
export const MAX_GATEWAY_BODY_BYTES = 1024 * 1024;
const MERCHANT_ID = /^m_[0-9A-Za-z_-]{1,64}$/;

gatewayServeRoutes.on(["GET", "POST", "PUT", "PATCH", "DELETE"], "/gw/:merchantId/*", (c) =>
  serve(c),
);

async function serve(c: Context<Env>): Promise<Response> {
  const merchantId = c.req.param("merchantId") ?? "";
  if (!MERCHANT_ID.test(merchantId)) throw new NotFoundError("No such merchant.");
  c.set("merchantId", merchantId);
  const log = (
    outcome: string,
    fields: { route?: string; protocol?: string; upstreamMs?: number } = {},
  ) =>
    c.set("gateway", {
      route: fields.route ?? null,
      protocol: fields.protocol ?? null,
      outcome,
      upstreamMs: fields.upstreamMs ?? null,
    });
  const url = new URL(c.req.url);
  const prefix = `/gw/${merchantId}`;
  const pathAndQuery = url.pathname.slice(prefix.length) + url.search;
  const path = url.pathname.slice(prefix.length) || "/";
  const body = await readBody(c.req.raw);
  const binding = httpBinding(GATEWAY_BINDING.params, {
    method: c.req.method,
    url: c.req.url,
    body: body ?? new Uint8Array(),
    header: (name) => c.req.header(name),
  });
  if (!binding.ok)
    throw new BadRequestError(`This request cannot be bound to a payment: ${binding.detail}`);
  const requestHash = binding.binding.requestHash;

  const nowMs = Date.now();
  const issuer: MppIssuer = {
    secretKey: mppSecretKey(c.var.config.secretsKey),
    realm: url.host,
    merchantId,
  };
  const read = readRequestProof(c.req.raw.headers, issuer, nowMs);
  if (!read.ok) {
    log("refused");
    return problemAnswer(read.problem);
  }
  // A browser's `Ln402-Paid` counts only with the token of the page that showed the invoice:
  // the payment hash itself is public (it is in the QR code).
  if (
    read.proof?.protocol === "browser" &&
    !pageTokenMatches(
      c.var.config.secretsKey,
      merchantId,
      read.proof.paymentHash,
      c.req.header(PAGE_TOKEN_HEADER) ?? null,
    )
  ) {
    log("refused", { protocol: "browser" });
    return refusedResponse({
      reason: "page_token_mismatch",
      detail: `${PAID_HEADER} is accepted with the ${PAGE_TOKEN_HEADER} of the page that showed the invoice.`,
    });
  }
  // Unpaid requests mint invoices: an amplification target, limited per client address
  // before the object is asked (a dry-run route still serves when the limit is hit).
  const mayIssue =
    read.proof !== null ||
    (await c.env.INVOICE_IP_LIMIT.limit({ key: `gw:${clientIp(c)}` })).success;
  const stub = merchantStub(c.env, merchantId);
  const outcome: AdmitOutcome = unwrap(
    await stub.admitGateway({
      method: c.req.method,
      path,
      url: c.req.url,
      requestHash,
      proof: read.proof,
      mayIssue,
    }),
  );
  const session = {
    request: c.req.raw,
    body,
    pathAndQuery,
    challengeId: read.challengeId,
    nowMs,
  };
  switch (outcome.kind) {
    case "no-route":
      log("no-route");
      throw new NotFoundError(`No route of this merchant matches ${c.req.method} ${path}.`);
    case "rate-limited":
      log("rate-limited", { route: outcome.routeKey });
      throw new RateLimitedError(
        "Too many unpaid requests from this address. Slow down and retry later.",
        60,
      );
    case "challenge":
      log("challenge", { route: outcome.routeKey });
      if (outcome.route.price.type === "session")
        return sessionChallengeResponse(
          issuer,
          outcome.offer,
          outcome.route.price,
          outcome.route.description,
        );
      return challengeResponse({
        route: outcome.route,
        offer: outcome.offer,
        url: c.req.url,
        requestHash,
        issuer,
        html: wantsPaywall({ method: c.req.method, accept: c.req.header("Accept") ?? null }),
        pageToken: pageToken(c.var.config.secretsKey, merchantId, outcome.offer.paymentHash),
        nowSecs: Math.floor(nowMs / 1000),
      });
    case "refused":
      log("refused", { route: outcome.routeKey, protocol: outcome.protocol });
      return refusedResponse(outcome.refusal);
    case "session-answer":
      log("session-answer", { route: outcome.routeKey, protocol: "mpp" });
      return sessionAnswerResponse(outcome, session);
    case "session-serve":
      log("session", { route: outcome.routeKey, protocol: "mpp" });
      return sessionServeResponse(stub, outcome, session);
    case "forward": {
      const started = Date.now();
      const result = await callUpstream({
        method: c.req.method,
        upstream: outcome.route.upstream,
        pathAndQuery,
        headers: c.req.raw.headers,
        body,
        secret: outcome.secret,
      });
      const upstreamMs = Date.now() - started;
      const paid = outcome.paid;
      const fields = {
        route: outcome.routeKey,
        upstreamMs,
        ...(paid && { protocol: paid.protocol }),
      };
      if (!result.ok) {
        log("upstream-failed", fields);
        const window = await stub.reportUpstreamFailure({
          routeKey: outcome.routeKey,
          paymentHash: paid?.paymentHash ?? null,
          requestHash,
        });
        return upstreamFailedResponse(paid !== null, result.why, window);
      }
      log(paid === null ? "dry-run" : paid.retry ? "retry" : "paid", fields);
      const response = result.response;
      if (paid !== null) paidHeaders(response.headers, paid, read.challengeId, nowMs);
      return response;
    }
  }
}

/** The body's bytes (null for GET and DELETE without one), bounded: it is hashed, then forwarded. */
async function readBody(request: Request): Promise<Uint8Array | null> {
  if (request.body === null) return null;
  const declared = Number(request.headers.get("Content-Length") ?? "0");
  const tooLarge = () =>
    new PayloadTooLargeError(
      `Gateway request bodies are limited to ${MAX_GATEWAY_BODY_BYTES} bytes.`,
    );
  if (declared > MAX_GATEWAY_BODY_BYTES) throw tooLarge();
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.length > MAX_GATEWAY_BODY_BYTES) throw tooLarge();
  return bytes.length === 0 && request.method === "GET" ? null : bytes;
}
