import { encodePaymentSignatureHeader } from "@x402/core/http";
import type { PaymentPayload } from "@x402/core/types";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Stack, startStack } from "../../devnet/stack.ts";
import { startWrangler, type Wrangler } from "../../devnet/wrangler.ts";
import { createPaymentFetch } from "../../src/mpp/fetch.ts";
import { lightningSessionClient } from "../../src/mpp/session/client.ts";
import { readEvents, type SseEvent } from "../../src/mpp/session/sse.ts";
import * as Challenge from "../../src/protocol/mpp/Challenge.ts";
import * as Receipt from "../../src/protocol/mpp/Receipt.ts";
import { NwcLightningProvider } from "../../src/providers/nwc.ts";
import { gw, type Merchant, putRoutes, stats } from "./support/gateway.ts";
import { startUpstream, type Upstream } from "./support/upstream.ts";

/**
 * Metered sessions through the gateway, end to end: `wrangler dev` + the devnet, an SSE
 * upstream in plain node:http, paid by ln402's own session client. The merchant's
 * Durable Object holds the balance, bills each upstream event, waits for top-ups and
 * refunds the rest; every test checks the sats that moved.
 */

let stack: Stack;
let upstream: Upstream;
let merchant: Merchant;
let provider: NwcLightningProvider;
let restarted: Wrangler | null = null;
const VARS = { ALLOW_INSECURE_UPSTREAMS: "true" };

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({ vars: VARS });
  merchant = stack.merchant;
  provider = new NwcLightningProvider({
    connectionString: stack.devnet.wallet("payer").connectionString,
    allowInsecureRelays: true,
  });
  const session = (satsPerUnit: number, idleTimeoutSecs: number) => ({
    type: "session",
    satsPerUnit,
    depositSats: 10,
    idleTimeoutSecs,
  });
  const res = await putRoutes(stack, merchant, {
    routes: [
      {
        method: "GET",
        path: "/m/*",
        upstream: upstream.url,
        protocols: ["mpp"],
        price: session(2, 300),
      },
      {
        method: "GET",
        path: "/idle/*",
        upstream: upstream.url,
        protocols: ["mpp"],
        price: session(1, 10),
      },
      // A charge of the deposit's amount: a deposit payment must not buy it.
      {
        method: "GET",
        path: "/c/*",
        upstream: upstream.url,
        protocols: ["x402-legacy"],
        price: { type: "charge", sats: 10 },
      },
    ],
  });
  expect(res.status).toBe(200);
}, 90_000);

afterAll(async () => {
  provider?.close();
  await restarted?.stop();
  await stack?.stop();
  await upstream?.stop();
});

const payer = () => stack.devnet.wallet("payer").balanceMsat();
const shop = () => stack.devnet.wallet("merchant").balanceMsat();

/** A fresh payer: ln402's session client and the paying fetch around it. */
function client() {
  const session = lightningSessionClient(provider, { maxDepositSats: 100, network: "regtest" });
  return { session, pay: createPaymentFetch({ methods: [session] }) };
}

/** Reads SSE events from `res` until `stop` says so (or the stream ends). */
async function readUntil(
  events: AsyncGenerator<SseEvent>,
  stop: (e: SseEvent) => boolean,
): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  for (;;) {
    const next = await events.next();
    if (next.done) return seen;
    seen.push(next.value);
    if (stop(next.value)) return seen;
  }
}

const names = (events: SseEvent[]) => events.map((e) => (e.event === "message" ? e.data : e.event));

/** The sessions member of the stats. */
async function sessionStats(on: Stack): Promise<Record<string, number>> {
  return ((await stats(on, merchant)) as unknown as { sessions: Record<string, number> }).sessions;
}

/** Revenue of one route (msat), as `GET /merchants/:id/stats` reports it. */
async function revenueOf(on: Stack, route: string): Promise<number> {
  const row = (await stats(on, merchant)).routes.find((r) => r.route === route);
  return Number(row?.revenueMsat ?? 0);
}

/** Polls `check` until it holds: the outcome of a scheduled alarm (no other way to see it). */
async function eventually(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the alarm's outcome");
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe("gateway: sessions", () => {
  it("behavior: open, the stream runs dry, a top-up from another request resumes it, close refunds exactly deposit + top-up − spent, and revenue counts what was billed", async () => {
    const { session, pay } = client();
    const url = gw(stack, merchant, "/m/events?n=8");
    const payerStart = payer();
    const shopStart = shop();
    const revenueStart = await revenueOf(stack, "GET /m/*");
    const res = await pay(url);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/event-stream");
    const sessionId = session.getSession()?.sessionId;
    expect(Receipt.parse(res.headers.get("Payment-Receipt") ?? "")).toMatchObject({
      method: "lightning",
      intent: "session",
      reference: sessionId,
    });
    const events = readEvents(res.body as ReadableStream<Uint8Array>);
    const first = await readUntil(events, (e) => e.event === "payment-need-topup");
    // 10 sats of deposit at 2 sats per event: five events, then the pause.
    expect(names(first)).toEqual([
      '{"i":1}',
      '{"i":2}',
      '{"i":3}',
      '{"i":4}',
      '{"i":5}',
      "payment-need-topup",
    ]);
    expect(JSON.parse(first[5]?.data ?? "")).toEqual({
      sessionId,
      balanceRequired: 2,
      balanceSpent: 10,
    });
    expect(await session.topUp(pay, url)).toEqual({ balanceSats: 10, topUpSats: 10 });
    const rest = await readUntil(events, () => false);
    expect(names(rest)).toEqual(['{"i":6}', '{"i":7}', '{"i":8}', "payment-receipt", "[DONE]"]);
    expect(JSON.parse(rest[3]?.data ?? "")).toMatchObject({
      reference: sessionId,
      spent: 16,
      units: 8,
    });
    const beforeClose = payer();
    expect(await session.close(pay, url)).toEqual({ refundSats: 4, refundStatus: "succeeded" });
    expect(payer() - beforeClose).toBe(4_000);
    expect(payerStart - payer()).toBe(16_000);
    expect(shop() - shopStart).toBe(16_000);
    // Revenue is what the session billed (8 events × 2 sats), not the 20 sats paid in.
    expect((await revenueOf(stack, "GET /m/*")) - revenueStart).toBe(16_000);
  });

  it("error: a replayed open or top-up proof is refused, and a deposit payment cannot buy a charge", async () => {
    const { session, pay } = client();
    const url = gw(stack, merchant, "/m/json");
    const payerStart = payer();
    const opened = await pay(url);
    expect(opened.status).toBe(200);
    expect(await opened.json()).toMatchObject({ path: "/m/json" });
    const openCredential = session.getSession()?.openCredential ?? "";
    const replayed = await fetch(url, { headers: { Authorization: openCredential } });
    expect(replayed.status).toBe(402);
    expect(await replayed.json()).toMatchObject({ reason: "already_redeemed" });

    const fresh = await fetch(url);
    const [challenge] = Challenge.parseAll([fresh.headers.get("WWW-Authenticate") ?? ""]);
    const topUp = await session.topUpCredential(challenge as Challenge.Challenge);
    const credited = await fetch(url, { headers: { Authorization: topUp } });
    expect(credited.status).toBe(200);
    expect(await credited.json()).toMatchObject({ status: "ok", balanceSats: 18 });
    const again = await fetch(url, { headers: { Authorization: topUp } });
    expect(again.status).toBe(402);
    expect(await again.json()).toMatchObject({ reason: "already_redeemed" });

    // A paid deposit invoice shown as a 10-sat charge proof: it binds no request.
    const offer = await fetch(url);
    const deposit = (await offer.json()) as { invoice: string };
    const { preimage } = await provider.payInvoice({ invoice: deposit.invoice });
    const charge = await fetch(gw(stack, merchant, "/c/json"), {
      headers: {
        "PAYMENT-SIGNATURE": encodePaymentSignatureHeader({
          x402Version: 2,
          accepted: {
            scheme: "exact",
            network: "bip122:0f9188f13cb7b2c71f2a335e3a4fc328",
            amount: "10000",
            asset: "BTC",
            payTo: merchant.merchantId,
            maxTimeoutSeconds: 600,
            extra: {},
          },
          payload: { invoice: deposit.invoice, preimage },
        } as PaymentPayload),
      },
    });
    expect(charge.status).toBe(402);
    expect(await charge.json()).toMatchObject({ reason: "request_mismatch" });

    expect(await session.close(pay, url)).toEqual({ refundSats: 18, refundStatus: "succeeded" });
    // Paid: 10 deposit + 10 top-up + 10 for the stray deposit invoice; back: 18.
    expect(payerStart - payer()).toBe(12_000);
  });

  it("error: concurrent streams on one session never overdraw it; a close stops the waiting ones", async () => {
    const { session, pay } = client();
    const shopStart = shop();
    const first = await pay(gw(stack, merchant, "/m/events?n=3"));
    expect(
      names(await readUntil(readEvents(first.body as ReadableStream<Uint8Array>), () => false)),
    ).toEqual(['{"i":1}', '{"i":2}', '{"i":3}', "payment-receipt", "[DONE]"]);
    // 4 sats left: two events at 2 sats, whatever three streams asking for 4 each do.
    const url = gw(stack, merchant, "/m/events?n=4");
    const streams = await Promise.all([pay(url), pay(url), pay(url)]);
    const readers = streams.map((res) => {
      expect(res.status).toBe(200);
      return readEvents(res.body as ReadableStream<Uint8Array>);
    });
    const paused = await Promise.all(
      readers.map((events) => readUntil(events, (e) => e.event === "payment-need-topup")),
    );
    const delivered = paused.flat().filter((e) => e.event === "message").length;
    expect(delivered).toBe(2);
    expect(paused.every((events) => events.at(-1)?.event === "payment-need-topup")).toBe(true);
    expect(await session.close(pay, url)).toEqual({ refundSats: 0, refundStatus: "skipped" });
    const ends = await Promise.all(readers.map((events) => readUntil(events, () => false)));
    expect(ends.map((events) => names(events))).toEqual([
      ["session-closed"],
      ["session-closed"],
      ["session-closed"],
    ]);
    expect(shop() - shopStart).toBe(10_000);
  });

  it("error: a failed refund is reported failed, never paid, and retried with backoff until it is paid", async () => {
    const { pay, session } = client();
    const url = gw(stack, merchant, "/m/json");
    expect((await pay(url)).status).toBe(200);
    const before = await sessionStats(stack);
    const wallet = stack.devnet.wallet("merchant");
    wallet.faults.setError("INTERNAL", "devnet fault: refunds fail");
    const payerBefore = payer();
    try {
      expect(await session.close(pay, url)).toEqual({ refundSats: 8, refundStatus: "failed" });
      expect(payer()).toBe(payerBefore);
      expect(((await sessionStats(stack)).refundsFailed ?? 0) - (before.refundsFailed ?? 0)).toBe(
        1,
      );
    } finally {
      wallet.faults.setError(null);
    }
    // The alarm retries after 5 s: the refund is paid once.
    await eventually(async () => payer() !== payerBefore, 30_000);
    expect(payer() - payerBefore).toBe(8_000);
    const after = await sessionStats(stack);
    expect(after.refundsFailed).toBe(before.refundsFailed);
    expect((after.refundsPaid ?? 0) - (before.refundsPaid ?? 0)).toBe(1);
  }, 60_000);

  it("behavior: an idle session is closed by the alarm after ln402 restarts on the same state, and refunded exactly once; its billed unit counts as revenue", async () => {
    const { pay, session } = client();
    const payerStart = payer();
    const revenueStart = await revenueOf(stack, "GET /idle/*");
    expect((await pay(gw(stack, merchant, "/idle/json"))).status).toBe(200);
    // The Worker and its objects stop; the state (sessions, schedule) stays on disk.
    await stack.ln402.stop();
    restarted = await startWrangler(VARS);
    const running = { ...stack, ln402: restarted };
    // Deposit 10, one 1-sat answer: 9 back, once, without the client asking.
    await eventually(async () => {
      const now = await sessionStats(running);
      return now.openSessions === 0 && payer() - payerStart === -1_000;
    }, 45_000);
    const closed = await fetch(gw(running, merchant, "/idle/json"), {
      headers: { Authorization: session.getSession()?.openCredential ?? "" },
    });
    expect(closed.status).toBe(402);
    expect(payerStart - payer()).toBe(1_000);
    // The alarm's close counts the one billed unit as revenue, once.
    expect((await revenueOf(running, "GET /idle/*")) - revenueStart).toBe(1_000);
  }, 90_000);
});
