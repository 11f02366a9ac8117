/**
 * `ln402/x402`: pieces for x402 resource servers that charge Lightning through ln402
 * (the `exact` scheme on bip122 networks).
 */

export { LNBTC_NETWORKS, lnbtcNetwork } from "../protocol/x402/lnbtc/Networks.ts";
export { lightningNetwork, X402_NETWORKS, x402Network } from "../protocol/x402/Networks.ts";
export {
  type InvoiceRequest,
  type InvoiceSource,
  InvoiceSourceError,
  type IssuedInvoice,
  ln402Invoices,
} from "./invoices.ts";
export {
  type ExactLnbtcServerOptions,
  ExactLnbtcServerScheme,
  type ServerBinding,
} from "./lnbtc.ts";
export {
  type CreateInvoiceParams,
  type LightningReceiver,
  type Ln402ReceiverOptions,
  ln402Receiver,
} from "./receiver.ts";
export {
  type ExactLightningServerOptions,
  ExactLightningServerScheme,
  LightningRouteError,
  ln402Facilitator,
} from "./server.ts";
