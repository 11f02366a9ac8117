import type { LinkStatus } from "../../relay/NwcLink.ts";
import type { Capabilities, WalletRecord } from "./registration.ts";

/** A new invoice, as `POST /invoice` returns it. `expiresAt` is unix seconds. */
export type IssuedInvoice = {
  invoice: string;
  paymentHash: string;
  amountMsat: number;
  expiresAt: number;
};

/** What `createInvoice` takes: at most one of `description` and `descriptionHash` (64 hex). */
export type InvoiceInput = {
  amountMsat: number;
  description?: string;
  descriptionHash?: string;
  expirySecs: number;
};

/** Invoice status without secrets (never the preimage). Times are unix seconds. */
export type InvoiceStatus = {
  paid: boolean;
  settledAt: number | null;
  amountMsat: number;
  expiresAt: number;
};

/** The merchant status page. */
export type WalletStatus = {
  network: string;
  capabilities: Capabilities;
  walletPubkey: string;
  nodePubkey: string | null;
  relays: string[];
  connection: LinkStatus;
  invoices: { pending: number; paid: number; expired: number };
};

/** The stored wallet record without its sealed secret: what may leave the DO. */
export type PublicWallet = Omit<WalletRecord, "sealedNwc">;
