import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createPaymentFetch } from "../src/mpp/fetch.ts";
import { lightningSessionClient } from "../src/mpp/session/client.ts";
import { readEvents, type SseEvent } from "../src/mpp/session/sse.ts";
import { NwcLightningProvider } from "../src/providers/nwc.ts";
import type { Stack } from "./stack.ts";

/**
 * The metered-stream part of `npm run demo`: the devnet merchant puts a small SSE API
 * behind ln402's gateway at a per-event price (MPP lightning sessions,
 * draft-lightning-session-00), and the devnet payer opens a session with ln402's session
 * client, streams until `payment-need-topup`, tops up, resumes, closes, and gets back
 * exactly deposit + top-up − spent.
 */

/** Sats a streamed event costs, and the deposit (and each top-up): the stream runs dry after five. */
const SATS_PER_EVENT = 2;
const DEPOSIT_SATS = 10;
const EVENTS = 8;

/** Prints one step of the demo. */
export type Say = (step: string, detail?: string) => void;

/** Runs the metered stream; true when every amount came out exact. */
export async function meteredStreamDemo(stack: Stack, say: Say): Promise<boolean> {
  const upstream = await startTicker();
  const provider = new NwcLightningProvider({
    connectionString: stack.devnet.wallet("payer").connectionString,
    allowInsecureRelays: true,
  });
  try {
    const { merchantId, apiKey } = stack.merchant;
    say("session", "a metered stream through the gateway, paid with an MPP lightning session");
    const put = await fetch(`${stack.ln402.url}/merchants/${merchantId}/routes`, {
      method: "PUT",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({
        routes: [
          {
            method: "GET",
            path: "/ticks",
            upstream: upstream.url,
            protocols: ["mpp"],
            price: {
              type: "session",
              satsPerUnit: SATS_PER_EVENT,
              depositSats: DEPOSIT_SATS,
              idleTimeoutSecs: 300,
            },
          },
        ],
      }),
    });
    if (put.status !== 200) throw new Error(`routes: ${put.status} ${await put.text()}`);
    say(
      "routes",
      `GET /ticks → ${upstream.url} (the demo's SSE API), ${SATS_PER_EVENT} sats an event, ${DEPOSIT_SATS} sats deposit`,
    );

    const session = lightningSessionClient(provider, {
      maxDepositSats: DEPOSIT_SATS,
      network: "regtest",
      onProgress: (p) => {
        if (p.type === "opened")
          say("open", `deposit of ${DEPOSIT_SATS} sats paid: session ${short(p.sessionId)}`);
      },
    });
    const pay = createPaymentFetch({ methods: [session] });
    const url = `${stack.ln402.url}/gw/${merchantId}/ticks?n=${EVENTS}`;
    const payerBefore = stack.devnet.wallet("payer").balanceMsat();
    const res = await pay(url);
    if (res.status !== 200 || res.body === null) throw new Error(`stream: ${res.status}`);
    const events = readEvents(res.body);
    const first = await readUntil(events, (e) => e.event === "payment-need-topup");
    const pause = first.at(-1);
    const need = pause ? (JSON.parse(pause.data) as { balanceSpent: number }) : null;
    say(
      "stream",
      `${data(first).join(" ")}, then ${pause?.event} (${need?.balanceSpent} sats spent)`,
    );
    const topped = await session.topUp(pay, url);
    say(
      "topup",
      `paid ${topped.topUpSats} sats from another request: balance ${topped.balanceSats} sats`,
    );
    const rest = await readUntil(events, () => false);
    const receipt = rest.find((e) => e.event === "payment-receipt");
    const spent = receipt ? (JSON.parse(receipt.data) as { spent: number; units: number }) : null;
    say(
      "stream",
      `resumed: ${data(rest).join(" ")}, then payment-receipt (${spent?.units} units, ${spent?.spent} sats)`,
    );
    const closed = await session.close(pay, url);
    say("close", `refund ${closed.refundSats} sats, ${closed.refundStatus}`);
    const changeMsat = stack.devnet.wallet("payer").balanceMsat() - payerBefore;
    const spentMsat = (spent?.spent ?? Number.NaN) * 1000;
    const refundMsat = closed.refundSats * 1000;
    say(
      "refund",
      `${refundMsat} msat = deposit ${DEPOSIT_SATS * 1000} + top-up ${topped.topUpSats * 1000} − spent ${spentMsat} msat; payer wallet ${changeMsat < 0 ? "−" : "+"}${Math.abs(changeMsat)} msat`,
    );
    return (
      spent?.units === EVENTS &&
      closed.refundStatus === "succeeded" &&
      refundMsat === DEPOSIT_SATS * 1000 + topped.topUpSats * 1000 - spentMsat &&
      changeMsat === -spentMsat
    );
  } finally {
    provider.close();
    await upstream.stop();
  }
}

/** The demo's SSE API on 127.0.0.1: `?n=` events `{"tick":i}`, written at once. */
async function startTicker(): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    const n = Number(new URL(req.url ?? "/", "http://ticker").searchParams.get("n") ?? "3");
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
    for (let i = 1; i <= n; i++) res.write(`data: {"tick":${i}}\n\n`);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Reads events until `stop` holds for one (included) or the stream ends. */
async function readUntil(
  events: AsyncGenerator<SseEvent>,
  stop: (e: SseEvent) => boolean,
): Promise<SseEvent[]> {
  const seen: SseEvent[] = [];
  for (let next = await events.next(); !next.done; next = await events.next()) {
    seen.push(next.value);
    if (stop(next.value)) break;
  }
  return seen;
}

/** The upstream's own events (the session's named events and `[DONE]` aside). */
function data(events: SseEvent[]): string[] {
  return events.filter((e) => e.event === "message" && e.data !== "[DONE]").map((e) => e.data);
}

function short(s: string): string {
  return s.length > 24 ? `${s.slice(0, 12)}…` : s;
}
