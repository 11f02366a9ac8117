/**
 * `ln402/client`: paying clients. An x402 client scheme for Lightning that checks
 * every invoice before paying, and wallets to pay with.
 */

export * from "../mpp/clients.ts";
export {
  type ClientRequestBinding,
  type ExactLnbtcClientOptions,
  ExactLnbtcClientScheme,
  LnbtcClientError,
  type LnbtcClientReason,
  type LnbtcPayer,
  type LnbtcPayResult,
} from "./lnbtc.ts";
export { lnbtcPayer, lnbtcX402Client, wrapFetchWithLnbtc } from "./lnbtcFetch.ts";
export { type LightningPayer, type NwcPayer, type NwcPayerOptions, nwcPayer } from "./wallet.ts";
export {
  createLightningX402Client,
  type ExactLightningClientOptions,
  ExactLightningClientScheme,
  X402LightningClientError,
} from "./x402.ts";
