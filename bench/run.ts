import { chargeLndBench } from "./chargeLnd.ts";
import { facilitatorBench } from "./facilitator.ts";
import { gatewayChargeBench } from "./gateway.ts";
import { gatewayStreamBench } from "./gatewayStream.ts";
import { invoiceBench } from "./invoice.ts";
import { lnbtcSettleBench } from "./lnbtcSettle.ts";
import { chargeBench, chargeMockBench, sessionStreamBench } from "./mpp.ts";

/**
 * `npm run bench [-- scenario…]`: runs the named scenarios (all by default). Each
 * prints a table and writes JSON under bench/results/. Numbers are for comparison
 * within one run on one machine; they are never asserted in CI.
 */
const scenarios: Record<string, () => Promise<unknown>> = {
  charge: () => chargeBench({ requests: 100 }),
  "charge-lnd": () => chargeLndBench({ requests: 100 }),
  "charge-mock": () => chargeMockBench({ requests: 300 }),
  "session-stream": () => sessionStreamBench({ events: 10_000, rounds: 5 }),
  "lnbtc-settle": () =>
    lnbtcSettleBench({ concurrency: 16, perRound: 200, rounds: 3, sequential: 50 }),
  "gateway-charge": () => gatewayChargeBench({ requests: 200 }),
  "gateway-stream": () => gatewayStreamBench({ events: 2_000, rounds: 10 }),
  "gateway-stream-burst": () => gatewayStreamBench({ events: 2_000, rounds: 10, burst: true }),
  facilitator: () => facilitatorBench({ concurrency: 16, windowMs: 3_000, rounds: 3, settles: 50 }),
  invoice: async () => {
    // Loopback, then a relay 20 ms and 50 ms away (one way), as public relays are.
    for (const latencyMs of [0, 20, 50])
      await invoiceBench({ requests: 200, rounds: 10, latencyMs });
  },
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = requested.length > 0 ? requested : Object.keys(scenarios);
for (const name of names) {
  const run = scenarios[name];
  if (!run) {
    console.error(`unknown scenario ${name}; known: ${Object.keys(scenarios).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n== ${name}`);
  await run();
}
process.exit(0);
