import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { startDevnet } from "../devnet/index.ts";
import { lightningChargeServer } from "../src/mpp/charge.ts";
import { lightningChargeClient } from "../src/mpp/chargeClient.ts";
import { createPaymentFetch } from "../src/mpp/fetch.ts";
import { createPaymentHandler } from "../src/mpp/server.ts";
import { Sessions } from "../src/mpp/session/Sessions.ts";
import { readEvents, serve } from "../src/mpp/session/sse.ts";
import { signatureCheckCount } from "../src/protocol/bolt11/Bolt11.ts";
import type { LightningProvider } from "../src/providers/LightningProvider.ts";
import { MockLightningNetwork, MockLightningProvider } from "../src/providers/mock.ts";
import { NwcLightningProvider } from "../src/providers/nwc.ts";
import { MemoryStore } from "../src/store/MemoryStore.ts";
import { percentile, printTable, timed, writeResult } from "./harness.ts";

/**
 * `session-stream`: N SSE events through `serve()` with per-event billing (a deduct
 * against the session store before each event) vs the same generator streamed
 * unmetered, alternating runs in one process. Reports throughput ratio and the
 * per-event overhead.
 */

async function* chunks(count: number): AsyncGenerator<string> {
  for (let i = 0; i < count; i++) yield `token ${i}`;
}

/** The same framing without billing: what a stream costs with no payments at all. */
function unmetered(count: number): Response {
  const encoder = new TextEncoder();
  const source = chunks(count);
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const next = await source.next();
        if (next.done) {
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
          controller.close();
        } else controller.enqueue(encoder.encode(`data: ${next.value}\n\n`));
      },
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { headers: { "Content-Type": "text/event-stream" } });
}

async function drain(response: Response): Promise<number> {
  let events = 0;
  if (!response.body) return 0;
  for await (const event of readEvents(response.body)) {
    if (event.event === "message" && event.data !== "[DONE]") events++;
  }
  return events;
}

/** Runs the session-stream scenario. */
export async function sessionStreamBench(options: { events: number; rounds: number }) {
  const mockNetwork = new MockLightningNetwork();
  const merchant = new MockLightningProvider({ mockNetwork });
  const payer = new MockLightningProvider({ mockNetwork });
  const unit = 1_000;
  const timings = { metered: [] as number[], unmetered: [] as number[] };
  for (let round = 0; round < options.rounds; round++) {
    const sessions = new Sessions({ store: new MemoryStore(), provider: merchant });
    const sessionId = randomBytes(32).toString("hex");
    const refundTo = await payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    await sessions.open({
      sessionId,
      depositMsat: options.events * unit,
      returnInvoice: refundTo.invoice,
      amountPerUnitMsat: unit,
      idleTimeoutSecs: 300,
    });
    let billed = 0;
    timings.metered.push(
      await timed(async () => {
        billed = await drain(
          serve({ sessions, sessionId, amountPerUnitMsat: unit, generate: chunks(options.events) }),
        );
      }),
    );
    if (billed !== options.events)
      throw new Error(`metered stream delivered ${billed} of ${options.events}`);
    let plain = 0;
    timings.unmetered.push(
      await timed(async () => {
        plain = await drain(unmetered(options.events));
      }),
    );
    if (plain !== options.events) throw new Error(`unmetered stream delivered ${plain}`);
  }
  const p50 = {
    metered: percentile(timings.metered, 50),
    unmetered: percentile(timings.unmetered, 50),
  };
  const throughput = {
    metered: options.events / (p50.metered / 1000),
    unmetered: options.events / (p50.unmetered / 1000),
  };
  const ratio = throughput.metered / throughput.unmetered;
  const overheadUs = ((p50.metered - p50.unmetered) / options.events) * 1000;
  printTable([
    {
      stream: "metered (serve)",
      events: options.events,
      "p50 ms": p50.metered,
      "events/s": throughput.metered,
    },
    {
      stream: "unmetered",
      events: options.events,
      "p50 ms": p50.unmetered,
      "events/s": throughput.unmetered,
    },
  ]);
  console.log(
    `throughput ratio ${ratio.toFixed(2)} (target ≥ 0.8); billing overhead ${overheadUs.toFixed(1)} µs per event`,
  );
  const result = {
    scenario: "session-stream",
    at: new Date().toISOString(),
    options,
    p50,
    throughput,
    ratio,
    overheadUs,
  };
  console.log(`written ${writeResult("session-stream", result)}`);
  return result;
}

/**
 * One paid request end to end through ln402's MPP handler and the lightning/charge client:
 * `merchant` issues and looks up, `payer` pays. The returned function throws unless the
 * request ends in a 200 with a receipt.
 */
export function chargeOnce(
  merchant: LightningProvider,
  payer: LightningProvider,
): () => Promise<void> {
  const payments = createPaymentHandler({
    secretKey: randomBytes(32).toString("hex"),
    realm: "bench.example",
    methods: [lightningChargeServer({ provider: merchant, network: "regtest" })],
  });
  const app = new Hono();
  app.get("/paid", async (c) => {
    const result = await payments.handle(c.req.raw, { intent: "charge", amount: "21" });
    return result.status === 402 ? result.challenge : result.withReceipt(c.json({ ok: true }));
  });
  const pay = createPaymentFetch({
    methods: [lightningChargeClient(payer, { network: "regtest", maxAmountSats: 100 })],
    fetch: async (request) => app.fetch(request),
  });
  return async () => {
    const res = await pay("http://bench.example/paid");
    if (res.status !== 200 || !res.headers.get("Payment-Receipt"))
      throw new Error(`charge failed: ${res.status}`);
    await res.arrayBuffer();
  };
}

/**
 * `charge`: one paid request end to end — 402 challenge → client decodes and pays the
 * invoice over NWC (devnet) → credential → 200 with a receipt — through ln402's MPP
 * handler and the lightning/charge client; p50 and p95 over `requests` sequential runs.
 */
export async function chargeBench(options: { requests: number }) {
  const devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: 1_000_000 } },
  });
  const merchant = new NwcLightningProvider({
    connectionString: devnet.wallet("merchant").connectionString,
    allowInsecureRelays: true,
  });
  const payer = new NwcLightningProvider({
    connectionString: devnet.wallet("payer").connectionString,
    allowInsecureRelays: true,
  });
  try {
    const once = chargeOnce(merchant, payer);
    for (let i = 0; i < 5; i++) await once(); // warm: both NWC connections open
    const samples: number[] = [];
    for (let i = 0; i < options.requests; i++) samples.push(await timed(once));
    const summary = {
      n: samples.length,
      p50: percentile(samples, 50),
      p95: percentile(samples, 95),
    };
    printTable([
      {
        scenario: "charge (402 → pay → 200)",
        requests: summary.n,
        "p50 ms": summary.p50,
        "p95 ms": summary.p95,
      },
    ]);
    const result = { scenario: "charge", at: new Date().toISOString(), summary };
    console.log(`written ${writeResult("charge", result)}`);
    return result;
  } finally {
    merchant.close();
    payer.close();
    await devnet.stop();
  }
}

/**
 * `charge-mock`: the charge round trip (402 → decode, check and pay → 200) through ln402's
 * handler and client with the in-memory mock provider, so the protocol work is what is
 * timed; p50/p95 over `requests` sequential runs, and the invoice signature checks per
 * round trip (server and client share this process, so a shared decode counts once).
 */
export async function chargeMockBench(options: { requests: number }) {
  const mockNetwork = new MockLightningNetwork();
  const merchant = new MockLightningProvider({ mockNetwork });
  const payer = new MockLightningProvider({ mockNetwork });
  const payments = createPaymentHandler({
    secretKey: randomBytes(32).toString("hex"),
    realm: "bench.example",
    methods: [lightningChargeServer({ provider: merchant, network: "regtest" })],
  });
  const app = new Hono();
  app.get("/paid", async (c) => {
    const result = await payments.handle(c.req.raw, { intent: "charge", amount: "21" });
    return result.status === 402 ? result.challenge : result.withReceipt(c.json({ ok: true }));
  });
  const pay = createPaymentFetch({
    methods: [lightningChargeClient(payer, { network: "regtest", maxAmountSats: 100 })],
    fetch: async (request) => app.fetch(request),
  });
  const once = async () => {
    const res = await pay("http://bench.example/paid");
    if (res.status !== 200) throw new Error(`charge failed: ${res.status}`);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 20; i++) await once();
  const checksBefore = signatureCheckCount();
  const samples: number[] = [];
  for (let i = 0; i < options.requests; i++) samples.push(await timed(once));
  const signatureChecksPerRoundTrip = (signatureCheckCount() - checksBefore) / options.requests;
  const summary = { n: samples.length, p50: percentile(samples, 50), p95: percentile(samples, 95) };
  printTable([
    {
      scenario: "charge-mock (402 → pay → 200)",
      requests: summary.n,
      "p50 ms": summary.p50,
      "p95 ms": summary.p95,
      "sig checks/round trip": signatureChecksPerRoundTrip,
    },
  ]);
  const result = {
    scenario: "charge-mock",
    at: new Date().toISOString(),
    summary,
    signatureChecksPerRoundTrip,
  };
  console.log(`written ${writeResult("charge-mock", result)}`);
  return result;
}
