import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { canonicalize } from "../../Jcs.ts";
import { isRecord } from "../../Schema.ts";

/**
 * Request binding of x402 lnbtc (scheme_exact_lnbtc §Request Binding): the profiles,
 * their parameter objects, and the digest `requestHash = SHA-256(UTF8(JCS(binding)))`
 * that the invoice's signed description hash must carry. The profile builders live in
 * `HttpBinding.ts` and `McpBinding.ts`; this module holds what they share.
 */

/** The binding profiles the spec defines. */
export const PROFILES = ["http:1", "mcp:1"] as const;

/** A binding profile. */
export type BindingProfile = (typeof PROFILES)[number];

/** `http:1` parameters: the bound header names (§HTTP Profile). */
export type HttpBindingParams = { headers: string[] };

/** `mcp:1` parameters: the server identity and the bound `_meta` names (§MCP Profile). */
export type McpBindingParams = { server: string; metadata: string[] };

/** A profile with its validated parameters. */
export type ProfileParams =
  | { profile: "http:1"; params: HttpBindingParams }
  | { profile: "mcp:1"; params: McpBindingParams };

/** A computed binding: what goes into `extra` and into the invoice's description hash. */
export type RequestBinding = ProfileParams & {
  /** 64 lowercase hex. */
  requestHash: string;
  /** The UTF-8 description bytes' text, `JCS(binding)`: useful in tests and logs. */
  canonical: string;
};

/** A binding, or why the request cannot be bound (always `invalid_exact_lnbtc_request_binding`). */
export type BindingResult =
  | { ok: true; binding: RequestBinding }
  | { ok: false; errorReason: "invalid_exact_lnbtc_request_binding"; detail: string };

/** The domain tag of a profile (§Request Binding: "x402:exact:lnbtc:bolt11:" + profile). */
export function domainOf(profile: BindingProfile): string {
  return `x402:exact:lnbtc:bolt11:${profile}`;
}

/** SHA-256 of bytes, 64 lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/**
 * The `valueHash` of a bound header or metadata member: SHA-256(0x01 ‖ bytes) when
 * present, SHA-256(0x00) when absent, so absent and empty differ (§HTTP Profile).
 */
export function valueHash(bytes: Uint8Array | null): string {
  if (bytes === null) return sha256Hex(Uint8Array.of(0));
  const input = new Uint8Array(bytes.length + 1);
  input[0] = 1;
  input.set(bytes, 1);
  return sha256Hex(input);
}

/** Hashes a binding object: `SHA-256(UTF8(JCS(binding)))` (§Description Hash Encoding). */
export function digest(params: ProfileParams, binding: Record<string, unknown>): BindingResult {
  let canonical: string;
  try {
    canonical = canonicalize(binding);
  } catch (err) {
    return refuse(err instanceof Error ? err.message : "not JSON");
  }
  const requestHash = sha256Hex(new TextEncoder().encode(canonical));
  return { ok: true, binding: { ...params, requestHash, canonical } };
}

/** A refusal with the spec's reason. */
export function refuse(detail: string): BindingResult & { ok: false } {
  return { ok: false, errorReason: "invalid_exact_lnbtc_request_binding", detail };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** Never bound: the payment itself (§HTTP Profile) and the MCP payment/progress members (§MCP Profile). */
const UNBINDABLE_HEADERS = new Set(["payment-signature"]);
const UNBINDABLE_METADATA = new Set(["x402/payment", "progressToken"]);

/**
 * Validates a profile and its parameter object: a known profile, exactly the members it
 * requires, names in order without duplicates (§HTTP Profile, §MCP Profile). Anything
 * else is `invalid_exact_lnbtc_request_binding`; there is no fallback profile.
 */
export function parseProfileParams(
  profile: unknown,
  params: unknown,
): { ok: true; value: ProfileParams } | { ok: false; detail: string } {
  if (!isRecord(params)) return { ok: false, detail: "requestBindingParams must be an object." };
  const keys = Object.keys(params).sort();
  if (profile === "http:1") {
    if (keys.join() !== "headers")
      return { ok: false, detail: "http:1 takes exactly { headers }." };
    const headers = names(params.headers, (n) => TOKEN.test(n) && !UNBINDABLE_HEADERS.has(n));
    if (headers === null) {
      return {
        ok: false,
        detail:
          "headers must be lowercase field names in ascending order, without duplicates or payment-signature.",
      };
    }
    return { ok: true, value: { profile, params: { headers } } };
  }
  if (profile === "mcp:1") {
    if (keys.join() !== "metadata,server") {
      return { ok: false, detail: "mcp:1 takes exactly { server, metadata }." };
    }
    const server = params.server;
    if (typeof server !== "string" || !isServerUri(server)) {
      return {
        ok: false,
        detail: "server must be an absolute ASCII URI without userinfo or fragment.",
      };
    }
    const metadata = names(params.metadata, (n) => n !== "" && !UNBINDABLE_METADATA.has(n));
    if (metadata === null) {
      return {
        ok: false,
        detail:
          "metadata must be non-empty names in JCS order, without duplicates, x402/payment or progressToken.",
      };
    }
    return { ok: true, value: { profile, params: { server, metadata } } };
  }
  return { ok: false, detail: "requestBindingProfile must be http:1 or mcp:1." };
}

/** Whether two validated parameter sets are equal (compared by their JCS form, §Facilitator Validation 3). */
export function sameProfileParams(a: ProfileParams, b: ProfileParams): boolean {
  return a.profile === b.profile && canonicalize(a.params) === canonicalize(b.params);
}

/**
 * A list of names, each accepted by `valid`, strictly ascending by UTF-16 code units
 * (JCS member order, which is ASCII byte order for ASCII names), or null.
 */
function names(value: unknown, valid: (name: string) => boolean): string[] | null {
  if (!Array.isArray(value)) return null;
  const out: string[] = [];
  for (const name of value) {
    if (typeof name !== "string" || !valid(name)) return null;
    const previous = out[out.length - 1];
    if (previous !== undefined && !(previous < name)) return null;
    out.push(name);
  }
  return out;
}

const URI_CHARS = /^[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]+$/;

/** An absolute URI in ASCII syntax (RFC 3986 §4.3), with valid escapes, no fragment, no userinfo. */
export function isServerUri(uri: string): boolean {
  const match = /^[A-Za-z][A-Za-z0-9+.-]*:(.*)$/.exec(uri);
  if (!match || !URI_CHARS.test(uri) || !validEscapes(uri)) return false;
  const rest = match[1] ?? "";
  if (!rest.startsWith("//")) return true;
  const authority = rest.slice(2).split(/[/?]/, 1)[0] ?? "";
  return !authority.includes("@");
}

/** Every `%` starts a two-hex-digit escape (RFC 3986 §2.1). */
export function validEscapes(text: string): boolean {
  return !/%(?![0-9A-Fa-f]{2})/.test(text);
}
