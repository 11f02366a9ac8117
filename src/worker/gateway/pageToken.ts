import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/**
 * The browser paywall's page token. The payment hash that `Ln402-Paid` names is in the
 * invoice, so anyone who sees the QR code knows it; the token, handed only to the page
 * the 402 rendered, keeps the delivery for that browser. Stateless: an HMAC of the
 * merchant and the payment hash under a key derived from SECRETS_KEY (never stored).
 */

/** The header the page sends the token in, beside `Ln402-Paid`. */
export const PAGE_TOKEN_HEADER = "Ln402-Paywall-Token";

const keys = new WeakMap<Uint8Array, Uint8Array>();

function keyOf(secretsKey: Uint8Array): Uint8Array {
  let key = keys.get(secretsKey);
  if (key === undefined) {
    key = hmac(sha256, secretsKey, new TextEncoder().encode("ln402 gateway paywall token v1"));
    keys.set(secretsKey, key);
  }
  return key;
}

/** The token of one invoice of one merchant. */
export function pageToken(secretsKey: Uint8Array, merchantId: string, paymentHash: string): string {
  return bytesToHex(
    hmac(sha256, keyOf(secretsKey), new TextEncoder().encode(`${merchantId}|${paymentHash}`)),
  );
}

/** Whether `token` is that invoice's page token (compared in constant time). */
export function pageTokenMatches(
  secretsKey: Uint8Array,
  merchantId: string,
  paymentHash: string,
  token: string | null,
): boolean {
  if (token === null || !/^[0-9a-f]{64}$/.test(token)) return false;
  const encoder = new TextEncoder();
  return crypto.subtle.timingSafeEqual(
    encoder.encode(token),
    encoder.encode(pageToken(secretsKey, merchantId, paymentHash)),
  );
}
