import { type FacilitatorRequest, parseFacilitatorRequest } from "../protocol/x402/Messages.ts";
import { X402_NETWORKS } from "../protocol/x402/Networks.ts";
import { type Rejection, reject } from "../protocol/x402/Reasons.ts";
import { preparePayment } from "../protocol/x402/Verify.ts";
import type { Store } from "../store/Store.ts";
import type { Config } from "./config.ts";
import type { Bindings } from "./env.ts";
import { lnbtcKinds } from "./lnbtcFacilitator.ts";
import { type RpcResult, unlessGone } from "./merchant/rpc.ts";
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

/**
 * The `/supported` body, concrete ids (the middleware matches exactly): x402 v2 exact on
 * lnbtc (mainnet and testnet; regtest where the devnet runs), then the legacy bip122
 * networks for older clients.
 */
export function supportedKinds(config: Config) {
  return {
    kinds: [
      ...lnbtcKinds(config),
      ...Object.values(X402_NETWORKS).map((network) => ({
        x402Version: 2,
        scheme: "exact",
        network,
      })),
    ],
    // No payment-identifier: a settle success is a delivery, so a replayed success
    // would be a second one. A proof settles once; a repeat is `already_settled`.
    extensions: [] as string[],
    signers: { "lnbtc:*": [] as string[], "bip122:*": [] as string[] },
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

/**
 * Verifies a facilitator request (already parsed). `reserve` (for a caller holding the
 * merchant's API key) also leases the proof, so concurrent copies are refused.
 */
export async function verifyRequest(
  env: Bindings,
  store: Store,
  request: FacilitatorRequest,
  reserve: boolean,
): Promise<VerifyAnswer> {
  const prepared = preparePayment(request);
  if (!prepared.ok) return invalid(prepared.rejection);
  if (!(await merchantExists(store, prepared.merchantId)))
    return invalid(reject("unknown_invoice"));
  const outcome = merchantGone(
    await merchantStub(env, prepared.merchantId).verifyPayment(prepared.check, reserve),
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
  const outcome = merchantGone(
    await merchantStub(env, prepared.merchantId).settlePayment(prepared.check),
  );
  if (!outcome.ok) return failed(outcome.rejection, prepared.network);
  const { paymentHash, amountMsat, settledAt } = outcome.redemption;
  return {
    success: true,
    transaction: paymentHash,
    network: prepared.network,
    amount: String(amountMsat),
    extra: { paymentHash, settledAt },
  };
}

/**
 * The DO's answer; a merchant deleted since the registry was read (404 from its own
 * object, which is authoritative) has issued nothing: `unknown_invoice`.
 */
function merchantGone<T>(result: RpcResult<T>): T | { ok: false; rejection: Rejection } {
  return unlessGone(result) ?? { ok: false, rejection: reject("unknown_invoice") };
}

/** Parses an untrusted body as a facilitator request (400 if it is not x402). */
export { parseFacilitatorRequest };
