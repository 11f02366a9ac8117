import { NWCClient } from "@getalby/sdk/nwc";
import { startDevnet } from "../devnet/index.ts";
import { X402_NETWORKS } from "../src/protocol/x402/Networks.ts";
import { percentile, printTable, startWrangler, timed, writeResult } from "./harness.ts";

/**
 * `verify` and `settle`: the x402 facilitator's hot paths through `wrangler dev`.
 * - verify: concurrent `/verify` with a valid `{ preimage }` payload vs `/health` in the
 *   same worker, alternating windows of equal length (a closed loop of N clients).
 * - settle: `/settle` of `{ invoice }` payloads for a merchant whose wallet sends
 *   notifications (the book is already paid) vs one whose wallet does not (ln402 must
 *   ask with lookup_invoice), side by side, with the wallets' lookup counts.
 */

type Load = { requests: number; rps: number; p50: number; p99: number };

/** A closed loop: `concurrency` clients issue `call` back to back for `durationMs`. */
async function load(
  call: () => Promise<void>,
  concurrency: number,
  durationMs: number,
): Promise<Load> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) latencies.push(await timed(call));
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    requests: latencies.length,
    rps: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

function merge(runs: Load[]): Load {
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  return {
    requests,
    rps: runs.reduce((n, r) => n + r.rps, 0) / runs.length,
    p50: runs.reduce((n, r) => n + r.p50, 0) / runs.length,
    p99: Math.max(...runs.map((r) => r.p99)),
  };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Runs both scenarios against one stack. */
export async function facilitatorBench(options: {
  concurrency: number;
  windowMs: number;
  rounds: number;
  settles: number;
}) {
  const devnet = await startDevnet({
    upstash: false,
    wallets: { notified: {}, silent: { notifications: false }, payer: { balanceSats: 10_000_000 } },
  });
  const ln402 = await startWrangler({}, { raiseRateLimits: true });
  const payer = new NWCClient({ nostrWalletConnectUrl: devnet.wallet("payer").connectionString });
  try {
    const register = async (name: string) =>
      (await post(`${ln402.url}/register`, { nwcUrl: devnet.wallet(name).connectionString }))
        .body as { merchantId: string; apiKey: string };
    const merchants = { notified: await register("notified"), silent: await register("silent") };

    const paidRequest = async (
      merchant: { merchantId: string; apiKey: string },
      form: "preimage" | "invoice",
    ) => {
      const issued = (
        await post(
          `${ln402.url}/invoice`,
          { merchantId: merchant.merchantId, amount: "1000" },
          { Authorization: `Bearer ${merchant.apiKey}` },
        )
      ).body as { invoice: string; paymentHash: string };
      const { preimage } = await payer.payInvoice({ invoice: issued.invoice });
      const requirements = {
        scheme: "exact",
        network: X402_NETWORKS.regtest,
        amount: "1000",
        asset: "BTC",
        payTo: merchant.merchantId,
        maxTimeoutSeconds: 300,
        extra: {
          paymentMethod: "lightning",
          merchantId: merchant.merchantId,
          invoice: issued.invoice,
          paymentHash: issued.paymentHash,
        },
      };
      const payload = form === "preimage" ? { preimage } : { invoice: issued.invoice };
      return {
        x402Version: 2,
        paymentPayload: { x402Version: 2, accepted: requirements, payload },
        paymentRequirements: requirements,
      };
    };

    // verify vs health, alternating windows.
    const verifyBody = await paidRequest(merchants.notified, "preimage");
    // Serialized once, and the answer read as text: the load generator shares the
    // machine, so its own JSON work would otherwise be counted against /verify.
    const verifyJson = JSON.stringify(verifyBody);
    const verifyInit = {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: verifyJson,
    };
    const verify = async () => {
      const text = await (await fetch(`${ln402.url}/verify`, verifyInit)).text();
      if (!text.startsWith('{"isValid":true')) throw new Error(`verify failed: ${text}`);
    };
    const health = async () => {
      const res = await fetch(`${ln402.url}/health`);
      await res.arrayBuffer();
    };
    await load(verify, options.concurrency, 1_000); // warm-up
    await load(health, options.concurrency, 1_000);
    const windows = { health: [] as Load[], verify: [] as Load[] };
    for (let round = 0; round < options.rounds; round++) {
      windows.health.push(await load(health, options.concurrency, options.windowMs));
      windows.verify.push(await load(verify, options.concurrency, options.windowMs));
    }
    const verifyLoad = { health: merge(windows.health), verify: merge(windows.verify) };
    const verifyRatio = verifyLoad.verify.rps / verifyLoad.health.rps;
    printTable(
      (["health", "verify"] as const).map((name) => ({
        endpoint: `/${name}`,
        requests: verifyLoad[name].requests,
        "req/s": verifyLoad[name].rps,
        "p50 ms": verifyLoad[name].p50,
        "p99 ms": verifyLoad[name].p99,
      })),
    );
    console.log(
      `verify/health throughput ${verifyRatio.toFixed(2)} (target ≥ 0.7), concurrency ${options.concurrency}`,
    );

    // settle: notified (book already paid) vs silent wallet (lookup needed), interleaved.
    const samples = { notified: [] as number[], silent: [] as number[] };
    const lookupsBefore = {
      notified: devnet.wallet("notified").requestCounts().lookup_invoice ?? 0,
      silent: devnet.wallet("silent").requestCounts().lookup_invoice ?? 0,
    };
    for (let i = 0; i < options.settles; i++) {
      for (const name of ["notified", "silent"] as const) {
        const merchant = merchants[name];
        const body = await paidRequest(merchant, "invoice");
        samples[name].push(
          await timed(async () => {
            const res = await post(`${ln402.url}/settle`, body, {
              Authorization: `Bearer ${merchant.apiKey}`,
            });
            if (res.body.success !== true)
              throw new Error(`settle failed: ${JSON.stringify(res.body)}`);
          }),
        );
      }
    }
    const lookups = {
      notified:
        (devnet.wallet("notified").requestCounts().lookup_invoice ?? 0) - lookupsBefore.notified,
      silent: (devnet.wallet("silent").requestCounts().lookup_invoice ?? 0) - lookupsBefore.silent,
    };
    const settle = Object.fromEntries(
      (["notified", "silent"] as const).map((name) => [
        name,
        {
          n: samples[name].length,
          p50: percentile(samples[name], 50),
          p95: percentile(samples[name], 95),
          walletLookups: lookups[name],
        },
      ]),
    );
    printTable(
      (["notified", "silent"] as const).map((name) => ({
        "settle path": name === "notified" ? "notified (book paid)" : "lookup_invoice needed",
        settles: samples[name].length,
        "p50 ms": percentile(samples[name], 50),
        "p95 ms": percentile(samples[name], 95),
        "wallet lookups": lookups[name],
      })),
    );
    const result = {
      scenario: "facilitator",
      at: new Date().toISOString(),
      options,
      verify: { ...verifyLoad, ratio: verifyRatio },
      settle,
    };
    console.log(`written ${writeResult("facilitator", result)}`);
    return result;
  } finally {
    payer.close();
    await ln402.stop();
    await devnet.stop();
  }
}
