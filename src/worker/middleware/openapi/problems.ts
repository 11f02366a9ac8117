import { PROBLEM_BASE } from "../../../protocol/Errors.ts";

/** A problem type ln402 answers with: its URI slug, HTTP status, title, and when it happens. */
export type ProblemTypeDoc = { slug: string; status: number; title: string; when: string };

/** Every `urn:ln402:problem:*` type the Worker can answer with (RFC 9457 `type`). */
export const PROBLEM_TYPES: readonly ProblemTypeDoc[] = [
  { slug: "bad-request", status: 400, title: "Bad request", when: "the input is malformed" },
  {
    slug: "unauthorized",
    status: 401,
    title: "Unauthorized",
    when: "the API key is missing or wrong",
  },
  {
    slug: "not-found",
    status: 404,
    title: "Not found",
    when: "no such route, merchant or invoice",
  },
  {
    slug: "payload-too-large",
    status: 413,
    title: "Payload too large",
    when: "the body is over the limit",
  },
  {
    slug: "rate-limited",
    status: 429,
    title: "Too many requests",
    when: "a rate limit was hit; see Retry-After",
  },
  {
    slug: "wallet-unusable",
    status: 422,
    title: "Wallet unusable",
    when: "registration: the NWC string cannot be used",
  },
  {
    slug: "wallet-unreachable",
    status: 422,
    title: "Wallet unreachable",
    when: "registration: get_info got no answer (503 with Retry-After while a connected wallet is down)",
  },
  {
    slug: "wallet-wrong-network",
    status: 422,
    title: "Wallet on another network",
    when: "registration: the wallet is on a network ln402 does not serve",
  },
  {
    slug: "wallet-missing-methods",
    status: 422,
    title: "Wallet lacks methods",
    when: "registration: make_invoice and lookup_invoice are required",
  },
  {
    slug: "wallet-refused",
    status: 502,
    title: "Wallet refused",
    when: "the wallet refused the request (walletCode says why)",
  },
  {
    slug: "wallet-error",
    status: 502,
    title: "Wallet error",
    when: "the wallet failed the request",
  },
  {
    slug: "wallet-bad-invoice",
    status: 502,
    title: "Wallet returned a bad invoice",
    when: "the wallet's invoice does not match what was asked",
  },
  {
    slug: "wallet-busy",
    status: 503,
    title: "Wallet busy",
    when: "the wallet is rate limiting; retry later",
  },
  {
    slug: "wallet-timeout",
    status: 503,
    title: "Wallet timeout",
    when: "the wallet did not answer within WALLET_TIMEOUT_MS",
  },
  {
    slug: "store-unavailable",
    status: 503,
    title: "Store unavailable",
    when: "Upstash did not answer",
  },
  {
    slug: "demo",
    status: 503,
    title: "Demo misconfigured",
    when: "GET /demo/quote is misconfigured",
  },
  {
    slug: "payment-required",
    status: 402,
    title: "Payment required",
    when: "gateway: pay the invoice (PAYMENT-REQUIRED or WWW-Authenticate) and retry with the proof",
  },
  {
    slug: "payment-refused",
    status: 402,
    title: "Payment refused",
    when: "gateway: the proof does not pay for this request (reason says why); nothing was consumed",
  },
  {
    slug: "upstream-failed",
    status: 502,
    title: "Upstream failed",
    when: "gateway: the merchant's upstream failed; a paid proof stays good for one retry of the same request",
  },
  {
    slug: "gateway-sessions-unavailable",
    status: 422,
    title: "Sessions unavailable",
    when: "gateway routes: a session price is not served (or the wallet cannot pay refunds)",
  },
  {
    slug: "misconfigured",
    status: 500,
    title: "Server misconfigured",
    when: "a required setting (SECRETS_KEY) is missing or invalid",
  },
  {
    slug: "internal",
    status: 500,
    title: "Internal error",
    when: "an unexpected failure (logged without its inputs)",
  },
];

/** The JSON Schema of a problem body, with every type ln402 uses. */
export function problemSchema(): Record<string, unknown> {
  return {
    type: "object",
    description: "RFC 9457 problem details; `detail` says what was wrong and what to send instead.",
    required: ["type", "title", "status", "detail"],
    properties: {
      type: {
        description: "The problem type.",
        oneOf: PROBLEM_TYPES.map((p) => ({
          const: `${PROBLEM_BASE}${p.slug}`,
          title: p.title,
          description: `${p.status}: ${p.when}.`,
        })),
      },
      title: { type: "string" },
      status: { type: "integer", minimum: 400, maximum: 599 },
      detail: { type: "string" },
    },
  };
}
