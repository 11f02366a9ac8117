import { Mppx as MppxServer } from "mppx/server";
import { describe, expect, it } from "vitest";
import { lightningChargeClient as ln402ChargeClient } from "../../src/mpp/chargeClient.ts";
import { createPaymentFetch } from "../../src/mpp/fetch.ts";
import {
  lightningChargeServer,
  lightningSessionServer,
  toMppxClientMethod,
} from "../../src/mpp/mppx.ts";
import * as Challenge from "../../src/protocol/mpp/Challenge.ts";
import * as Credential from "../../src/protocol/mpp/Credential.ts";
import { MockLightningNetwork, MockLightningProvider } from "../../src/providers/mock.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";

/**
 * The guarantees of ln402's own server, kept through mppx: one credential buys one delivery
 * at 64-way concurrency, and sessions and consumed payments belong to the server that
 * issued them, whatever Store, secret and realm it shares (draft-httpauth-payment-01).
 */

const SECRET = "test-only-mpp-secret-0123456789abcdef";
const URL_ = "http://api.test/thing";
const P = "https://paymentauth.org/problems/";

function world() {
  const net = new MockLightningNetwork();
  const payer = new MockLightningProvider({ mockNetwork: net, balanceMsat: 10_000_000 });
  const provider = () => new MockLightningProvider({ mockNetwork: net, balanceMsat: 0 });
  return { net, payer, provider, store: new MemoryStore() };
}

/** An mppx server selling /thing by charge (21 sat) and by session (2 sat per unit). */
function server(
  w: ReturnType<typeof world>,
  options: { serverId?: string; requiresAuth?: boolean } = {},
) {
  const provider = w.provider();
  const ids = options.serverId ? { serverId: options.serverId } : {};
  const charge = lightningChargeServer({ provider, store: w.store, ...ids });
  const session = lightningSessionServer({ provider, store: w.store, depositAmount: 20, ...ids });
  const mppx = MppxServer.create({
    methods: [charge, session],
    secretKey: SECRET,
    realm: "api.test",
    ...(options.requiresAuth && { requiresAuth: true }),
  });
  let delivered = 0;
  const handler = async (request: Request, intent: "charge" | "session" = "charge") => {
    const result =
      intent === "charge"
        ? await mppx.charge({ amount: "21", currency: "sat" })(request)
        : await mppx.session({ amount: "2", currency: "sat" })(request);
    if (result.status === 402) return result.challenge;
    delivered += 1;
    return result.withReceipt(Response.json({ n: delivered }));
  };
  return { provider, session, handler, delivered: () => delivered };
}

/** A fresh challenge of `handler` for `intent`, parsed. */
async function challengeOf(res: Response, intent: string) {
  const found = Challenge.parseAll([res.headers.get("WWW-Authenticate") ?? ""]).find(
    (c) => c.intent === intent,
  );
  if (!found) throw new Error(`no ${intent} challenge`);
  return found;
}

const withAuth = (authorization: string) =>
  new Request(URL_, { headers: { Authorization: authorization } });

async function problemType(res: Response) {
  expect(res.status).toBe(402);
  return ((await res.json()) as { type: string }).type;
}

describe("ln402's methods through mppx keep ln402's guarantees", () => {
  it("error: 64 concurrent copies of one charge credential get exactly one 200", async () => {
    const w = world();
    const a = server(w);
    const challenge = await challengeOf(await a.handler(new Request(URL_)), "charge");
    const paid = await w.payer.payInvoice({ invoice: String(readInvoice(challenge)) });
    const credential = Credential.serialize({ challenge, payload: { preimage: paid.preimage } });
    const answers = await Promise.all(
      Array.from({ length: 64 }, () => a.handler(withAuth(credential))),
    );
    expect(answers.filter((r) => r.status === 200)).toHaveLength(1);
    expect(answers.filter((r) => r.status === 402)).toHaveLength(63);
    expect(a.delivered()).toBe(1);
  });

  it("error: with a shared store, secret and realm, server A refuses B's charge credential and B's session", async () => {
    const w = world();
    const a = server(w, { serverId: "merchant-a" });
    const b = server(w, { serverId: "merchant-b" });
    // B's paid charge credential, presented at A first: refused, and still good at B.
    const atB = await challengeOf(await b.handler(new Request(URL_)), "charge");
    const paid = await w.payer.payInvoice({ invoice: String(readInvoice(atB)) });
    const charge = Credential.serialize({ challenge: atB, payload: { preimage: paid.preimage } });
    expect(await problemType(await a.handler(withAuth(charge)))).toBe(`${P}invalid-challenge`);
    expect(a.delivered()).toBe(0);
    expect((await b.handler(withAuth(charge))).status).toBe(200);

    // A session opened at B: its bearer and close, on A's fresh challenges, find nothing.
    const open = await challengeOf(await b.handler(new Request(URL_), "session"), "session");
    const deposit = await w.payer.payInvoice({ invoice: String(open.request.depositInvoice) });
    const refund = await w.payer.createInvoice({ amountMsat: 0, expirySecs: 86_400 });
    const opened = Credential.serialize({
      challenge: open,
      payload: { action: "open", preimage: deposit.preimage, returnInvoice: refund.invoice },
    });
    expect((await b.handler(withAuth(opened), "session")).status).toBe(200);
    const sessionId = String(open.request.paymentHash);
    for (const action of ["bearer", "close"] as const) {
      const atA = await challengeOf(await a.handler(new Request(URL_), "session"), "session");
      const payload = { action, sessionId, preimage: deposit.preimage };
      const res = await a.handler(
        withAuth(Credential.serialize({ challenge: atA, payload })),
        "session",
      );
      expect(await problemType(res)).toBe(`${P}lightning/session-not-found`);
    }
    expect(a.provider.balanceMsat()).toBe(0); // A refunded nothing of B's deposit
    expect((await b.session.sessions.get(sessionId))?.status).toBe("open");
  });

  it("behavior: ln402's charge client through mppx's adapter pays a server asking for Payment-Authorization", async () => {
    const w = world();
    const a = server(w, { requiresAuth: true });
    const sent: Request[] = [];
    const pay = createPaymentFetch({
      methods: [ln402ChargeClient(w.payer)],
      fetch: async (r) => {
        sent.push(r.clone());
        return a.handler(r);
      },
    });
    const res = await pay(URL_);
    expect(res.status).toBe(200);
    expect(sent[1]?.headers.get("Payment-Authorization")).toMatch(/^Payment /);
    // The same through toMppxClientMethod: the credential echoes the challenge's header.
    const challenge = await challengeOf(await a.handler(new Request(URL_)), "charge");
    expect(challenge.header).toBe("Payment-Authorization");
    const mppxMethod = toMppxClientMethod(ln402ChargeClient(w.payer));
    const credential = await mppxMethod.createCredential({ challenge } as never);
    expect(Credential.parse(credential).challenge.header).toBe("Payment-Authorization");
    const paid = await a.handler(
      new Request(URL_, { headers: { "Payment-Authorization": credential } }),
    );
    expect(paid.status).toBe(200);
  });
});

function readInvoice(challenge: Challenge.Challenge): unknown {
  const details = challenge.request.methodDetails as { invoice?: unknown } | undefined;
  return details?.invoice;
}
