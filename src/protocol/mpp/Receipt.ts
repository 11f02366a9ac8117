/**
 * The `Payment-Receipt` header of a paid 2xx answer (draft-httpauth-payment-00
 * §receipt): base64url of the receipt JSON. ln402 always adds `challengeId`, which
 * draft-lightning-charge-00 §receipt requires. Wire-compatible with mppx 0.11.
 */

import { canonicalize } from "../Jcs.ts";
import { isRecord, object, optional, required, SchemaIssue, string } from "../Schema.ts";
import { decodeText, encodeText } from "./Base64Url.ts";
import { isRfc3339 } from "./Challenge.ts";

/** A receipt; methods may add members (`intent`, `challengeId`, …). */
export type Receipt = {
  status: "success";
  method: string;
  /** RFC 3339. */
  timestamp: string;
  /** What the payment is known by: a Lightning payment hash, never a preimage. */
  reference: string;
  challengeId?: string;
  [member: string]: unknown;
};

const Known = object({
  status: required("status", (v, path) => {
    if (v !== "success") throw new SchemaIssue(path, '"success"');
    return "success" as const;
  }),
  method: required("method", string(128)),
  timestamp: required("timestamp", (v, path) => {
    if (typeof v !== "string" || !isRfc3339(v))
      throw new SchemaIssue(path, "an RFC 3339 timestamp");
    return v;
  }),
  reference: required("reference", string(1024)),
  challengeId: optional("challengeId", string(256)),
});

/** The header value: base64url (no padding) of the receipt's JCS form (draft-httpauth-payment-01 §receipt). */
export function serialize(receipt: Receipt): string {
  return encodeText(canonicalize(receipt));
}

/** Reads a `Payment-Receipt` value; throws SchemaIssue (or SyntaxError) when it is not one. */
export function parse(header: string): Receipt {
  let json: unknown;
  try {
    json = JSON.parse(decodeText(header.trim()));
  } catch {
    throw new SchemaIssue("Payment-Receipt", "base64url-encoded JSON");
  }
  if (!isRecord(json)) throw new SchemaIssue("Payment-Receipt", "a JSON object");
  return { ...json, ...Known(json, "") };
}
