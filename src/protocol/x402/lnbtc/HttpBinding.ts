import {
  type BindingResult,
  digest,
  domainOf,
  type HttpBindingParams,
  parseProfileParams,
  refuse,
  sha256Hex,
  validEscapes,
  valueHash,
} from "./Binding.ts";

/**
 * The `http:1` request binding (scheme_exact_lnbtc §HTTP Profile): method, target URI,
 * body digest and the configured bound headers of one HTTP request, hashed with JCS.
 * Client and server build it from the request itself, never from a challenge's echo.
 */

/** The request as the binding sees it. */
export type HttpBindingRequest = {
  /** `@method` (RFC 9421 §2.2.1): case preserved, not normalized. */
  method: string;
  /** `@target-uri` (RFC 9421 §2.2.2): absolute, with its query, escapes and order as sent. */
  url: string;
  /** The content bytes after transfer decoding, before content decoding; empty when absent. */
  body: Uint8Array;
  /**
   * A header's field lines, or undefined when absent. Names are asked in lowercase;
   * several lines are combined as RFC 9421 §2.1 says (trimmed, joined with ", ").
   */
  header(name: string): string | readonly string[] | undefined;
};

const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * `http`/`https`, a host (reg-name or bracketed IP literal) with an optional port, then
 * path and query in RFC 3986 characters. `@` cannot occur before the path, so userinfo is
 * refused; `#` is not allowed anywhere, so fragments are refused.
 */
const HTTP_URL =
  /^https?:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::([0-9]{1,5}))?([/?][A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?$/;
/** A field value of visible ASCII, spaces and tabs: no CR, LF, NUL or non-ASCII (RFC 9110 §5.5). */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/** Checks a target URI against §HTTP Profile; returns why it is refused, or null. */
export function httpUrlProblem(url: string): string | null {
  const match = HTTP_URL.exec(url);
  if (!match || !validEscapes(url)) {
    return "url must be an absolute http(s) URL in ASCII, without userinfo or fragment, with valid escapes.";
  }
  const port = match[2];
  // Port 0 is RFC 3986 syntax but no public origin: refused (the vectors leave it open).
  if (port !== undefined && (Number(port) === 0 || Number(port) > 65535)) {
    return "url names a port outside 1-65535.";
  }
  return null;
}

/** The combined value of a header's field lines (RFC 9421 §2.1), or null when absent. */
export function fieldValue(lines: string | readonly string[] | undefined): string | null {
  if (lines === undefined) return null;
  const list = typeof lines === "string" ? [lines] : lines;
  if (list.length === 0) return null;
  return list.map((line) => line.replace(/^[ \t]+|[ \t]+$/g, "")).join(", ");
}

/** Builds and hashes the `http:1` binding of `request` under the configured `params`. */
export function httpBinding(params: HttpBindingParams, request: HttpBindingRequest): BindingResult {
  const checked = parseProfileParams("http:1", params);
  if (!checked.ok) return refuse(checked.detail);
  if (checked.value.profile !== "http:1") return refuse("not http:1 parameters.");
  const bound = checked.value;
  if (!METHOD.test(request.method)) return refuse("method must be an HTTP token.");
  const urlProblem = httpUrlProblem(request.url);
  if (urlProblem !== null) return refuse(urlProblem);
  const headers: Array<{ name: string; valueHash: string }> = [];
  for (const name of bound.params.headers) {
    const value = fieldValue(request.header(name));
    if (value !== null && !FIELD_VALUE.test(value)) {
      // §HTTP Profile: "Unsupported field values MUST cause rejection."
      return refuse(`header ${name} holds a value outside visible ASCII.`);
    }
    headers.push({
      name,
      valueHash: valueHash(value === null ? null : new TextEncoder().encode(value)),
    });
  }
  return digest(bound, {
    domain: domainOf("http:1"),
    method: request.method,
    url: request.url,
    bodyHash: sha256Hex(request.body),
    headers,
  });
}

/**
 * The bound request of a fetch `Request` whose URL is the public one. Its body is read
 * (a clone), so the caller keeps the original. Several field lines of one header arrive
 * already combined by `Headers`, which is the RFC 9421 §2.1 form, except `cookie`, which
 * Fetch joins with "; " (RFC 9113 §8.2.3): client and server both bind what `Headers`
 * gives, so they agree; one Cookie line (RFC 6265 §5.4) is unaffected.
 */
export async function httpBindingRequestOf(request: Request): Promise<HttpBindingRequest> {
  const body = new Uint8Array(await request.clone().arrayBuffer());
  return {
    method: request.method,
    url: request.url,
    body,
    header: (name) => request.headers.get(name) ?? undefined,
  };
}
