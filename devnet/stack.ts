import { type Devnet, startDevnet } from "./index.ts";
import { startWrangler, type Wrangler } from "./wrangler.ts";

/** The whole local stack: the devnet, ln402 under `wrangler dev`, and the devnet merchant registered. */
export type Stack = {
  devnet: Devnet;
  ln402: Wrangler;
  merchant: { merchantId: string; apiKey: string };
  stop(): Promise<void>;
};

/**
 * Starts the devnet (a funded `payer`, a `merchant`), runs ln402 against it and
 * registers the merchant's wallet, as a user would with `curl`. For the demo and
 * end-to-end tests.
 */
export async function startStack(
  options: { payerSats?: number; vars?: Record<string, string> } = {},
): Promise<Stack> {
  const devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: options.payerSats ?? 100_000 } },
  });
  let ln402: Wrangler | null = null;
  try {
    ln402 = await startWrangler(options.vars ?? {});
    const res = await fetch(`${ln402.url}/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ nwcUrl: devnet.wallet("merchant").connectionString }),
    });
    if (res.status !== 201)
      throw new Error(`registration failed: ${res.status} ${await res.text()}`);
    const merchant = (await res.json()) as { merchantId: string; apiKey: string };
    const running = ln402;
    return {
      devnet,
      ln402: running,
      merchant,
      async stop() {
        await running.stop();
        await devnet.stop();
      },
    };
  } catch (err) {
    await ln402?.stop();
    await devnet.stop();
    throw err;
  }
}
