import { NWCClient } from "@getalby/sdk/nwc";
import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import { startDevnet } from "../devnet/index.ts";
import { LNBTC_NETWORKS } from "../src/protocol/x402/lnbtc/Networks.ts";
import {
  percentile,
  printTable,
  registerMerchant,
  startWrangler,
  timed,
  writeResult,
} from "./harness.ts";

/**
 * `lnbtc-settle`: x402 `exact` on lnbtc settlement through `wrangler dev`, for a merchant
 * whose wallet sends notifications (so the book already knows each invoice was received
 * and receiver key isolation needs no wallet round trip).
 * - throughput: `/settle` of distinct paid proofs at a fixed concurrency vs `/health` in
 *   the same worker, alternating rounds of the same number of requests (target ≥ 0.8);
 * - latency: sequential settles, p50/p95, and the wallet's lookup_invoice count (target 0).
 */
export async function lnbtcSettleBench(options: {
  concurrency: number;
  perRound: number;
  rounds: number;
  sequential: number;
}) {
  const devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: 10_000_000 } },
  });
  const ln402 = await startWrangler({}, { raiseRateLimits: true });
  const paying = new NWCClient({ nostrWalletConnectUrl: devnet.wallet("payer").connectionString });
  try {
    const merchant = await registerMerchant(ln402.url, devnet.wallet("merchant").connectionString);
    const payTo = devnet.wallet("merchant").nodePubkey;
    const auth = { Authorization: `Bearer ${merchant.apiKey}` };

    /** A paid, request-bound proof as a resource server would settle it (JSON, serialized once). */
    const proof = async (): Promise<string> => {
      const requestHash = bytesToHex(randomBytes(32));
      const res = await fetch(`${ln402.url}/invoice`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...auth },
        body: JSON.stringify({
          merchantId: merchant.merchantId,
          amount: "1000",
          descriptionHash: requestHash,
          expirySecs: 600,
        }),
      });
      const issued = (await res.json()) as { invoice: string };
      const { preimage } = await paying.payInvoice({ invoice: issued.invoice });
      const requirements = {
        scheme: "exact",
        network: LNBTC_NETWORKS.regtest,
        amount: "1000",
        asset: "BTC",
        payTo,
        maxTimeoutSeconds: 600,
        extra: {
          assetTransferMethod: "bolt11",
          paymentFlow: "upfront",
          requestHash,
          requestBindingProfile: "http:1",
          requestBindingParams: { headers: [] },
          invoice: issued.invoice,
        },
      };
      return JSON.stringify({
        x402Version: 2,
        paymentPayload: { x402Version: 2, accepted: requirements, payload: { preimage } },
        paymentRequirements: requirements,
      });
    };
    const settle = async (body: string) => {
      const text = await (
        await fetch(`${ln402.url}/settle`, {
          method: "POST",
          headers: { "Content-Type": "application/json", ...auth },
          body,
        })
      ).text();
      if (!text.startsWith('{"success":true')) throw new Error(`settle failed: ${text}`);
    };
    const health = async () => {
      await (await fetch(`${ln402.url}/health`)).arrayBuffer();
    };
    /** `count` calls by `concurrency` clients; each client takes the next index. */
    const run = async (count: number, call: (i: number) => Promise<void>) => {
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: options.concurrency }, async () => {
          for (let i = next++; i < count; i = next++) latencies.push(await timed(() => call(i)));
        }),
      );
      return {
        rps: count / ((performance.now() - started) / 1000),
        p50: percentile(latencies, 50),
      };
    };

    const total = options.perRound * options.rounds + options.sequential + options.concurrency;
    const proofs: string[] = [];
    for (let i = 0; i < total; i++) proofs.push(await proof());
    // Let the last notifications land: every book entry is then "received".
    await new Promise((resolve) => setTimeout(resolve, 500));
    let taken = 0;
    const nextProof = () => proofs[taken++] ?? "";
    await run(options.concurrency, () => settle(nextProof())); // warm-up
    await run(options.perRound, health);
    const rounds = { health: [] as number[], settle: [] as number[] };
    for (let round = 0; round < options.rounds; round++) {
      rounds.health.push((await run(options.perRound, health)).rps);
      rounds.settle.push((await run(options.perRound, () => settle(nextProof()))).rps);
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const ratio = mean(rounds.settle) / mean(rounds.health);
    const lookupsBefore = devnet.wallet("merchant").requestCounts().lookup_invoice ?? 0;
    const sequential: number[] = [];
    for (let i = 0; i < options.sequential; i++) {
      const body = nextProof();
      sequential.push(await timed(() => settle(body)));
    }
    const lookups = (devnet.wallet("merchant").requestCounts().lookup_invoice ?? 0) - lookupsBefore;
    printTable([
      { endpoint: "/health", "req/s": mean(rounds.health) },
      { endpoint: "/settle (lnbtc)", "req/s": mean(rounds.settle) },
    ]);
    console.log(
      `settle/health throughput ${ratio.toFixed(2)} (target ≥ 0.8), concurrency ${options.concurrency}; ` +
        `sequential settle p50 ${percentile(sequential, 50).toFixed(2)} ms, p95 ${percentile(sequential, 95).toFixed(2)} ms, wallet lookups ${lookups} (target 0)`,
    );
    const result = {
      scenario: "lnbtc-settle",
      at: new Date().toISOString(),
      options,
      throughput: { health: mean(rounds.health), settle: mean(rounds.settle), ratio },
      sequential: {
        p50: percentile(sequential, 50),
        p95: percentile(sequential, 95),
        walletLookups: lookups,
      },
    };
    console.log(`written ${writeResult("lnbtc-settle", result)}`);
    return result;
  } finally {
    paying.close();
    await ln402.stop();
    await devnet.stop();
  }
}
