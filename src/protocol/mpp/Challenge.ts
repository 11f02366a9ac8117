/**
 * A `WWW-Authenticate: Payment` challenge (draft-httpauth-payment-00 §challenge): build
 * one with an HMAC-bound id, write it as a header, read every Payment challenge out of
 * header values, and check an echoed id. Wire-compatible with mppx 0.11.
 */
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { canonicalize } from "../Jcs.ts";
import { isRecord } from "../Schema.ts";
import { decodeText, encodeBytes, encodeText } from "./Base64Url.ts";

/** A Payment challenge; `request` is decoded, its wire form is `encodeRequest(request)`. */
export type Challenge = {
  id: string;
  realm: string;
  method: string;
  intent: string;
  request: Record<string, unknown>;
  /** RFC 3339; required in practice (servers reject credentials without it). */
  expires?: string;
  description?: string;
  digest?: string;
  /**
   * draft-httpauth-payment-01: the request header the credential must come in (e.g.
   * `Payment-Authorization`); absent means `Authorization`.
   */
  header?: string;
  opaque?: string;
};

/** What `from` binds into a challenge. */
export type ChallengeInit = Omit<Challenge, "id"> & { secretKey: string };

/** Largest `request` parameter read (as mppx): the request is small JSON. */
const MAX_REQUEST_CHARS = 16 * 1024;
/** §method: method names are lowercase tokens. */
const METHOD_PATTERN = /^[a-z][a-z0-9:_-]*$/;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const encoder = new TextEncoder();

/** The `request` parameter: base64url (no padding) of the JCS form of the request. */
export function encodeRequest(request: Record<string, unknown>): string {
  return encodeText(canonicalize(request));
}

/** Decodes a `request` parameter into its object; throws on anything else. */
export function decodeRequest(encoded: string): Record<string, unknown> {
  if (encoded.length > MAX_REQUEST_CHARS) throw new Error("request parameter is too large");
  const value: unknown = JSON.parse(decodeText(encoded));
  if (!isRecord(value)) throw new Error("request parameter is not a JSON object");
  return value;
}

/** A challenge whose id is the HMAC of its contents under `secretKey` (§challenge id binding). */
export function from(init: ChallengeInit): Challenge {
  const { secretKey, ...fields } = init;
  if (fields.expires !== undefined && !isRfc3339(fields.expires)) {
    throw new TypeError(`expires must be an RFC 3339 timestamp; got "${fields.expires}"`);
  }
  const challenge = { ...fields, id: "" };
  // `Authorization` is the default and never written (as mppx), so old ids stay stable.
  if (challenge.header !== undefined && isDefaultHeader(challenge.header)) delete challenge.header;
  for (const key of ["description", "digest", "header", "opaque", "expires"] as const) {
    if (challenge[key] === undefined) delete challenge[key];
  }
  challenge.id = computeId(challenge, secretKey);
  return challenge;
}

/** True when `challenge.id` is the HMAC this `secretKey` gives its contents; constant time. */
export function verify(challenge: Challenge, secretKey: string): boolean {
  const expected = encoder.encode(computeId(challenge, secretKey));
  const actual = encoder.encode(challenge.id);
  let diff = expected.length ^ actual.length;
  for (let i = 0; i < expected.length; i++) diff |= (expected[i] ?? 0) ^ (actual[i] ?? 0);
  return diff === 0;
}

const isDefaultHeader = (header: string) => header.toLowerCase() === "authorization";

/**
 * id = base64url(HMAC-SHA256(secret, realm|method|intent|request|expires|digest[|header]|opaque)),
 * absent fields as ''; `header` takes a slot (before opaque) only when present
 * (draft-httpauth-payment-01), so ids of challenges without it are unchanged. The
 * description is not covered (§challenge id binding).
 */
function computeId(challenge: Challenge, secretKey: string): string {
  const slots = [
    challenge.realm,
    challenge.method,
    challenge.intent,
    encodeRequest(challenge.request),
    challenge.expires ?? "",
    challenge.digest ?? "",
  ];
  if (challenge.header !== undefined && !isDefaultHeader(challenge.header))
    slots.push(challenge.header);
  slots.push(challenge.opaque ?? "");
  const input = slots.join("|");
  return encodeBytes(hmac(sha256, encoder.encode(secretKey), encoder.encode(input)));
}

/** The header value `Payment id="…", realm="…", …` in mppx's parameter order. */
export function serialize(challenge: Challenge): string {
  const params: [string, string | undefined][] = [
    ["id", challenge.id],
    ["realm", challenge.realm],
    ["method", challenge.method],
    ["intent", challenge.intent],
    ["request", encodeRequest(challenge.request)],
    ["description", challenge.description],
    ["digest", challenge.digest],
    ["expires", challenge.expires],
    ["header", challenge.header],
    ["opaque", challenge.opaque],
  ];
  const parts = params.flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${quote(v)}`]));
  return `Payment ${parts.join(", ")}`;
}

/**
 * RFC 9110 §5.6.4 quoted-string. Header values are byte strings, so (as mppx does)
 * characters above U+00FF are written `\uXXXX`; a literal backslash is always doubled,
 * so the escape is unambiguous.
 */
function quote(value: string): string {
  if (/[\r\n\0]/.test(value))
    throw new TypeError("a challenge parameter cannot hold CR, LF or NUL");
  const escaped = value
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/[\u0100-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return `"${escaped}"`;
}

/** Whether `value` is an RFC 3339 date-time that parses. */
export function isRfc3339(value: string): boolean {
  return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
}

/**
 * Every readable Payment challenge in `WWW-Authenticate` values (one header may hold
 * several challenges, RFC 9110 §11.6.1, and there may be several headers). Other schemes
 * and unknown parameters are skipped; a Payment challenge that repeats a parameter or
 * lacks a required one is dropped, so one bad offer never hides the others. Throws only
 * when a header value cannot be split into challenges at all.
 */
export function parseAll(headerValues: readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const value of headerValues) {
    for (const { scheme, params } of splitChallenges(value)) {
      if (scheme.toLowerCase() !== "payment" || params === null) continue;
      const challenge = fromParams(params);
      if (challenge) out.push(challenge);
    }
  }
  return out;
}

function fromParams(params: Map<string, string> | "duplicate"): Challenge | null {
  if (params === "duplicate") return null;
  const get = (k: string) => params.get(k);
  const [id, realm, method, intent, encoded] = ["id", "realm", "method", "intent", "request"].map(
    get,
  );
  if (!id || realm === undefined || !method || !intent || !encoded) return null;
  if (!METHOD_PATTERN.test(method)) return null;
  const expires = get("expires");
  if (expires !== undefined && !isRfc3339(expires)) return null;
  let request: Record<string, unknown>;
  try {
    request = decodeRequest(encoded);
  } catch {
    return null;
  }
  const challenge: Challenge = { id, realm, method, intent, request };
  if (expires !== undefined) challenge.expires = expires;
  for (const key of ["description", "digest", "header", "opaque"] as const) {
    const v = get(key);
    if (v !== undefined) challenge[key] = v;
  }
  if (challenge.header !== undefined && isDefaultHeader(challenge.header)) delete challenge.header;
  return challenge;
}

type RawChallenge = { scheme: string; params: Map<string, string> | "duplicate" | null };

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;

/** Splits a header value into challenges: `scheme [token68 | #auth-param]`, comma-separated. */
function splitChallenges(value: string): RawChallenge[] {
  const out: RawChallenge[] = [];
  let i = 0;
  const skip = (chars: RegExp) => {
    while (i < value.length && chars.test(value[i] ?? "")) i++;
  };
  const token = () => {
    const start = i;
    while (i < value.length && TOKEN.test(value[i] ?? "")) i++;
    return value.slice(start, i);
  };
  let current: RawChallenge | null = null;
  while (i < value.length) {
    skip(/[\s,]/);
    if (i >= value.length) break;
    const start = i;
    const name = token();
    if (!name) throw new SyntaxError(`unexpected "${value[i]}" at ${i} in WWW-Authenticate`);
    skip(/[ \t]/);
    if (value[i] === "=" && current && current.params !== null) {
      i++;
      skip(/[ \t]/);
      const paramValue = value[i] === '"' ? readQuoted() : token();
      const key = name.toLowerCase();
      if (current.params !== "duplicate") {
        if (current.params.has(key)) current.params = "duplicate";
        else current.params.set(key, paramValue);
      }
      continue;
    }
    // A new challenge. A token68 credential (`Bearer abc==`) gets no params.
    i = start + name.length;
    skip(/[ \t]/);
    const token68 = /^[A-Za-z0-9\-._~+/]+=*[ \t]*(,|$)/.exec(value.slice(i));
    current = { scheme: name, params: new Map() };
    if (token68 && !/^[A-Za-z0-9\-._~+/]+[ \t]*=[^=]/.test(value.slice(i))) {
      current.params = null;
      i += token68[0].length;
    }
    out.push(current);
  }
  return out;

  function readQuoted(): string {
    let result = "";
    i++;
    while (i < value.length) {
      const c = value[i++];
      if (c === '"') return result;
      if (c !== "\\") {
        result += c;
        continue;
      }
      const next = value[i++];
      if (next === undefined) break;
      const hex = value.slice(i, i + 4);
      // mppx writes characters above U+00FF as `\uXXXX` (see `quote`).
      if (next === "u" && /^[0-9A-Fa-f]{4}$/.test(hex)) {
        result += String.fromCharCode(Number.parseInt(hex, 16));
        i += 4;
      } else result += next;
    }
    throw new SyntaxError("unterminated quoted-string in WWW-Authenticate");
  }
}
