/** Lightning backends behind one interface: NWC, LND (REST or gRPC), a hosted ln402, and an in-memory mock. */
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
export {
  type LndGrpcOptions,
  type LndInvoiceArgs,
  LndLightningProvider,
  type LndProviderOptions,
  type LndRestOptions,
} from "./lnd.ts";
export {
  MockLightningNetwork,
  MockLightningProvider,
  type MockProviderOptions,
  sharedMockNetwork,
} from "./mock.ts";
export { NwcLightningProvider, type NwcProviderOptions } from "./nwc.ts";
