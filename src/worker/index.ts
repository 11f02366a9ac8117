import { createApp } from "./app.ts";

export { MerchantDO } from "./merchant/MerchantDO.ts";

/** The ln402 Worker. */
export default createApp();
