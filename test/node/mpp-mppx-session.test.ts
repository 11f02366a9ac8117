import { Mppx as MppxClient } from "mppx/client";
import { Mppx as MppxServer } from "mppx/server";
import { describe, expect, it } from "vitest";
import { createPaymentFetch } from "../../src/mpp/fetch.ts";
import {
  lightningChargeClient,
  lightningChargeServer,
  lightningSessionClient,
  lightningSessionServer,
  type MppxLightningSessionServer,
} from "../../src/mpp/mppx.ts";
import { createPaymentHandler } from "../../src/mpp/server.ts";
import { lightningSessionClient as ln402SessionClient } from "../../src/mpp/session/client.ts";
import { lightningSessionServer as ln402SessionServer } from "../../src/mpp/session/server.ts";
import { readEvents } from "../../src/mpp/session/sse.ts";
import type { CloseAnswer } from "../../src/mpp/session/wire.ts";
import { MockLightningNetwork, MockLightningProvider } from "../../src/providers/mock.ts";
import type { Store } from "../../src/store/Store.ts";

/**
 * The existing Lightning MPP SDK's README examples, run through mppx 0.11's server and
 * client with only the imports changed to `ln402/mpp/mppx` (providers from ln402), and
 * ln402's own client and server against mppx's in both directions. Mock providers share one
 * in-memory network: test doubles, not Lightning nodes.
 */

const MPP_SECRET_KEY = "test-only-mpp-secret-0123456789abcdef";
const URL_ = "http://api.test/generate";

async function* myAsyncGenerator() {
  for (let i = 1; i <= 3; i++) yield `chunk ${i}`;
}

/** Every event name of a paid stream, read to its end (each delivered event is billed). */
async function drain(res: Response): Promise<string[]> {
  expect(res.status).toBe(200);
  const events: string[] = [];
  if (res.body) for await (const e of readEvents(res.body)) events.push(e.event);
  return events;
}

/** The SDK's session server example: `mppx.session(…)(request)` then `sessionMethod.serve(…)`. */
function sessionServer(
  provider: MockLightningProvider,
  options: { store?: Store; serverId?: string; realm?: string } = {},
) {
  const sessionMethod: MppxLightningSessionServer = lightningSessionServer({
    provider,
    depositAmount: 300, // sats required upfront
    idleTimeout: 300, // auto-close after 5 min inactivity
    unitType: "chunk",
    ...(options.store && { store: options.store }),
    ...(options.serverId && { serverId: options.serverId }),
  });
  const mppx = MppxServer.create({
    methods: [sessionMethod],
    secretKey: MPP_SECRET_KEY,
    ...(options.realm && { realm: options.realm }),
  });
  async function handler(request: Request): Promise<Response> {
    const result = await mppx.session({
      amount: "2", // 2 sats per chunk
      currency: "sat",
      description: "LLM stream",
    })(request);
    if (result.status === 402) return result.challenge;
    return result.withReceipt(
      sessionMethod.serve({
        sessionId: sessionMethod.sessionIdOf(request) ?? "",
        satsPerChunk: 2,
        generate: myAsyncGenerator(),
        timeoutMs: 60_000,
      }),
    );
  }
  return { sessionMethod, handler };
}

function mppxFetchTo(handler: (r: Request) => Promise<Response>) {
  return (input: Request | string | URL, init?: RequestInit) => handler(new Request(input, init));
}

describe("drop-in for the existing Lightning MPP SDK, through mppx 0.11", () => {
  it("behavior: the SDK's charge examples run against mppx's server and client", async () => {
    const net = new MockLightningNetwork();
    const provider = new MockLightningProvider({ mockNetwork: net, balanceMsat: 0 });
    const chargeMethod = lightningChargeServer({ provider, currency: "sat", network: "regtest" });
    const server = MppxServer.create({ methods: [chargeMethod], secretKey: MPP_SECRET_KEY });
    let served = 0;
    async function handler(request: Request): Promise<Response> {
      const result = await server.charge({
        amount: "100",
        currency: "sat",
        description: "Premium API access",
      })(request);
      if (result.status === 402) return result.challenge;
      served += 1;
      return result.withReceipt(Response.json({ data: "..." }));
    }
    const payer = new MockLightningProvider({ mockNetwork: net, balanceMsat: 1_000_000 });
    const seen: string[] = [];
    const chargeClient = lightningChargeClient(payer, {
      maxFeeSats: 100,
      onProgress: (event) => seen.push(event.type),
    });
    const mppx = MppxClient.create({
      polyfill: false,
      methods: [chargeClient],
      fetch: mppxFetchTo(handler),
    });
    const response = await mppx.fetch("https://api.example.com/weather");
    expect(await response.json()).toEqual({ data: "..." });
    expect(seen).toEqual(["paying", "paid"]);
    expect(served).toBe(1);
    expect(payer.balanceMsat()).toBe(1_000_000 - 100_000);
  });

  it("behavior: the SDK's session examples run against mppx: open, bearer, top-up, close with the exact refund", async () => {
    const net = new MockLightningNetwork();
    const merchant = new MockLightningProvider({ mockNetwork: net, balanceMsat: 0 });
    const { handler } = sessionServer(merchant);
    const provider = new MockLightningProvider({ mockNetwork: net, balanceMsat: 1_000_000 });
    const seen: string[] = [];
    const sessionClient = lightningSessionClient(provider, {
      maxFeeSats: 100,
      onProgress: (event) => seen.push(event.type),
    });
    const mppx = MppxClient.create({
      polyfill: false,
      methods: [sessionClient],
      fetch: mppxFetchTo(handler),
    });
    // First request opens the session and pays the deposit; the second reuses it.
    expect(await drain(await mppx.fetch(URL_))).toContain("payment-receipt");
    expect(await drain(await mppx.fetch(URL_))).toContain("payment-receipt");
    expect(sessionClient.getSession()?.sessionId).toMatch(/^[0-9a-f]{64}$/);
    const topUp = await sessionClient.topUp(mppx.fetch, URL_);
    expect(await topUp.json()).toMatchObject({ status: "ok", topUpSats: 300 });
    const closeResponse = await sessionClient.close(mppx.fetch, URL_);
    // (`json()` is `unknown` under the Workers types this project compiles with.)
    const { refundSats, refundStatus } = (await closeResponse.json()) as CloseAnswer;
    // 600 deposited, 2 streams × 3 chunks × 2 sats spent.
    expect({ refundSats, refundStatus }).toEqual({ refundSats: 588, refundStatus: "succeeded" });
    expect(sessionClient.getSession()).toBeNull();
    expect(provider.balanceMsat()).toBe(1_000_000 - 12_000);
    expect(merchant.balanceMsat()).toBe(12_000);
    expect(seen).toEqual(["deposit", "opened", "deposit", "topUp"]);
  });

  it("interop: ln402's paying fetch and session client against an mppx server with the drop-in method", async () => {
    const net = new MockLightningNetwork();
    const merchant = new MockLightningProvider({ mockNetwork: net, balanceMsat: 0 });
    const { handler } = sessionServer(merchant);
    const payer = new MockLightningProvider({ mockNetwork: net, balanceMsat: 1_000_000 });
    const session = ln402SessionClient(payer);
    const pay = createPaymentFetch({ methods: [session], fetch: handler });
    expect(await drain(await pay(URL_))).toContain("payment-receipt");
    expect(await drain(await pay(URL_))).toContain("payment-receipt");
    expect(await session.topUp(pay, URL_)).toMatchObject({ topUpSats: 300 });
    expect(await session.close(pay, URL_)).toEqual({ refundSats: 588, refundStatus: "succeeded" });
    expect(payer.balanceMsat()).toBe(1_000_000 - 12_000);
  });

  it("interop: mppx's client with the drop-in session client against ln402's own server", async () => {
    const net = new MockLightningNetwork();
    const merchant = new MockLightningProvider({ mockNetwork: net, balanceMsat: 0 });
    const method = ln402SessionServer({ provider: merchant, depositAmount: 300 });
    const payments = createPaymentHandler({
      secretKey: MPP_SECRET_KEY,
      realm: "api.test",
      methods: [method],
    });
    const handler = async (request: Request) => {
      const result = await payments.handle(request, { intent: "session", amount: "2" });
      if (result.status === 402) return result.challenge;
      if (result.management) return result.management;
      const sessionId = result.receipt.reference;
      return result.withReceipt(method.serve({ sessionId, generate: myAsyncGenerator() }));
    };
    const payer = new MockLightningProvider({ mockNetwork: net, balanceMsat: 1_000_000 });
    const sessionClient = lightningSessionClient(payer);
    const mppx = MppxClient.create({
      polyfill: false,
      methods: [sessionClient],
      fetch: mppxFetchTo(handler),
    });
    expect(await drain(await mppx.fetch(URL_))).toContain("payment-receipt");
    expect(await drain(await mppx.fetch(URL_))).toContain("payment-receipt");
    expect(await (await sessionClient.topUp(mppx.fetch, URL_)).json()).toMatchObject({
      status: "ok",
    });
    const closed = await sessionClient.close(mppx.fetch, URL_);
    expect(await closed.json()).toMatchObject({ status: "closed", refundSats: 588 });
    expect(payer.balanceMsat()).toBe(1_000_000 - 12_000);
  });
});
