import {
  createExecutionContext,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  SELF,
} from "cloudflare:test";
import { NWCClient } from "@getalby/sdk/nwc";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { X402_NETWORKS } from "../../src/protocol/x402/Networks.ts";
import worker from "../../src/worker/index.ts";
import { devnet, uniqueName } from "./devnet.ts";
import { BASE, freshClientIp, post } from "./http.ts";

/**
 * Paid means the merchant's wallet received it, and a proof redeems once, for the
 * merchant that issued it. A payee's wallet knows the preimage of its own invoice
 * before anyone pays (the devnet's lookup_invoice returns it, as LND and real NWC
 * wallets do), so none of these may treat that preimage as proof of payment.
 */

type Json = Record<string, unknown>;
type Merchant = { merchantId: string; apiKey: string };
type Issued = { invoice: string; paymentHash: string; amount: string; expiresAt: number };

const payers: NWCClient[] = [];
afterEach(() => devnet.healRelay());
afterAll(() => {
  for (const p of payers) p.close();
});

function payer(): NWCClient {
  const client = new NWCClient({ nostrWalletConnectUrl: inject("nwc").payer });
  payers.push(client);
  return client;
}

async function register(nwcUrl: string): Promise<Merchant> {
  const res = await post("/register", { nwcUrl }, { "CF-Connecting-IP": freshClientIp() });
  const body = (await res.json()) as Json;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return { merchantId: String(body.merchantId), apiKey: String(body.apiKey) };
}

async function issue(m: Merchant, extra: Json = {}): Promise<Issued> {
  const res = await post(
    "/invoice",
    { merchantId: m.merchantId, amount: "21000", ...extra },
    { Authorization: `Bearer ${m.apiKey}` },
  );
  const body = (await res.json()) as Json;
  expect(res.status, JSON.stringify(body)).toBe(201);
  return body as Issued;
}

async function status(paymentHash: string): Promise<Response> {
  return SELF.fetch(`${BASE}/invoice/status/${paymentHash}`, {
    headers: { "CF-Connecting-IP": freshClientIp() },
  });
}

function facilitatorBody(m: Merchant, issued: Issued, payload: Json) {
  const requirements = {
    scheme: "exact",
    network: X402_NETWORKS.regtest,
    amount: issued.amount,
    asset: "BTC",
    payTo: m.merchantId,
    maxTimeoutSeconds: 300,
    extra: {
      paymentMethod: "lightning",
      merchantId: m.merchantId,
      invoice: issued.invoice,
      paymentHash: issued.paymentHash,
    },
  };
  return {
    x402Version: 2,
    paymentPayload: { x402Version: 2, accepted: requirements, payload },
    paymentRequirements: requirements,
  };
}

async function verify(body: unknown): Promise<Json> {
  return (await (await post("/verify", body)).json()) as Json;
}

async function settle(m: Merchant, body: unknown): Promise<Json> {
  return (await (
    await post("/settle", body, { Authorization: `Bearer ${m.apiKey}` })
  ).json()) as Json;
}

async function lookups(wallet: string): Promise<number> {
  return (await devnet.wallet(wallet)).requests.lookup_invoice ?? 0;
}

describe("paid means the wallet received it", () => {
  it("error: a wallet without notifications: an unpaid invoice is unpaid for status, verify and settle ({invoice} form)", async () => {
    const name = uniqueName("quiet");
    const wallet = await devnet.createWallet(name, { notifications: false });
    const m = await register(wallet.connectionString);
    const issued = await issue(m);
    expect(await (await status(issued.paymentHash)).json()).toMatchObject({ paid: false });
    const form = facilitatorBody(m, issued, { invoice: issued.invoice });
    expect(await verify(form)).toMatchObject({
      isValid: false,
      invalidReason: "payment_not_received",
    });
    expect(await settle(m, form)).toMatchObject({
      success: false,
      errorReason: "payment_not_received",
    });
    // Paying it makes it paid, learned from a settled lookup (no notification exists).
    await payer().payInvoice({ invoice: issued.invoice });
    await expect
      .poll(async () => ((await (await status(issued.paymentHash)).json()) as Json).paid, {
        timeout: 10_000,
        interval: 500,
      })
      .toBe(true);
    expect(await settle(m, form)).toMatchObject({ success: true });
  });

  it("error: after a relay drop, reconciling a notifying wallet marks no unpaid invoice paid", async () => {
    const m = await register(inject("nwc").merchant);
    const unpaid = await Promise.all([issue(m), issue(m), issue(m)]);
    const paid = await issue(m);
    await devnet.relayFaults({ dropAll: true });
    // Paid while ln402's socket is down: only the reconcile can learn it.
    await expect
      .poll(async () => (await devnet.wallet("merchant")).listening, { timeout: 5_000 })
      .toBe(true);
    await payer().payInvoice({ invoice: paid.invoice });
    // The next request reconnects; the reconcile then looks up every pending invoice.
    await issue(m);
    await expect
      .poll(async () => ((await (await status(paid.paymentHash)).json()) as Json).paid, {
        timeout: 10_000,
        interval: 250,
      })
      .toBe(true);
    for (const entry of unpaid) {
      expect(await (await status(entry.paymentHash)).json()).toMatchObject({ paid: false });
      expect(await verify(facilitatorBody(m, entry, { invoice: entry.invoice }))).toMatchObject({
        isValid: false,
      });
    }
  });

  it("error: after the object is reset, a never-paid invoice still reads unpaid", async () => {
    const m = await register(inject("nwc").merchant);
    const issued = await issue(m);
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName(m.merchantId));
    await runInDurableObject(stub, (_i, state) => state.abort("test: simulated eviction")).catch(
      () => {},
    );
    expect(await (await status(issued.paymentHash)).json()).toMatchObject({ paid: false });
    expect(await settle(m, facilitatorBody(m, issued, { invoice: issued.invoice }))).toMatchObject({
      success: false,
      errorReason: "payment_not_received",
    });
  });

  it("error: an expired unpaid invoice is judged expired without asking the wallet", async () => {
    const name = uniqueName("expiring");
    const wallet = await devnet.createWallet(name, { notifications: false });
    const m = await register(wallet.connectionString);
    const issued = await issue(m, { expirySecs: 10 });
    await new Promise((resolve) => setTimeout(resolve, (issued.expiresAt + 1) * 1000 - Date.now()));
    const before = await lookups(name);
    expect(await (await status(issued.paymentHash)).json()).toMatchObject({ paid: false });
    const form = facilitatorBody(m, issued, { invoice: issued.invoice });
    expect(await verify(form)).toMatchObject({ isValid: false, invalidReason: "invoice_expired" });
    expect(await settle(m, form)).toMatchObject({ errorReason: "invoice_expired" });
    expect(await lookups(name)).toBe(before);
  }, 30_000);
});

describe("one tenant cannot speak for another's payment hash", () => {
  it("error: a wallet that returns an invoice with another merchant's hash gets 502 and indexes nothing", async () => {
    const victim = await register(inject("nwc").merchant);
    const victimInvoice = await issue(victim);
    const name = uniqueName("liar");
    const liarWallet = await devnet.createWallet(name);
    const liar = await register(liarWallet.connectionString);
    await devnet.walletFaults(name, { invoiceHash: victimInvoice.paymentHash });
    const res = await post(
      "/invoice",
      { merchantId: liar.merchantId, amount: "21000" },
      { Authorization: `Bearer ${liar.apiKey}` },
    );
    expect(res.status).toBe(502);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    // The liar pays its own forged invoice: the victim's invoice is still unpaid.
    expect(await (await status(victimInvoice.paymentHash)).json()).toMatchObject({ paid: false });
    const liarStub = env.MERCHANT.get(env.MERCHANT.idFromName(liar.merchantId));
    const booked = await runInDurableObject(liarStub, (_i, state) =>
      state.storage.sql.exec("SELECT count(*) AS n FROM invoices").one(),
    );
    expect(booked.n).toBe(0);
  });

  it("behavior: a wallet whose get_info omits the node key is pinned to the key that signed a probe invoice", async () => {
    const name = uniqueName("nopubkey");
    const wallet = await devnet.createWallet(name, { reportsNodePubkey: false });
    const m = await register(wallet.connectionString);
    const res = await SELF.fetch(`${BASE}/merchants/${m.merchantId}`, {
      headers: { Authorization: `Bearer ${m.apiKey}` },
    });
    expect(((await res.json()) as Json).nodePubkey).toBe(wallet.nodePubkey);
  });
});

describe("invoice minting is the merchant's", () => {
  it("error: an unauthenticated POST /invoice is 401 unless the merchant turned public invoices on", async () => {
    const m = await register(inject("nwc").merchant);
    const makes = (await devnet.wallet("merchant")).requests.make_invoice ?? 0;
    const res = await post("/invoice", { merchantId: m.merchantId, amount: "21000" });
    expect(res.status).toBe(401);
    expect((await devnet.wallet("merchant")).requests.make_invoice ?? 0).toBe(makes);
    const patch = await SELF.fetch(`${BASE}/merchants/${m.merchantId}`, {
      method: "PATCH",
      headers: { Authorization: `Bearer ${m.apiKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ publicInvoices: true }),
    });
    expect(patch.status).toBe(200);
    expect(await patch.json()).toMatchObject({ publicInvoices: true });
    expect((await post("/invoice", { merchantId: m.merchantId, amount: "21000" })).status).toBe(
      201,
    );
  });

  it("behavior: one end client at its limit is 429 with Retry-After while other clients of the same merchant still get invoices", async () => {
    const m = await register(inject("nwc").merchant);
    const from = (client: string) =>
      post(
        "/invoice",
        { merchantId: m.merchantId, amount: "1000" },
        { Authorization: `Bearer ${m.apiKey}`, "Ln402-Client-Ip": client },
      );
    const greedy = "192.0.2.66";
    let limited: Response | null = null;
    for (let i = 0; i < 40 && limited === null; i++) {
      const res = await from(greedy);
      if (res.status === 429) limited = res;
      else expect(res.status).toBe(201);
    }
    expect(limited, "the greedy client was never limited").not.toBeNull();
    expect(limited?.headers.get("Retry-After")).toMatch(/^[0-9]+$/);
    expect(limited?.headers.get("content-type")).toBe("application/problem+json");
    expect((await from("192.0.2.67")).status).toBe(201);
  });

  it("behavior: polling status answers from the book: at most one wallet lookup per invoice in a few seconds", async () => {
    const name = uniqueName("polled");
    const wallet = await devnet.createWallet(name, { notifications: false });
    const m = await register(wallet.connectionString);
    const issued = await issue(m);
    const before = await lookups(name);
    for (let i = 0; i < 10; i++) expect((await status(issued.paymentHash)).status).toBe(200);
    expect((await lookups(name)) - before).toBeLessThanOrEqual(1);
  });
});

describe("a deleted merchant's invoices", () => {
  it("error: status is a clean 404 and verify is isValid:false", async () => {
    const m = await register(inject("nwc").merchant);
    const issued = await issue(m);
    const del = await SELF.fetch(`${BASE}/merchants/${m.merchantId}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${m.apiKey}` },
    });
    expect(del.status).toBe(204);
    const res = await status(issued.paymentHash);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(await verify(facilitatorBody(m, issued, { invoice: issued.invoice }))).toMatchObject({
      isValid: false,
    });
  });
});

describe("asset", () => {
  it("error: requirements in another asset never settle a Lightning payment", async () => {
    const m = await register(inject("nwc").merchant);
    const issued = await issue(m);
    const { preimage } = await payer().payInvoice({ invoice: issued.invoice });
    const body = facilitatorBody(m, issued, { preimage });
    const usdc = {
      ...body,
      paymentPayload: {
        ...body.paymentPayload,
        accepted: { ...body.paymentRequirements, asset: "USDC" },
      },
      paymentRequirements: { ...body.paymentRequirements, asset: "USDC" },
    };
    expect(await verify(usdc)).toMatchObject({
      isValid: false,
      invalidReason: "unsupported_asset",
    });
    expect(await settle(m, usdc)).toMatchObject({ success: false });
    expect(await settle(m, body)).toMatchObject({ success: true });
  });
});

describe("relay URLs are attacker input", () => {
  it("error: in production, relays on loopback, private, link-local or metadata addresses are refused before any connection", async () => {
    const production = { ...env, ALLOW_INSECURE_RELAYS: "false" };
    const wallet = await devnet.createWallet(uniqueName("ssrf"));
    for (const relay of [
      "wss://127.0.0.1:6379",
      "wss://169.254.169.254",
      "wss://10.0.0.5",
      "wss://[::1]:8080",
      "wss://localhost",
    ]) {
      const nwcUrl = wallet.connectionString.replace(
        /relay=[^&]+/,
        `relay=${encodeURIComponent(relay)}`,
      );
      const request = new Request(`${BASE}/register`, {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": freshClientIp() },
        body: JSON.stringify({ nwcUrl }),
      });
      const res = await worker.fetch(request, production, createExecutionContext());
      expect(res.status, relay).toBe(400);
      expect(((await res.json()) as Json).detail).toContain("local or private address");
    }
  });

  it("error: a relay URL's query (an auth token) appears in no answer and no unsealed storage", async () => {
    const token = "relaytoken0123456789abcdef";
    const wallet = await devnet.createWallet(uniqueName("token"));
    const withToken = wallet.connectionString.replace(
      /relay=([^&]+)/,
      (_all, relay: string) =>
        `relay=${encodeURIComponent(`${decodeURIComponent(relay)}/?token=${token}`)}`,
    );
    const res = await post(
      "/register",
      { nwcUrl: withToken },
      { "CF-Connecting-IP": freshClientIp() },
    );
    const body = await res.text();
    expect(res.status, body).toBe(201);
    expect(body).not.toContain(token);
    const { merchantId, apiKey } = JSON.parse(body) as Merchant;
    const page = await SELF.fetch(`${BASE}/merchants/${merchantId}`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    expect(await page.text()).not.toContain(token);
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName(merchantId));
    const stored = await runInDurableObject(stub, async (_i, state) =>
      JSON.stringify([...(await state.storage.list()).entries()]),
    );
    expect(stored).not.toContain(token);
    // An unreachable relay with a token: the problem names the host, never the token.
    const unreachable = withToken.replace(/127\.0\.0\.1%3A[0-9]+/, "127.0.0.1%3A1");
    const failed = await post(
      "/register",
      { nwcUrl: unreachable },
      { "CF-Connecting-IP": freshClientIp() },
    );
    expect(failed.status).toBe(422);
    expect(await failed.text()).not.toContain(token);
  });
});

describe("idle merchants cost nothing", () => {
  it("behavior: a long-lived pending invoice does not keep the socket or the alarm alive once idle; it is looked up on demand", async () => {
    const name = uniqueName("idlepending");
    const wallet = await devnet.createWallet(name);
    const m = await register(wallet.connectionString);
    const issued = await issue(m, { expirySecs: 86_400, amount: "1" });
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName(m.merchantId));
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { lastActivityMs: number }).lastActivityMs = 0;
    });
    await runDurableObjectAlarm(stub);
    const page = async () =>
      (await (
        await SELF.fetch(`${BASE}/merchants/${m.merchantId}`, {
          headers: { Authorization: `Bearer ${m.apiKey}` },
        })
      ).json()) as { connection: { connected: boolean }; invoices: { pending: number } };
    expect(await page()).toMatchObject({
      connection: { connected: false },
      invoices: { pending: 1 },
    });
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    // Paid while ln402 is disconnected: the next status asks the wallet.
    await payer().payInvoice({ invoice: issued.invoice });
    expect(await (await status(issued.paymentHash)).json()).toMatchObject({ paid: true });
  });
});

describe("a half-open relay", () => {
  it("behavior: a wallet call that times out checks the relay at once: the silent socket is closed without waiting for the next ping", async () => {
    const m = await register(inject("nwc").merchant);
    await issue(m);
    await devnet.relayFaults({ halfOpen: true });
    const timedOut = await post(
      "/invoice",
      { merchantId: m.merchantId, amount: "1000" },
      { Authorization: `Bearer ${m.apiKey}` },
    );
    expect(timedOut.status).toBe(503);
    // The scheduled ping is 30 s away; the socket must be found dead long before.
    await expect
      .poll(
        async () =>
          (
            (await (
              await SELF.fetch(`${BASE}/merchants/${m.merchantId}`, {
                headers: { Authorization: `Bearer ${m.apiKey}` },
              })
            ).json()) as { connection: { connected: boolean } }
          ).connection.connected,
        { timeout: 5_000, interval: 200 },
      )
      .toBe(false);
  });
});
