import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { base64urlnopad } from "@scure/base";

/**
 * Secrets at rest and merchant API keys. NWC strings are sealed with AES-256-GCM
 * (WebCrypto), a fresh 96-bit IV each time, and the merchant id as additional data so
 * a sealed secret cannot be moved to another merchant. API keys are random, shown
 * once, stored only as SHA-256 and compared in constant time.
 */

const SEAL_VERSION = "v1";

async function aesKey(rawKey: Uint8Array): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", rawKey, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** Encrypts `plaintext` for `merchantId`; returns `v1.<base64url(iv ‖ ciphertext)>`. */
export async function seal(
  rawKey: Uint8Array,
  merchantId: string,
  plaintext: string,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv, additionalData: new TextEncoder().encode(merchantId) },
      await aesKey(rawKey),
      new TextEncoder().encode(plaintext),
    ),
  );
  const box = new Uint8Array(iv.length + ciphertext.length);
  box.set(iv);
  box.set(ciphertext, iv.length);
  return `${SEAL_VERSION}.${base64urlnopad.encode(box)}`;
}

/** Decrypts a value made by `seal` for the same merchant; throws if it was altered or moved. */
export async function unseal(
  rawKey: Uint8Array,
  merchantId: string,
  sealed: string,
): Promise<string> {
  const [version, body] = sealed.split(".");
  if (version !== SEAL_VERSION || body === undefined)
    throw new Error("unknown sealed-secret format");
  const box = base64urlnopad.decode(body);
  const plaintext = await crypto.subtle.decrypt(
    {
      name: "AES-GCM",
      iv: box.subarray(0, 12),
      additionalData: new TextEncoder().encode(merchantId),
    },
    await aesKey(rawKey),
    box.subarray(12),
  );
  return new TextDecoder().decode(plaintext);
}

/** A new merchant id: opaque, URL-safe, 128 random bits. */
export function newMerchantId(): string {
  return `m_${base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(16)))}`;
}

/** A new merchant API key (256 random bits), shown to the merchant once. */
export function newApiKey(): string {
  return `ln402_sk_${base64urlnopad.encode(crypto.getRandomValues(new Uint8Array(32)))}`;
}

/** SHA-256 of an API key, hex: the only form in which keys are stored. */
export function hashApiKey(apiKey: string): string {
  return bytesToHex(sha256(utf8ToBytes(apiKey)));
}

/** Constant-time check of a presented key against a stored hash. */
export function apiKeyMatches(presented: string, storedHash: string): boolean {
  const a = utf8ToBytes(hashApiKey(presented));
  const b = utf8ToBytes(storedHash);
  // Equal-length inputs (both are 64 hex chars when the hash is well formed).
  if (a.length !== b.length) return false;
  return crypto.subtle.timingSafeEqual(a, b);
}
