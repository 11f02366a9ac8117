import { ProblemError } from "../Errors.ts";

/**
 * Why an invoice was refused:
 * - `malformed`: not a well-formed BOLT #11 string (length, case, characters, truncated fields)
 * - `bad-checksum`: well-formed Bech32 whose checksum does not match (a typo or a cut)
 * - `bad-signature`: the signature cannot be recovered, or does not verify against `n`
 * - `unknown-network`: the prefix is not `lnbc`, `lntb`, `lntbs` or `lnbcrt`
 * - `amount-out-of-range`: zero, sub-millisatoshi, or above `Number.MAX_SAFE_INTEGER` msat
 * - `missing-field`: no usable `p` (payment hash) field
 * - `invalid-field`: `encodeInvoice` was given a field it cannot write
 */
export type Bolt11ErrorCode =
  | "malformed"
  | "bad-checksum"
  | "bad-signature"
  | "unknown-network"
  | "amount-out-of-range"
  | "missing-field"
  | "invalid-field";

/**
 * An invoice that cannot be decoded or encoded. A 400 problem by default, because the
 * invoices we decode mostly arrive in requests; callers that decode their own wallet's
 * invoice should wrap it in a 502-style problem instead.
 */
export class Bolt11Error extends ProblemError {
  readonly code: Bolt11ErrorCode;

  constructor(code: Bolt11ErrorCode, detail: string) {
    super(400, "invalid-invoice", "Invalid BOLT11 invoice", detail, { extensions: { code } });
    this.name = "Bolt11Error";
    this.code = code;
  }
}
