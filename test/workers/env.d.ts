import type { Bindings } from "../../src/worker/env.ts";

/** The bindings `cloudflare:test` and `cloudflare:workers` expose inside the test runtime. */
declare global {
  namespace Cloudflare {
    interface Env extends Bindings {
      DEVNET_RELAY_URL: string;
    }
  }
}
