import { BadRequestError } from "../Errors.ts";
import {
  count,
  type Infer,
  isRecord,
  object,
  optional,
  type Parser,
  required,
  SchemaIssue,
  string,
} from "../Schema.ts";

/**
 * The facilitator request body of x402 v2 (`POST /verify`, `POST /settle`):
 * `{ x402Version, paymentPayload, paymentRequirements }`. Only a body that is not x402
 * at all is refused (400); everything about the payment itself is judged later and
 * answered with `isValid: false` / `success: false` and a reason.
 */

const record: Parser<Record<string, unknown>> = (value, path) => {
  if (!isRecord(value)) throw new SchemaIssue(path, "an object");
  return value;
};

/** PaymentRequirements (x402 v2). `amount` stays a string: msat for Lightning. */
const requirements = object({
  scheme: required("scheme", string(64)),
  network: required("network", string(128)),
  amount: required("amount", string(64)),
  asset: optional("asset", string(128)),
  payTo: optional("payTo", string(256)),
  maxTimeoutSeconds: optional("maxTimeoutSeconds", count),
  extra: optional("extra", record),
});

const payload = object({
  x402Version: required("x402Version", count),
  accepted: required("accepted", record),
  payload: required("payload", record),
  extensions: optional("extensions", record),
});

const body = object({
  x402Version: optional("x402Version", count),
  paymentPayload: required("paymentPayload", payload),
  paymentRequirements: required("paymentRequirements", requirements),
});

/** The parsed facilitator request (type derived from the schema). */
export type FacilitatorRequest = Infer<typeof body>;

/** Parses a facilitator request body; throws a 400 naming the field when it is not x402. */
export function parseFacilitatorRequest(value: unknown): FacilitatorRequest {
  try {
    return body(value, "");
  } catch (err) {
    if (err instanceof SchemaIssue) {
      throw new BadRequestError(
        `Not an x402 facilitator request: ${err.message}. Send { x402Version, paymentPayload, paymentRequirements }.`,
      );
    }
    throw err;
  }
}
