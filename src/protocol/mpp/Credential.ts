/**
 * An `Authorization: Payment <base64url JSON>` credential (draft-httpauth-payment-00
 * §credential): the echoed challenge (its `request` still encoded on the wire), the
 * method's payload, and an optional payer `source`. Wire-compatible with mppx 0.11.
 */
import type { ProblemInit } from "../Errors.ts";
import { canonicalize } from "../Jcs.ts";
import { isRecord, object, optional, required, SchemaIssue, string } from "../Schema.ts";
import { decodeText, encodeText } from "./Base64Url.ts";
import { type Challenge, decodeRequest, encodeRequest, isRfc3339 } from "./Challenge.ts";
import { malformedCredential } from "./Problems.ts";

/** A parsed credential; the payload is checked by the method it names. */
export type Credential = {
  challenge: Challenge;
  payload: Record<string, unknown>;
  source?: string;
};

/** Longest Authorization value read: a Lightning credential is well under 4 KiB. */
const MAX_HEADER_CHARS = 32 * 1024;

const WireChallenge = object({
  id: required("id", string(256)),
  realm: required("realm", string(1024)),
  method: required("method", string(128)),
  intent: required("intent", string(128)),
  request: required("request", string(16 * 1024)),
  expires: optional("expires", string(64)),
  description: optional("description", string(4096)),
  digest: optional("digest", string(1024)),
  header: optional("header", string(128)),
  opaque: optional("opaque", string(4096)),
});

const WireCredential = object({
  challenge: required("challenge", WireChallenge),
  payload: required("payload", (value, path) => {
    if (!isRecord(value)) throw new SchemaIssue(path, "an object");
    return value;
  }),
  source: optional("source", string(1024)),
});

/** The `Authorization` header value: `Payment <base64url(JSON)>`. */
export function serialize(credential: Credential): string {
  const { request, ...challenge } = credential.challenge;
  const wire = {
    challenge: { ...challenge, request: encodeRequest(request) },
    payload: credential.payload,
    ...(credential.source !== undefined && { source: credential.source }),
  };
  // draft-httpauth-payment-01 §credential: the JSON is JCS-serialized.
  return `Payment ${encodeText(canonicalize(wire))}`;
}

/** Reads a Payment credential out of an `Authorization` value; throws a `malformed-credential` problem. */
export function parse(authorization: string, init?: ProblemInit): Credential {
  const fail = (why: string) =>
    malformedCredential(
      `The Payment credential ${why}. Send \`Authorization: Payment <base64url JSON>\` echoing the challenge.`,
      init,
    );
  if (authorization.length > MAX_HEADER_CHARS) throw fail("is too large");
  // A proxy may have merged several credentials: take the Payment one (mppx does the same).
  const part = authorization
    .split(",")
    .map((s) => s.trim())
    .find((s) => /^payment\s+/i.test(s));
  const token = part?.replace(/^payment\s+/i, "");
  if (!token) throw fail("is missing (no `Payment` scheme)");
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(token)) throw fail("is not base64url");
  let json: unknown;
  try {
    json = JSON.parse(decodeText(token));
  } catch {
    throw fail("is not base64url-encoded JSON");
  }
  try {
    const wire = WireCredential(json, "");
    const { request: encoded, ...echo } = wire.challenge;
    if (echo.expires !== undefined && !isRfc3339(echo.expires)) {
      throw new SchemaIssue("challenge.expires", "an RFC 3339 timestamp");
    }
    let request: Record<string, unknown>;
    try {
      request = decodeRequest(encoded);
    } catch {
      throw new SchemaIssue("challenge.request", "base64url of a JSON object");
    }
    const credential: Credential = { challenge: { ...echo, request }, payload: wire.payload };
    if (wire.source !== undefined) credential.source = wire.source;
    return credential;
  } catch (err) {
    if (err instanceof SchemaIssue) throw fail(`is malformed: ${err.message}`);
    throw err;
  }
}
