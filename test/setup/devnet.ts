import type { TestProject } from "vitest/node";
import { startControl } from "../../devnet/control.ts";
import { type Devnet, RECEIVE_METHODS, startDevnet } from "../../devnet/index.ts";

/**
 * Starts one devnet for the whole run and hands its addresses to the suites
 * (`inject("relayUrl")` etc.; the workers project also gets them as bindings).
 * Node-side suites that inject faults start their own devnet instead, so a fault
 * in one suite never reaches another.
 */
export default async function setup(project: TestProject) {
  const devnet: Devnet = await startDevnet({
    wallets: {
      merchant: {},
      payer: { balanceSats: 1_000_000 },
      receiveOnly: { methods: RECEIVE_METHODS },
    },
  });
  if (devnet.upstash === null && process.env.CI) {
    await devnet.stop();
    throw new Error(
      "CI needs Redis for the Upstash stand-in: apt-get install -y redis-server, or set REDIS_URL",
    );
  }
  project.provide("relayUrl", devnet.relayUrl);
  project.provide("nwc", {
    merchant: devnet.wallet("merchant").connectionString,
    payer: devnet.wallet("payer").connectionString,
    receiveOnly: devnet.wallet("receiveOnly").connectionString,
  });
  project.provide("upstash", devnet.upstash);
  const control = await startControl(devnet);
  project.provide("devnetControl", control.url);
  return async () => {
    await control.stop();
    await devnet.stop();
  };
}
