import { type FacilitatorRequest, parseFacilitatorRequest } from "../protocol/x402/Messages.ts";
import { X402_NETWORKS } from "../protocol/x402/Networks.ts";
import { type Rejection, reject } from "../protocol/x402/Reasons.ts";
import { preparePayment } from "../protocol/x402/Verify.ts";
import type { Store } from "../store/Store.ts";
import type { Bindings } from "./env.ts";
import { unwrap } from "./merchant/rpc.ts";
import { merchantStub } from "./merchantStub.ts";
import { merchantExists } from "./registry.ts";

/**
 * The facilitator's verify and settle, shared by the HTTP endpoints and by in-process
 * users (the demo's resource server). Authentication of settle is the caller's job.
 */

/** x402 VerifyResponse. */
export type VerifyAnswer = { isValid: boolean; invalidReason?: string; invalidMessage?: string };

/** x402 SettleResponse (ln402 puts the payment hash in `transaction`). */
export type SettleAnswer = {
  success: boolean;
  errorReason?: string;
  errorMessage?: string;
  transaction: string;
  network: string;
  amount?: string;
  extra?: Record<string, unknown>;
};

/** The `/supported` body: x402 v2 exact on every bip122 network, concrete ids (the middleware matches exactly). */
export function supportedKinds() {
  return {
    kinds: Object.values(X402_NETWORKS).map((network) => ({
      x402Version: 2,
      scheme: "exact",
      network,
    })),
    extensions: ["payment-identifier"],
    signers: { "bip122:*": [] as string[] },
  };
}

function invalid(rejection: Rejection): VerifyAnswer {
  return { isValid: false, invalidReason: rejection.reason, invalidMessage: rejection.message };
}

function failed(rejection: Rejection, network: string): SettleAnswer {
  return {
    success: false,
    errorReason: rejection.reason,
    errorMessage: rejection.message,
    transaction: "",
    network,
  };
}

/** Verifies a facilitator request (already parsed). */
export async function verifyRequest(
  env: Bindings,
  store: Store,
  request: FacilitatorRequest,
): Promise<VerifyAnswer> {
  const prepared = preparePayment(request);
  if (!prepared.ok) return invalid(prepared.rejection);
  if (!(await merchantExists(store, prepared.merchantId)))
    return invalid(reject("unknown_invoice"));
  const outcome = unwrap(
    await merchantStub(env, prepared.merchantId).verifyPayment(prepared.check),
  );
  return outcome.ok ? { isValid: true } : invalid(outcome.rejection);
}

/** Settles a facilitator request whose merchant the caller has authenticated. */
export async function settleRequest(
  env: Bindings,
  request: FacilitatorRequest,
): Promise<SettleAnswer> {
  const prepared = preparePayment(request);
  if (!prepared.ok) return failed(prepared.rejection, prepared.network);
  const success: SettleAnswer = {
    success: true,
    transaction: prepared.check.paymentHash,
    network: prepared.network,
    amount: String(prepared.check.amountMsat),
    extra: { paymentHash: prepared.check.paymentHash, settledAt: Math.floor(Date.now() / 1000) },
  };
  const outcome = unwrap(
    await merchantStub(env, prepared.merchantId).settlePayment(
      prepared.check,
      prepared.idempotencyKey,
      JSON.stringify(success),
    ),
  );
  if (!outcome.ok) return failed(outcome.rejection, prepared.network);
  return JSON.parse(outcome.body) as SettleAnswer;
}

/** Parses an untrusted body as a facilitator request (400 if it is not x402). */
export { parseFacilitatorRequest };
