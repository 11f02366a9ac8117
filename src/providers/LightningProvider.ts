import type { Bolt11Network } from "../protocol/bolt11/Bolt11.ts";

/**
 * A Lightning backend the MPP method (and anything else) can receive and pay through:
 * NWC, LND REST, the in-memory mock, or a hosted ln402. Amounts are msat (integers),
 * times are unix seconds. Implementations throw the typed errors of `./errors.ts`.
 */
export interface LightningProvider {
  /** Issues an invoice. `amountMsat` 0 asks for a no-amount invoice (refund addresses). */
  createInvoice(args: CreateInvoiceArgs): Promise<ProviderInvoice>;
  /** Pays an invoice and resolves with the preimage once the payment settled. */
  payInvoice(args: PayInvoiceArgs): Promise<PaymentResult>;
  /** The state of an invoice this provider issued (or paid). */
  lookupInvoice(paymentHash: string): Promise<InvoiceState>;
  /**
   * The state of a payment this provider SENT (optional): `unknown` when it has no record
   * of paying that hash. An invoice it issued (incoming) is never reported as a payment.
   */
  lookupPayment?(paymentHash: string): Promise<OutgoingPaymentState>;
  /** The network invoices are on, when the provider knows it (NWC get_info, LND getinfo). */
  getNetwork?(): Promise<Bolt11Network>;
  /** Hold invoices (optional): the payment is held until settled with the preimage or canceled. */
  createHoldInvoice?(args: CreateInvoiceArgs & { paymentHash: string }): Promise<ProviderInvoice>;
  settleHoldInvoice?(preimage: string): Promise<void>;
  cancelHoldInvoice?(paymentHash: string): Promise<void>;
  /** Releases connections (sockets); the provider may reconnect on next use. */
  close?(): void;
}

/** Arguments of `createInvoice`. */
export type CreateInvoiceArgs = {
  amountMsat: number;
  description?: string;
  /** Seconds until the invoice expires (default chosen by the provider, usually 3600). */
  expirySecs?: number;
};

/** An issued invoice. */
export type ProviderInvoice = {
  invoice: string;
  paymentHash: string;
  /** null for a no-amount invoice. */
  amountMsat: number | null;
  expiresAt: number;
};

/** Arguments of `payInvoice`. */
export type PayInvoiceArgs = {
  invoice: string;
  /** For no-amount invoices only. */
  amountMsat?: number;
  /** Routing fee cap; providers that cannot cap fees say so in their docs. */
  maxFeeMsat?: number;
  timeoutSecs?: number;
};

/** A settled payment. */
export type PaymentResult = { preimage: string; feesPaidMsat: number };

/** What `lookupInvoice` reports. */
export type InvoiceState = {
  paymentHash: string;
  state: "pending" | "accepted" | "settled" | "expired" | "canceled";
  /** Present once settled (a hosted provider may withhold it). */
  preimage?: string;
  settledAt?: number;
  amountMsat?: number;
};

/**
 * What `lookupPayment` reports of an outgoing payment: `succeeded` only with a preimage
 * that hashes to the payment hash; `unknown` when the provider never started paying it.
 */
export type OutgoingPaymentState = {
  state: "pending" | "succeeded" | "failed" | "unknown";
  preimage?: string;
  feesPaidMsat?: number;
};
