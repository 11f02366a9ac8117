/** Lightning backends behind one interface: NWC, LND REST, a hosted ln402, and an in-memory mock. */
export * from "./errors.ts";
export { HostedLightningProvider, type HostedProviderOptions } from "./hosted.ts";
export type {
  CreateInvoiceArgs,
  InvoiceState,
  LightningProvider,
  PayInvoiceArgs,
  PaymentResult,
  ProviderInvoice,
} from "./LightningProvider.ts";
export { LndLightningProvider, type LndProviderOptions } from "./lnd.ts";
export {
  MockLightningNetwork,
  MockLightningProvider,
  type MockProviderOptions,
  sharedMockNetwork,
} from "./mock.ts";
export { NwcLightningProvider, type NwcProviderOptions } from "./nwc.ts";
