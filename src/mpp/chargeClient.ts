import {
  type Bolt11Network,
  type DecodedInvoice,
  decodeInvoice,
} from "../protocol/bolt11/Bolt11.ts";
import { ProblemError } from "../protocol/Errors.ts";
import type * as Challenge from "../protocol/mpp/Challenge.ts";
import * as Credential from "../protocol/mpp/Credential.ts";
import { proves } from "../protocol/Preimage.ts";
import { SchemaIssue } from "../protocol/Schema.ts";
import { PaymentTimeoutError } from "../providers/errors.ts";
import type { LightningProvider } from "../providers/LightningProvider.ts";
import { ChargeRequest } from "./charge.ts";
import type { PaymentClientMethod } from "./fetch.ts";

/** What the client reports while it pays. */
export type ChargeProgress =
  | { type: "paying"; paymentHash: string; amountSats: number; challengeId: string }
  | { type: "paid"; paymentHash: string; feesPaidMsat: number }
  | { type: "reused"; paymentHash: string; challengeId: string };

/** Options of `lightningChargeClient`. */
export type LightningChargeClientOptions = {
  /** Routing fee cap per payment, in sats. */
  maxFeeSats?: number;
  /** Refuse invoices above this many sats. */
  maxAmountSats?: number;
  /** Only pay invoices of this network. */
  network?: Bolt11Network;
  onProgress?: (event: ChargeProgress) => void;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
};

/** Why the client refused to pay a challenge. */
export type ChargeRefusal =
  | "malformed-request"
  | "amount-mismatch"
  | "hash-mismatch"
  | "network-mismatch"
  | "expired"
  | "over-limit"
  | "bad-preimage";

/** The client refused a challenge before (or, for a bad preimage, after) paying it. */
export class ChargeRefusedError extends ProblemError {
  readonly reason: ChargeRefusal;
  constructor(reason: ChargeRefusal, detail: string) {
    super(422, "mpp-charge-refused", "Lightning charge refused", detail, {
      extensions: { reason },
    });
    this.name = "ChargeRefusedError";
    this.reason = reason;
  }
}

/** The lightning/charge client method; `createPaymentFetch` and `toMppxClientMethod` take it. */
export function lightningChargeClient(
  provider: LightningProvider,
  options: LightningChargeClientOptions = {},
): PaymentClientMethod {
  const now = options.now ?? Date.now;
  // paymentHash → preimage: a retried or replayed challenge never pays twice.
  const preimages = new Map<string, Promise<string>>();

  function check(challenge: Challenge.Challenge): {
    request: ChargeRequest;
    invoice: DecodedInvoice;
  } {
    let request: ChargeRequest;
    let invoice: DecodedInvoice;
    try {
      request = ChargeRequest(challenge.request, "request");
      invoice = decodeInvoice(request.methodDetails.invoice);
    } catch (err) {
      const why =
        err instanceof SchemaIssue || err instanceof ProblemError ? err.message : "unreadable";
      throw new ChargeRefusedError(
        "malformed-request",
        `The challenge request is not a lightning charge: ${why}`,
      );
    }
    const amountSats = Number(request.amount);
    if (invoice.amountMsat !== amountSats * 1000) {
      throw new ChargeRefusedError(
        "amount-mismatch",
        `The invoice asks ${invoice.amountMsat ?? "any"} msat, the challenge ${amountSats} sats.`,
      );
    }
    const hash = request.methodDetails.paymentHash;
    if (hash !== undefined && hash !== invoice.paymentHash) {
      throw new ChargeRefusedError(
        "hash-mismatch",
        "The invoice's payment hash differs from the challenge's.",
      );
    }
    const net = request.methodDetails.network;
    if (
      (net !== undefined && net !== invoice.network) ||
      (options.network !== undefined && options.network !== invoice.network)
    ) {
      throw new ChargeRefusedError("network-mismatch", `The invoice is for ${invoice.network}.`);
    }
    const expiresMs = Math.min(
      invoice.expiresAt * 1000,
      Date.parse(challenge.expires ?? "") || Number.POSITIVE_INFINITY,
    );
    if (now() >= expiresMs)
      throw new ChargeRefusedError("expired", "The challenge or its invoice has expired.");
    if (options.maxAmountSats !== undefined && amountSats > options.maxAmountSats) {
      throw new ChargeRefusedError(
        "over-limit",
        `The charge of ${amountSats} sats is above the limit of ${options.maxAmountSats}.`,
      );
    }
    return { request, invoice };
  }

  async function pay(invoice: DecodedInvoice): Promise<string> {
    const result = await provider.payInvoice({
      invoice: invoice.invoice,
      ...(options.maxFeeSats !== undefined && { maxFeeMsat: options.maxFeeSats * 1000 }),
    });
    const preimage = result.preimage.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(preimage) || !proves(preimage, invoice.paymentHash)) {
      throw new ChargeRefusedError(
        "bad-preimage",
        "The wallet returned a preimage that does not match the invoice.",
      );
    }
    options.onProgress?.({
      type: "paid",
      paymentHash: invoice.paymentHash,
      feesPaidMsat: result.feesPaidMsat,
    });
    return preimage;
  }

  return {
    name: "lightning",
    intent: "charge",
    async createCredential({ challenge }) {
      const { request, invoice } = check(challenge);
      const hash = invoice.paymentHash;
      let preimage = preimages.get(hash);
      if (preimage)
        options.onProgress?.({ type: "reused", paymentHash: hash, challengeId: challenge.id });
      else {
        options.onProgress?.({
          type: "paying",
          paymentHash: hash,
          amountSats: Number(request.amount),
          challengeId: challenge.id,
        });
        preimage = pay(invoice);
        preimages.set(hash, preimage);
        // Forget a failed payment so it can be retried, unless its outcome is unknown (a
        // timeout may still settle): then paying again could pay twice.
        preimage.catch((err: unknown) => {
          if (!(err instanceof PaymentTimeoutError)) preimages.delete(hash);
        });
      }
      return Credential.serialize({ challenge, payload: { preimage: await preimage } });
    },
  };
}
