/**
 * base64url without padding (RFC 4648 §5), the encoding of every MPP header value
 * (draft-httpauth-payment-00). Decoding also accepts trailing `=` padding, which some
 * encoders add, and nothing else.
 */
import { base64urlnopad } from "@scure/base";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** base64url (no padding) of the UTF-8 bytes of `text`. */
export function encodeText(text: string): string {
  return base64urlnopad.encode(encoder.encode(text));
}

/** The UTF-8 text a base64url string encodes; throws on anything that is not base64url of UTF-8. */
export function decodeText(encoded: string): string {
  return decoder.decode(base64urlnopad.decode(encoded.replace(/={1,2}$/, "")));
}

/** base64url (no padding) of bytes. */
export function encodeBytes(bytes: Uint8Array): string {
  return base64urlnopad.encode(bytes);
}

/** The bytes a base64url string encodes (trailing `=` padding accepted); throws on anything else. */
export function decodeBytes(encoded: string): Uint8Array {
  return base64urlnopad.decode(encoded.replace(/={1,2}$/, ""));
}
