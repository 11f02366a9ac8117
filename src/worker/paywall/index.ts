import {
  PAYWALL_SCRIPT,
  PAYWALL_SCRIPT_HASH,
  PAYWALL_STYLE,
  PAYWALL_STYLE_HASH,
} from "./assets.ts";
import { invoiceQrSvg } from "./qr.ts";

/**
 * The browser paywall: the HTML page the gateway answers a browser's unpaid request with
 * (`wantsPaywall`: a GET or HEAD whose `Accept` prefers `text/html`), as the body of the
 * same 402 that carries the protocol headers.
 * Pure: no I/O, no clock (the caller passes `now`).
 *
 * The page shows the amount, the description, the invoice as a QR code (inline SVG drawn by
 * ln402) and as text with a copy button, a WebLN "Pay with wallet" button when the browser
 * has `window.webln`, a live status and an expiry countdown. Once paid, it repeats the
 * original request itself and shows the answer: text and JSON in the page, anything else
 * as a download.
 *
 * ## The contract with the gateway
 *
 * 1. **Status.** The page polls `GET <statusUrl>` (`Accept: application/json`, no
 *    credentials beyond same-origin) every 1.5 s until paid or expired, plus once right
 *    after a WebLN payment. It reads a 200 JSON body `{ "paid": boolean }` (other fields
 *    are ignored, so `GET /invoice/status/:paymentHash` qualifies as it is); any other
 *    answer or a network error counts as "not yet". `paid` must mean what ln402 means by
 *    it: the merchant's wallet received the payment (DESIGN §3), never a preimage.
 * 2. **Retry.** Once paid, the page sends `<retry.method> <retry.url>` with no body, the
 *    headers in `retry.headers` verbatim, and `Ln402-Paid: <paymentHash>` (64 lowercase
 *    hex). The gateway serves the resource for it when, and only when:
 *    - the hash is an invoice in this merchant's book, issued for this same bound request:
 *      the retry, recomputed from the live request (`http:1`: method, URL, the empty
 *      body's hash, bound headers), gives the invoice's description hash. Browsers send
 *      their own headers, so bind none for a page, or put each bound header's value in
 *      `retry.headers` (the page sends exactly those);
 *    - the merchant's wallet received the payment (the status logic of step 1);
 *    - it has not been redeemed: `Ln402-Paid` is one more proof of the same invoice, so it
 *      takes the same consume-once claim as an x402 or MPP proof (one payment, one
 *      delivery, whichever proof comes first), with the same short retry window after an
 *      upstream failure;
 *    - the page token matches, if the gateway issued one (recommended): the payment hash
 *      is in the invoice, so anyone shown the QR code knows it. A random token in
 *      `retry.headers` (e.g. `Ln402-Paywall-Token`), stored with the invoice, keeps the
 *      delivery for the browser that was shown the page.
 *    Otherwise it answers as for any unpaid or refused request (a problem body; the page
 *    shows its `detail` and offers to try again).
 * 3. **Headers.** Send the page with `paywallHeaders(input)`: status 402, `no-store`, and
 *    the CSP of `paywallCsp(input)`, which allows the page's own inline script and style
 *    by hash, fetches to its origin (plus the origins of absolute `statusUrl`/`retry.url`)
 *    and nothing else.
 *
 * The page cannot replay a request body: `wantsPaywall` is false for anything but GET/HEAD.
 */

/** What the page shows and where it goes; every string is escaped before it reaches HTML. */
export type PaywallInput = {
  /** The BOLT11 invoice to pay (any case). */
  invoice: string;
  /** Its payment hash, 64 hex characters: sent back as `Ln402-Paid`. */
  paymentHash: string;
  /** The amount the invoice asks, in sats (shown). */
  amountSats: number;
  /** What is being bought (merchant text, shown escaped): a bound invoice carries only its hash. */
  description: string;
  /** Answers `{ "paid": boolean }` for this invoice (relative, or absolute http(s)). */
  statusUrl: string;
  /** The request to repeat once paid. `headers` are sent verbatim with `Ln402-Paid`. */
  retry: { url: string; method: string; headers?: Record<string, string> };
  /** When the invoice expires, unix seconds. */
  expiresAt: number;
  /** The server's clock at rendering, unix seconds: the countdown runs from `expiresAt - now`, whatever the browser's clock says. */
  now: number;
};

const HEX64 = /^[0-9a-f]{64}$/;
const BOLT11 = /^ln[a-z0-9]+$/i;
const TOKEN = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/** Text for an HTML text node or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );
}

/**
 * JSON that is safe inside `<script type="application/json">`: no `<` can close the element
 * (`</script>`) or open a comment, and U+2028/2029 are escaped for old parsers.
 */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** The origin of an absolute http(s) URL; null for a relative one. Anything else is refused. */
function originOf(url: string): string | null {
  if (url.startsWith("/") && !url.startsWith("//")) return null;
  const parsed = new URL(url);
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:")
    throw new TypeError(`paywall URLs must be http(s) or a path, not ${parsed.protocol}`);
  return parsed.origin;
}

function check(input: PaywallInput): void {
  if (!BOLT11.test(input.invoice)) throw new TypeError("paywall: invoice is not a BOLT11 string");
  if (!HEX64.test(input.paymentHash))
    throw new TypeError("paywall: paymentHash must be 64 lowercase hex characters");
  if (!Number.isSafeInteger(input.amountSats) || input.amountSats < 0)
    throw new TypeError("paywall: amountSats must be a non-negative integer");
  if (!TOKEN.test(input.retry.method)) throw new TypeError("paywall: retry.method is not a method");
  for (const name of Object.keys(input.retry.headers ?? {}))
    if (!TOKEN.test(name)) throw new TypeError(`paywall: bad retry header name ${name}`);
  originOf(input.statusUrl);
  originOf(input.retry.url);
}

/** The q-value `accept` gives `type` (exact match only; 0 when absent or malformed). */
function quality(accept: string, type: string): number {
  for (const range of accept.split(",")) {
    const [name, ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    if (name !== type) continue;
    const q = params.find((p) => p.startsWith("q="));
    const value = q === undefined ? 1 : Number(q.slice(2));
    return Number.isFinite(value) ? value : 0;
  }
  return 0;
}

/**
 * Whether an unpaid request should get the paywall page rather than the bare 402: a
 * body-less request (GET, HEAD) whose `Accept` names `text/html` at least as high as
 * `application/json`, as browser navigations do. Agents (any type, JSON) get the 402.
 */
export function wantsPaywall(request: { method: string; accept: string | null }): boolean {
  if (request.method !== "GET" && request.method !== "HEAD") return false;
  const accept = request.accept ?? "";
  const html = quality(accept, "text/html");
  return html > 0 && html >= quality(accept, "application/json");
}

/** The Content-Security-Policy to send with the page of `input`. */
export function paywallCsp(input: Pick<PaywallInput, "statusUrl" | "retry">): string {
  const origins = new Set(
    [originOf(input.statusUrl), originOf(input.retry.url)].filter((o) => o !== null),
  );
  return [
    "default-src 'none'",
    `script-src ${PAYWALL_SCRIPT_HASH}`,
    `style-src ${PAYWALL_STYLE_HASH}`,
    `connect-src ${["'self'", ...origins].join(" ")}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Every header of the page's response (with status 402): type, CSP, no caching, no framing, no referrer. */
export function paywallHeaders(
  input: Pick<PaywallInput, "statusUrl" | "retry">,
): Record<string, string> {
  return {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": paywallCsp(input),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
  };
}

/** The complete HTML document of the paywall for `input`. Throws a TypeError on malformed input. */
export function renderPaywall(input: PaywallInput): string {
  check(input);
  const invoice = input.invoice.toLowerCase();
  const sats = `${input.amountSats.toLocaleString("en-US")} sat${input.amountSats === 1 ? "" : "s"}`;
  const description = escapeHtml(input.description);
  const data = scriptJson({
    invoice,
    paymentHash: input.paymentHash,
    statusUrl: input.statusUrl,
    retry: { url: input.retry.url, method: input.retry.method, headers: input.retry.headers ?? {} },
    expiresInSecs: Math.max(0, Math.floor(input.expiresAt - input.now)),
  });
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Pay ${sats}: ${description}</title>
<style>${PAYWALL_STYLE}</style>
</head>
<body>
<main>
<h1>Payment required</h1>
<p class="amount">${sats}</p>
<p class="desc" id="description">${description}</p>
<p class="status" id="status" role="status" aria-live="polite">Waiting for payment…</p>
<p class="muted" id="note" aria-live="polite"></p>
<div id="pay">
<a id="qr" href="lightning:${invoice}" data-invoice="${invoice}" aria-label="Open the invoice in a wallet app">${invoiceQrSvg(invoice)}</a>
<p class="muted">Scan with a Lightning wallet. Expires in <span id="countdown">–</span>.</p>
<div class="actions">
<button type="button" class="primary" id="webln" hidden>Pay with wallet</button>
<button type="button" id="copy">Copy invoice</button>
<a class="button" href="lightning:${invoice}">Open wallet app</a>
</div>
<label for="invoice">Lightning invoice</label>
<textarea id="invoice" rows="4" readonly spellcheck="false">${invoice}</textarea>
</div>
<div class="actions"><button type="button" id="again" hidden>Try again</button><button type="button" id="reload" hidden>Reload</button></div>
<section id="result" hidden aria-labelledby="result-title">
<h2 id="result-title" tabindex="-1">What you bought</h2>
<pre id="result-text" tabindex="0" hidden></pre>
<a class="button" id="download" hidden>Download</a>
</section>
<noscript><p>Pay the invoice with any Lightning wallet. This page needs JavaScript to load what you bought once it is paid.</p></noscript>
</main>
<script type="application/json" id="ln402-paywall">${data}</script>
<script>${PAYWALL_SCRIPT}</script>
</body>
</html>
`;
}
