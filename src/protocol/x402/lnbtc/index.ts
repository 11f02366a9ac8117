/**
 * x402 `exact` on lnbtc (scheme_exact_lnbtc): networks, request binding, payment terms,
 * the facilitator's settle check and its answers. Pure: no clock, store or wallet.
 */
export * from "./Binding.ts";
export * from "./HttpBinding.ts";
export * from "./McpBinding.ts";
export * from "./Networks.ts";
export * from "./Reasons.ts";
export * from "./Responses.ts";
export * from "./Settle.ts";
export * from "./Terms.ts";
