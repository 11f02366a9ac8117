import { type Bolt11Network, decodeInvoice } from "../protocol/bolt11/Bolt11.ts";
import * as Problems from "../protocol/mpp/Problems.ts";
import type { Receipt } from "../protocol/mpp/Receipt.ts";
import { proves } from "../protocol/Preimage.ts";
import {
  type Infer,
  object,
  oneOf,
  optional,
  required,
  SchemaIssue,
  string,
} from "../protocol/Schema.ts";
import type { LightningProvider } from "../providers/LightningProvider.ts";
import { MemoryStore } from "../store/MemoryStore.ts";
import type { Store } from "../store/Store.ts";
import { keysOf } from "./keys.ts";
import { networkOf } from "./network.ts";
import type { LightningServerMethod, VerifyResult } from "./server.ts";

/** Options of `lightningChargeServer`. */
export type LightningChargeServerOptions = {
  provider: LightningProvider;
  /** Where consumed payment hashes live; default a MemoryStore (one process only). */
  store?: Store;
  currency?: "sat";
  /** Default: `provider.getNetwork()`, else mainnet. */
  network?: Bolt11Network;
  /** Lifetime of minted invoices, default 300 s. */
  invoiceExpirySecs?: number;
};

/** The lightning/charge method object; `createPaymentHandler` and `toMppxServerMethod` take it. */
export type LightningChargeServer = LightningServerMethod & { readonly name: "lightning" };

const sats = (path: string, v: unknown) => {
  if (typeof v !== "string" || !/^[1-9]\d{0,15}$/.test(v)) {
    throw new SchemaIssue(path, "a positive whole number of sats as a decimal string");
  }
  return v;
};

/** draft-lightning-charge-00 §request. The invoice is authoritative; the rest must agree with it. */
export const ChargeRequest = object({
  amount: required("amount", (v, path) => sats(path, v)),
  currency: required("currency", oneOf(["sat"] as const)),
  description: optional("description", string(639)),
  methodDetails: required(
    "methodDetails",
    object({
      invoice: required("invoice", string(7089)),
      paymentHash: optional("paymentHash", (v, path) => lowerHex64(path, v)),
      network: optional("network", oneOf(["mainnet", "testnet", "signet", "regtest"] as const)),
    }),
  ),
});
/** A lightning/charge challenge request. */
export type ChargeRequest = Infer<typeof ChargeRequest>;

/** draft-lightning-charge-00 §credential: `{ preimage: <64 lowercase hex> }`. */
export const ChargePayload = object({
  preimage: required("preimage", (v, path) => lowerHex64(path, v)),
});

function lowerHex64(path: string, v: unknown): string {
  if (typeof v !== "string" || !/^[0-9a-f]{64}$/.test(v)) {
    throw new SchemaIssue(path, "64 lowercase hex characters");
  }
  return v;
}

/** The lightning/charge server method over a LightningProvider. */
export function lightningChargeServer(
  options: LightningChargeServerOptions,
): LightningChargeServer {
  const { provider } = options;
  const store = options.store ?? new MemoryStore();
  const invoiceExpirySecs = options.invoiceExpirySecs ?? 300;
  const getNetwork = networkOf(provider, options.network);
  let keys = keysOf("");
  let bound: string | null = null;

  return {
    name: "lightning",
    intent: "charge",

    bind(scope) {
      if (bound !== null && bound !== scope)
        throw new Error("this lightning/charge method already serves another server");
      bound = scope;
      keys = keysOf(scope);
    },

    async createRequest(route) {
      const amountMsat = Number(route.amount) * 1000;
      const issued = await provider.createInvoice({
        amountMsat,
        description: route.description,
        expirySecs: invoiceExpirySecs,
      });
      const expected = await getNetwork();
      // Never advertise an invoice that disagrees with the price: a client would refuse it.
      const decoded = decodeInvoice(issued.invoice);
      if (decoded.amountMsat !== amountMsat || decoded.network !== expected) {
        throw new Error(
          `the provider issued a ${decoded.network} invoice for ${decoded.amountMsat} msat; expected ${expected}, ${amountMsat} msat`,
        );
      }
      const request: ChargeRequest = {
        amount: route.amount,
        currency: route.currency,
        methodDetails: {
          invoice: issued.invoice,
          paymentHash: decoded.paymentHash,
          network: expected,
        },
      };
      if (route.description !== undefined) request.description = route.description;
      return request;
    },

    async verify({ credential, nowMs }): Promise<VerifyResult> {
      const fail = (problem: Problems.PaymentProblem): VerifyResult => ({ ok: false, problem });
      const challengeId = credential.challenge.id;
      let preimage: string;
      let request: ChargeRequest;
      try {
        preimage = ChargePayload(credential.payload, "payload").preimage;
        request = ChargeRequest(credential.challenge.request, "challenge.request");
      } catch (err) {
        if (!(err instanceof SchemaIssue)) throw err;
        return fail(Problems.lightningMalformedCredential(`${err.message}.`));
      }
      let invoice: ReturnType<typeof decodeInvoice>;
      try {
        invoice = decodeInvoice(request.methodDetails.invoice);
      } catch {
        return fail(Problems.unknownChallenge("The challenge's invoice does not decode."));
      }
      const paymentHash = invoice.paymentHash;
      if (!proves(preimage, paymentHash)) {
        return fail(
          Problems.invalidPreimage(
            "sha256(preimage) is not the invoice's payment hash; send the preimage your wallet returned for this invoice.",
          ),
        );
      }
      const expected = await getNetwork();
      if (
        invoice.amountMsat !== Number(request.amount) * 1000 ||
        invoice.network !== expected ||
        (request.methodDetails.paymentHash ?? paymentHash) !== paymentHash ||
        (request.methodDetails.network ?? expected) !== expected
      ) {
        return fail(
          Problems.verificationFailed(
            "The challenge's invoice does not agree with its amount, payment hash or network.",
          ),
        );
      }
      // draft-lightning-charge-00 §verification: effective expiry = min(expires, invoice expiry).
      const challengeExpiresMs = Date.parse(credential.challenge.expires ?? "");
      if (!(nowMs < challengeExpiresMs)) {
        return fail(
          Problems.paymentExpired(
            `The challenge expired at ${credential.challenge.expires}; pay the fresh challenge.`,
          ),
        );
      }
      if (nowMs >= invoice.expiresAt * 1000) {
        return fail(
          Problems.expiredInvoice("The challenge's invoice has expired; pay the fresh challenge."),
        );
      }

      // draft-lightning-charge-00 §verification: atomically mark the payment consumed; core
      // -01 §concurrency: one credential sent any number of times is one delivery. A lost
      // answer is recovered with an Idempotency-Key retry, never by accepting it again.
      const marker = JSON.stringify({ use: "charge", challengeId, at: nowMs });
      if (!(await store.putIfAbsent(keys.consumed(paymentHash), marker))) {
        return fail(
          Problems.verificationFailed(
            "This payment was already used; each Lightning payment buys one request. Pay the fresh challenge (or retry with the Idempotency-Key of the first request to get its answer again).",
          ),
        );
      }
      const receipt: Receipt = {
        status: "success",
        method: "lightning",
        intent: "charge",
        reference: paymentHash,
        challengeId,
        timestamp: new Date(nowMs).toISOString(),
      };
      return { ok: true, receipt };
    },
  };
}
