import { createApp } from "./app.ts";

export { StoreDO } from "../store/StoreDO.ts";
export { MerchantDO } from "./merchant/MerchantDO.ts";

/** The ln402 Worker. */
export default createApp();
