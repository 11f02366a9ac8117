/**
 * RFC 8785 JSON Canonicalization Scheme, shared by MPP and x402 lnbtc: the MPP challenge
 * `request` is base64url(JCS(request)) (draft-httpauth-payment-00 §request), and the
 * lnbtc request hash is SHA-256 of JCS(binding) (scheme_exact_lnbtc §Description Hash
 * Encoding). Hand-written: about twenty lines, versus a
 * dependency for the same thing. `JSON.stringify` already gives the RFC 8785 §3.2.2
 * string and number forms (ECMAScript serialization); what it lacks is key order.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The RFC 8785 canonical form of `value`; throws TypeError on non-JSON values and non-finite numbers. */
export function canonicalize(value: unknown): string {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "string") {
    // RFC 8785 §3.2.2.2 takes I-JSON (RFC 7493 §2.1): a lone surrogate is not a string it can write.
    if (LONE_SURROGATE.test(value)) throw new TypeError("JCS: a string holds a lone surrogate");
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    // RFC 8785 §3.2.2.3: NaN and ±Infinity have no JSON form.
    if (!Number.isFinite(value)) throw new TypeError(`JCS: ${value} is not a finite number`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalize).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    // RFC 8785 §3.2.3: members sorted by UTF-16 code units, which is what the default sort compares.
    // An `undefined` member is absent, as in JSON.stringify (optional fields we leave unset).
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${canonicalize(k)}:${canonicalize(v)}`).join(",")}}`;
  }
  throw new TypeError(`JCS: a ${typeof value} is not JSON`);
}
