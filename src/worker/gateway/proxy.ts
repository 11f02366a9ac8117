import { isPaymentCredential, PAID_HEADER } from "./proofs.ts";

/**
 * Forwards an admitted request to the merchant's upstream and hands back its answer as a
 * stream. The upstream learns the request came through ln402 by the merchant's secret
 * in `Ln402-Gateway-Secret`; it never sees the client's payment proof.
 */

/** The header that carries the merchant's upstream secret on every proxied request. */
export const SECRET_HEADER = "Ln402-Gateway-Secret";
/** The upstream must send its response headers within this long. */
export const UPSTREAM_TIMEOUT_MS = 30_000;

/** RFC 9110 §7.6.1 hop-by-hop fields, and fields the platform sets itself. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "host",
  "content-length",
];
/** ln402's own payment fields: the proof stays here, and a client cannot forge the secret. */
const PAYMENT_FIELDS = [
  "payment-signature",
  "x-payment",
  "payment-authorization",
  PAID_HEADER.toLowerCase(),
  SECRET_HEADER.toLowerCase(),
];

/** What to send upstream. */
export type UpstreamRequest = {
  method: string;
  /** The route's upstream base URL (no trailing slash). */
  upstream: string;
  /** The raw path under `/gw/:merchantId` and the query, e.g. `/v1/items?x=1`. */
  pathAndQuery: string;
  headers: Headers;
  body: Uint8Array | null;
  secret: string;
};

/** The upstream's answer, or why there is none usable (a 5xx counts as a failure). */
export type UpstreamResult =
  | { ok: true; response: Response }
  | { ok: false; why: string; status: number | null };

/** Sends the request upstream; redirects are passed back, never followed. */
export async function callUpstream(
  request: UpstreamRequest,
  timeoutMs = UPSTREAM_TIMEOUT_MS,
): Promise<UpstreamResult> {
  const headers = new Headers();
  const connectionTokens = (request.headers.get("connection") ?? "")
    .toLowerCase()
    .split(",")
    .map((t) => t.trim());
  for (const [name, value] of request.headers) {
    const lower = name.toLowerCase();
    if (
      HOP_BY_HOP.includes(lower) ||
      PAYMENT_FIELDS.includes(lower) ||
      connectionTokens.includes(lower)
    )
      continue;
    if (lower === "authorization" && isPaymentCredential(value)) continue;
    headers.set(name, value);
  }
  headers.set(SECRET_HEADER, request.secret);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetch(`${request.upstream}${request.pathAndQuery}`, {
      method: request.method,
      headers,
      body: request.body,
      redirect: "manual",
      signal: controller.signal,
    });
    if (response.status >= 500) {
      await response.body?.cancel();
      return { ok: false, why: `it answered ${response.status}`, status: response.status };
    }
    return { ok: true, response: passBack(response) };
  } catch {
    return controller.signal.aborted
      ? { ok: false, why: `no answer within ${timeoutMs / 1000} s`, status: null }
      : { ok: false, why: "it could not be reached", status: null };
  } finally {
    // Only the wait for headers is bounded: a stream may run as long as it runs.
    clearTimeout(timer);
  }
}

/** The upstream's response without hop-by-hop fields, its body streamed as it comes. */
function passBack(response: Response): Response {
  const headers = new Headers();
  for (const [name, value] of response.headers) {
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.includes(lower) && lower !== "content-length") continue;
    headers.append(name, value);
  }
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}
