import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { startDevnet } from "../devnet/index.ts";
import { createPaymentFetch } from "../src/mpp/fetch.ts";
import { lightningSessionClient } from "../src/mpp/session/client.ts";
import { readEvents } from "../src/mpp/session/sse.ts";
import { NwcLightningProvider } from "../src/providers/nwc.ts";
import {
  percentile,
  printTable,
  putRoutes,
  registerMerchant,
  startWrangler,
  timed,
  writeResult,
} from "./harness.ts";

/**
 * `gateway-stream`: SSE events per second through a metered gateway session (the
 * merchant's Durable Object bills each upstream event at the agreed price before it
 * forwards it) vs the same stream read straight from the upstream, interleaved round by
 * round in one run (target ratio ≥ 0.8). The upstream is node:http on 127.0.0.1 writing
 * `events` small events at once, one write each (`gateway-stream`) or all in one write
 * (`gateway-stream-burst`: the gateway forwards what one read brings in one write); the
 * deposit covers every round, so the stream never pauses for a top-up and only billing
 * and the hops are measured.
 */
export async function gatewayStreamBench(options: {
  events: number;
  rounds: number;
  /** The upstream writes every event in one write (a buffering upstream or proxy), not one write each. */
  burst?: boolean;
}) {
  const scenario = options.burst ? "gateway-stream-burst" : "gateway-stream";
  const warmup = 2;
  // Every stream (the opening one, warm-ups, rounds) plus one more, refunded at close.
  const depositSats = options.events * (options.rounds + warmup + 2);
  const devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: depositSats * 10 } },
  });
  const upstream = createServer((req, res) => {
    req.resume();
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    const events = Array.from({ length: options.events }, (_, i) => `data: {"i":${i + 1}}\n\n`);
    if (options.burst) res.end(events.join(""));
    else {
      for (const event of events) res.write(event);
      res.end();
    }
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const ln402 = await startWrangler(
    { ALLOW_INSECURE_UPSTREAMS: "true" },
    { raiseRateLimits: true },
  );
  const provider = new NwcLightningProvider({
    connectionString: devnet.wallet("payer").connectionString,
    allowInsecureRelays: true,
  });
  try {
    const merchant = await registerMerchant(ln402.url, devnet.wallet("merchant").connectionString);
    await putRoutes(ln402.url, merchant, [
      {
        method: "GET",
        path: "/stream",
        upstream: upstreamUrl,
        protocols: ["mpp"],
        price: { type: "session", satsPerUnit: 1, depositSats, idleTimeoutSecs: 300 },
      },
      // The same stream through the gateway's Worker, forwarded unbilled: the hop alone.
      {
        method: "GET",
        path: "/free",
        upstream: upstreamUrl,
        protocols: ["mpp"],
        mode: "dry-run",
        price: { type: "session", satsPerUnit: 1, depositSats, idleTimeoutSecs: 300 },
      },
    ]);

    const session = lightningSessionClient(provider, {
      maxDepositSats: depositSats,
      network: "regtest",
    });
    const pay = createPaymentFetch({ methods: [session] });
    const url = `${ln402.url}/gw/${merchant.merchantId}/stream`;
    // The opening request is served (and billed) like any other stream.
    const opened = await pay(url);
    if (opened.status !== 200) throw new Error(`open answered ${opened.status}`);
    await count(opened);

    /** One stream through the gateway on the open session (its bearer credential). */
    const viaGateway = async () => {
      const auth = session.authorization(url);
      if (!auth) throw new Error("the session has no bearer credential for this URL");
      return count(await fetch(url, { headers: { [auth.header]: auth.value } }));
    };
    const direct: number[] = [];
    const gateway: number[] = [];
    const forwarded: number[] = [];
    for (let round = 0; round < warmup + options.rounds; round++) {
      const seen = { direct: 0, gateway: 0, forwarded: 0 };
      const d = await timed(async () => {
        seen.direct = await count(await fetch(`${upstreamUrl}/stream`));
      });
      const g = await timed(async () => {
        seen.gateway = await viaGateway();
      });
      const f = await timed(async () => {
        seen.forwarded = await count(await fetch(`${ln402.url}/gw/${merchant.merchantId}/free`));
      });
      if (Object.values(seen).some((n) => n !== options.events))
        throw new Error(`delivered ${JSON.stringify(seen)} of ${options.events}`);
      if (round >= warmup) {
        direct.push(d);
        gateway.push(g);
        forwarded.push(f);
      }
    }
    const closed = await session.close(pay, url);
    const p50 = {
      direct: percentile(direct, 50),
      gateway: percentile(gateway, 50),
      forwarded: percentile(forwarded, 50),
    };
    const perSec = (ms: number) => options.events / (ms / 1000);
    const throughput = {
      direct: perSec(p50.direct),
      gateway: perSec(p50.gateway),
      forwarded: perSec(p50.forwarded),
    };
    const ratio = throughput.gateway / throughput.direct;
    printTable([
      { stream: "upstream directly", "p50 ms": p50.direct, "events/s": throughput.direct },
      { stream: "gateway session (billed)", "p50 ms": p50.gateway, "events/s": throughput.gateway },
      {
        stream: "gateway dry-run (forwarded)",
        "p50 ms": p50.forwarded,
        "events/s": throughput.forwarded,
      },
    ]);
    console.log(
      `${options.events} events a stream; billed/direct ratio ${ratio.toFixed(2)} (target ≥ 0.8)`,
    );
    console.log(`session closed: refund ${closed.refundSats} sats, ${closed.refundStatus}`);
    const result = {
      scenario,
      at: new Date().toISOString(),
      options,
      p50,
      throughput,
      ratio,
      refund: closed,
    };
    console.log(`results: ${writeResult(scenario, result)}`);
    return result;
  } finally {
    provider.close();
    await ln402.stop();
    upstream.closeAllConnections();
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await devnet.stop();
  }
}

/** Reads an SSE answer to its end; the number of data events (the session's own events and `[DONE]` aside). */
async function count(res: Response): Promise<number> {
  if (res.status !== 200 || res.body === null) throw new Error(`stream answered ${res.status}`);
  let events = 0;
  for await (const event of readEvents(res.body))
    if (event.event === "message" && event.data !== "[DONE]") events++;
  return events;
}
