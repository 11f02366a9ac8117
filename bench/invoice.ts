import { NWCClient } from "@getalby/sdk/nwc";
import { startDevnet } from "../devnet/index.ts";
import { percentile, printTable, startWrangler, timed, writeResult } from "./harness.ts";

/**
 * `invoice`: POST /invoice latency through `wrangler dev` and the devnet, side by side
 * in one run with (a) a bare @getalby/sdk NWCClient already connected to the same
 * wallet — the floor: one NWC round trip — and (b) a fresh NWCClient per request,
 * what a stateless Worker without a Durable Object must do. The three are interleaved
 * in rounds so machine noise hits them alike. On loopback a new connection costs
 * almost nothing, so the run is repeated with simulated network latency to the relay
 * (the devnet's latency fault: each frame and the TLS/TCP set-up), as a real relay has.
 */
export async function invoiceBench(options: {
  requests: number;
  rounds: number;
  /** Simulated one-way latency to the relay (devnet fault), 0 for loopback. */
  latencyMs: number;
}): Promise<Record<string, unknown>> {
  const devnet = await startDevnet({ upstash: false, wallets: { merchant: {} } });
  const wrangler = await startWrangler({}, { raiseRateLimits: true });
  const floorClient = new NWCClient({
    nostrWalletConnectUrl: devnet.wallet("merchant").connectionString,
  });
  try {
    const registered = await fetch(`${wrangler.url}/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ nwcUrl: devnet.wallet("merchant").connectionString }),
    });
    if (registered.status !== 201)
      throw new Error(`register failed: ${registered.status} ${await registered.text()}`);
    const { merchantId, apiKey } = (await registered.json()) as {
      merchantId: string;
      apiKey: string;
    };

    const ln402 = async () => {
      const res = await fetch(`${wrangler.url}/invoice`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({ merchantId, amount: "1000" }),
      });
      if (res.status !== 201) throw new Error(`invoice failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    };
    const floor = () => floorClient.makeInvoice({ amount: 1000 });
    const fresh = async () => {
      const client = new NWCClient({
        nostrWalletConnectUrl: devnet.wallet("merchant").connectionString,
      });
      try {
        await client.makeInvoice({ amount: 1000 });
      } finally {
        client.close();
      }
    };

    devnet.relay.faults.setLatency(options.latencyMs);
    // Warm-up: the Worker and its Durable Object are loaded and connected, the floor client too.
    for (let i = 0; i < 10; i++) {
      await ln402();
      await floor();
    }
    const samples = { ln402: [] as number[], floor: [] as number[], fresh: [] as number[] };
    const perRound = Math.ceil(options.requests / options.rounds);
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < perRound; i++) samples.ln402.push(await timed(ln402));
      for (let i = 0; i < perRound; i++) samples.floor.push(await timed(floor));
      for (let i = 0; i < perRound; i++) samples.fresh.push(await timed(fresh));
    }

    const summary = Object.fromEntries(
      Object.entries(samples).map(([name, sample]) => [
        name,
        { n: sample.length, p50: percentile(sample, 50), p95: percentile(sample, 95) },
      ]),
    ) as Record<"ln402" | "floor" | "fresh", { n: number; p50: number; p95: number }>;
    const ratios = {
      ln402OverFloorP50: summary.ln402.p50 / summary.floor.p50,
      ln402OverFloorP95: summary.ln402.p95 / summary.floor.p95,
      freshOverLn402P50: summary.fresh.p50 / summary.ln402.p50,
    };
    printTable(
      (["ln402", "floor", "fresh"] as const).map((name) => ({
        scenario: name,
        requests: summary[name].n,
        "p50 ms": summary[name].p50,
        "p95 ms": summary[name].p95,
      })),
    );
    console.log(
      `ln402/floor p50 ${ratios.ln402OverFloorP50.toFixed(2)}× (target ≤ 1.3), p95 ${ratios.ln402OverFloorP95.toFixed(2)}×; fresh/ln402 p50 ${ratios.freshOverLn402P50.toFixed(2)}× (target ≥ 3)`,
    );
    const name = `invoice-latency-${options.latencyMs}ms`;
    const result = {
      scenario: name,
      at: new Date().toISOString(),
      relayLatencyMs: options.latencyMs,
      summary,
      ratios,
    };
    console.log(`written ${writeResult(name, result)}`);
    return result;
  } finally {
    floorClient.close();
    await wrangler.stop();
    await devnet.stop();
  }
}
