import {
  createExecutionContext,
  env,
  runDurableObjectAlarm,
  runInDurableObject,
  SELF,
} from "cloudflare:test";
import { NWCClient } from "@getalby/sdk/nwc";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { decodeInvoice } from "../../src/protocol/bolt11/Bolt11.ts";
import { createStore } from "../../src/store/index.ts";
import worker from "../../src/worker/index.ts";
import { devnet, uniqueName } from "./devnet.ts";
import { BASE, freshClientIp, post } from "./http.ts";

/**
 * Merchants and invoices end to end inside workerd: the Worker and its MerchantDO
 * talk over real sockets to the devnet relay and wallets; payments are made by
 * @getalby/sdk's NWCClient (independent NWC software) from the devnet payer.
 */

const payers: NWCClient[] = [];

afterEach(async () => {
  await devnet.healRelay();
});
afterAll(() => {
  for (const payer of payers) payer.close();
});

type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  [k: string]: unknown;
};

/** API keys of the merchants this suite registered, for its invoice requests. */
const apiKeys = new Map<string, string>();

async function register(
  nwcUrl: string,
): Promise<{ merchantId: string; apiKey: string; body: Record<string, unknown> }> {
  const res = await post("/register", { nwcUrl }, { "CF-Connecting-IP": freshClientIp() });
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.status, JSON.stringify(body)).toBe(201);
  apiKeys.set(String(body.merchantId), String(body.apiKey));
  return { merchantId: String(body.merchantId), apiKey: String(body.apiKey), body };
}

async function createInvoice(
  merchantId: string,
  amount: string | number = "21000",
): Promise<Response> {
  const key = apiKeys.get(merchantId);
  return post(
    "/invoice",
    { merchantId, amount, description: "test" },
    key === undefined ? {} : { Authorization: `Bearer ${key}` },
  );
}

async function problem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe("application/problem+json");
  return (await res.json()) as Problem;
}

function payer(): NWCClient {
  const client = new NWCClient({ nostrWalletConnectUrl: inject("nwc").payer });
  payers.push(client);
  return client;
}

describe("POST /register", () => {
  it("behavior: registers a devnet wallet and reports its network and capabilities", async () => {
    const { merchantId, apiKey, body } = await register(inject("nwc").merchant);
    expect(merchantId).toMatch(/^m_[A-Za-z0-9_-]{22}$/);
    expect(apiKey).toMatch(/^ln402_sk_/);
    expect(body).toMatchObject({
      network: "regtest",
      capabilities: { receive: true, refunds: true, notifications: true, holdInvoices: true },
    });
  });

  it("behavior: accepts the nwcSecret field name and reports a receive-only wallet without refunds", async () => {
    const res = await post("/register", { nwcSecret: inject("nwc").receiveOnly });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      capabilities: { receive: true, refunds: false, holdInvoices: false },
    });
  });

  it("error: a wallet that cannot make invoices is refused with 422 naming the missing methods", async () => {
    const wallet = await devnet.createWallet(uniqueName("infoonly"), { methods: ["get_info"] });
    const body = await problem(await post("/register", { nwcUrl: wallet.connectionString }), 422);
    expect(body.type).toBe("urn:ln402:problem:wallet-missing-methods");
    expect(body.missing).toEqual(["make_invoice", "lookup_invoice"]);
  });

  it("error: a wallet on a network ln402 does not serve is refused with 422", async () => {
    const wallet = await devnet.createWallet(uniqueName("liquid"), { network: "liquidv1" });
    const body = await problem(await post("/register", { nwcUrl: wallet.connectionString }), 422);
    expect(body.type).toBe("urn:ln402:problem:wallet-wrong-network");
    expect(body.detail).toContain("liquidv1");
  });

  it("error: ws:// relays are refused with 400 unless ALLOW_INSECURE_RELAYS is true", async () => {
    const production = { ...env, ALLOW_INSECURE_RELAYS: "false" };
    const request = new Request(`${BASE}/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "CF-Connecting-IP": "198.51.100.250" },
      body: JSON.stringify({ nwcUrl: inject("nwc").merchant }),
    });
    const res = await worker.fetch(request, production, createExecutionContext());
    const body = await problem(res, 400);
    expect(body.type).toBe("urn:ln402:problem:invalid-nwc-url");
    expect(body.detail).toContain("wss://");
  });

  it("error: an unreachable relay is a 422 that says what to check", async () => {
    const wallet = await devnet.createWallet(uniqueName("nowhere"));
    const unreachable = wallet.connectionString.replace(
      /relay=[^&]+/,
      `relay=${encodeURIComponent("ws://127.0.0.1:1")}`,
    );
    const body = await problem(await post("/register", { nwcUrl: unreachable }), 422);
    expect(body.type).toBe("urn:ln402:problem:wallet-unreachable");
    expect(body.detail).toContain("Check the relay URL");
  });

  it("error: malformed bodies and strings are 400s that say what to send", async () => {
    for (const body of [
      "not json",
      "[]",
      { nwcUrl: "" },
      { nwcUrl: "https://example.com" },
      { other: 1 },
    ]) {
      const res = await post("/register", body);
      const p = await problem(res, 400);
      expect(p.detail.length).toBeGreaterThan(10);
    }
  });
});

describe("invoices", () => {
  it("behavior: issues a checked BOLT11 invoice and learns it was paid from the wallet's notification", async () => {
    const { merchantId } = await register(inject("nwc").merchant);
    const lookupsBefore = (await devnet.wallet("merchant")).requests.lookup_invoice ?? 0;
    const res = await createInvoice(merchantId, "21000");
    expect(res.status).toBe(201);
    const issued = (await res.json()) as {
      invoice: string;
      paymentHash: string;
      amount: string;
      expiresAt: number;
    };
    const decoded = decodeInvoice(issued.invoice);
    expect(decoded).toMatchObject({
      network: "regtest",
      amountMsat: 21_000,
      paymentHash: issued.paymentHash,
    });
    expect(issued.amount).toBe("21000");
    expect(issued.expiresAt).toBe(decoded.expiresAt);

    const before = await (await SELF.fetch(`${BASE}/invoice/status/${issued.paymentHash}`)).json();
    expect(before).toEqual({
      merchantId,
      paid: false,
      amount: "21000",
      expiresAt: issued.expiresAt,
    });

    await payer().payInvoice({ invoice: issued.invoice });
    const paidWithin = performance.now();
    await expect
      .poll(
        async () =>
          (
            (await (await SELF.fetch(`${BASE}/invoice/status/${issued.paymentHash}`)).json()) as {
              paid: boolean;
            }
          ).paid,
        {
          timeout: 1_000,
          interval: 25,
        },
      )
      .toBe(true);
    expect(performance.now() - paidWithin).toBeLessThan(1_000);
    const after = (await (
      await SELF.fetch(`${BASE}/invoice/status/${issued.paymentHash}`)
    ).json()) as Record<string, unknown>;
    expect(after).toMatchObject({ paid: true, amount: "21000" });
    expect(after).not.toHaveProperty("preimage");
    // Known through the notification: ln402 never had to ask the wallet.
    expect((await devnet.wallet("merchant")).requests.lookup_invoice ?? 0).toBe(lookupsBefore);
  });

  it("error: bad invoice requests are 400s and mint nothing", async () => {
    const { merchantId } = await register(inject("nwc").merchant);
    const makesBefore = (await devnet.wallet("merchant")).requests.make_invoice ?? 0;
    const bad: unknown[] = [
      { amount: "1000" },
      { merchantId, amount: "-5" },
      { merchantId, amount: "1.5" },
      { merchantId, amount: 0 },
      { merchantId, amount: "1000", amountSats: 1 },
      { merchantId },
      { merchantId, amount: "1000", description: "x".repeat(640) },
      { merchantId, amount: "1000", expirySecs: 5 },
      { merchantId, amount: "99999999999999999999" },
      "{",
    ];
    for (const body of bad) await problem(await post("/invoice", body), 400);
    await problem(await post("/invoice", { merchantId: "m_unknown", amount: "1000" }), 404);
    await problem(await post("/invoice", "x".repeat(20_000)), 413);
    expect((await devnet.wallet("merchant")).requests.make_invoice ?? 0).toBe(makesBefore);
  });

  it("error: status of an unknown or malformed hash is 404 / 400", async () => {
    await problem(await SELF.fetch(`${BASE}/invoice/status/${"ab".repeat(32)}`), 404);
    await problem(await SELF.fetch(`${BASE}/invoice/status/xyz`), 400);
  });

  it("error: wallet error codes become clear problems; a silent wallet is a fast 503", async () => {
    const name = uniqueName("faulty");
    const wallet = await devnet.createWallet(name);
    const { merchantId } = await register(wallet.connectionString);
    await devnet.walletFaults(name, { error: { code: "RESTRICTED", message: "no" } });
    const refused = await problem(await createInvoice(merchantId), 502);
    expect(refused).toMatchObject({
      type: "urn:ln402:problem:wallet-refused",
      walletCode: "RESTRICTED",
    });
    await devnet.walletFaults(name, { error: { code: "INTERNAL" } });
    expect(await problem(await createInvoice(merchantId), 502)).toMatchObject({
      walletCode: "INTERNAL",
    });
    await devnet.walletFaults(name, { error: null, noReply: true });
    const started = performance.now();
    const timeout = await problem(await createInvoice(merchantId), 503);
    expect(timeout.type).toBe("urn:ln402:problem:wallet-timeout");
    expect(performance.now() - started).toBeLessThan(3_000);
  });
});

describe("the merchant's wallet connection", () => {
  it("behavior: after the relay drops every connection, the next invoice reconnects and succeeds", async () => {
    const { merchantId, apiKey } = await register(inject("nwc").merchant);
    expect((await createInvoice(merchantId)).status).toBe(201);
    await devnet.relayFaults({ dropAll: true });
    // The wallet service reconnects on its own schedule; ln402 must be ready whenever it is.
    await expect
      .poll(async () => (await devnet.wallet("merchant")).listening, { timeout: 5_000 })
      .toBe(true);
    expect((await createInvoice(merchantId)).status).toBe(201);
    const status = (await (
      await SELF.fetch(`${BASE}/merchants/${merchantId}`, {
        headers: { Authorization: `Bearer ${apiKey}` },
      })
    ).json()) as {
      connection: { connected: boolean; reconnects: number; lastError: string };
    };
    expect(status.connection.connected).toBe(true);
    expect(status.connection.reconnects).toBe(1);
  });

  it("behavior: a half-open relay is detected by the alarm's ping and replaced", async () => {
    const { merchantId, apiKey } = await register(inject("nwc").merchant);
    expect((await createInvoice(merchantId)).status).toBe(201);
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName(merchantId));
    await devnet.relayFaults({ halfOpen: true });
    await runDurableObjectAlarm(stub);
    const connection = async () =>
      (
        (await (
          await SELF.fetch(`${BASE}/merchants/${merchantId}`, {
            headers: { Authorization: `Bearer ${apiKey}` },
          })
        ).json()) as {
          connection: {
            connected: boolean;
            lastError: string | null;
            retryAt: number | null;
            reconnects: number;
          };
        }
      ).connection;
    const during = await connection();
    expect(during.connected).toBe(false);
    // The ping failed and closed the socket; the alarm's reconnect then also found the relay silent.
    expect(during.lastError).toMatch(/did not answer/);
    expect(during.retryAt).not.toBeNull();

    await devnet.healRelay();
    // An invoice is pending, so the object's own alarm keeps retrying (with backoff)
    // until the relay answers again: no request is needed to bring it back.
    await expect
      .poll(async () => (await connection()).connected, { timeout: 15_000, interval: 100 })
      .toBe(true);
    const after = await connection();
    expect(after.reconnects).toBeGreaterThanOrEqual(1);
    expect(after.retryAt).toBeNull();
    expect((await createInvoice(merchantId)).status).toBe(201);
  });

  it("behavior: a reset of the object loses nothing: the book and the sealed wallet survive, and a payment made meanwhile is found", async () => {
    const { merchantId } = await register(inject("nwc").merchant);
    const issued = (await (await createInvoice(merchantId, 5_000)).json()) as {
      invoice: string;
      paymentHash: string;
    };
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName(merchantId));
    // A DO holding an outbound WebSocket is never idle-evicted, so reset it the hard
    // way (as a crash or a deploy does): ctx.abort() drops all in-memory state.
    await runInDurableObject(stub, (_instance, state) =>
      state.abort("test: simulated eviction"),
    ).catch(() => {});
    await payer().payInvoice({ invoice: issued.invoice });
    const status = (await (
      await SELF.fetch(`${BASE}/invoice/status/${issued.paymentHash}`)
    ).json()) as { paid: boolean };
    expect(status.paid).toBe(true);
    expect((await createInvoice(merchantId)).status).toBe(201);
  });

  it("behavior: an idle merchant with nothing pending is disconnected by the alarm, and reconnects on the next request", async () => {
    const { merchantId, apiKey } = await register(inject("nwc").merchant);
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName(merchantId));
    // Nothing pending (no invoice yet); pretend the last request was long ago.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { lastActivityMs: number }).lastActivityMs = 0;
    });
    await runDurableObjectAlarm(stub);
    const status = async () =>
      (
        (await (
          await SELF.fetch(`${BASE}/merchants/${merchantId}`, {
            headers: { Authorization: `Bearer ${apiKey}` },
          })
        ).json()) as {
          connection: { connected: boolean; lastError: string | null };
        }
      ).connection;
    expect(await status()).toMatchObject({ connected: false, lastError: "idle" });
    expect(await runInDurableObject(stub, (_i, state) => state.storage.getAlarm())).toBeNull();
    expect((await createInvoice(merchantId)).status).toBe(201);
    expect((await status()).connected).toBe(true);
  });
});

describe("management", () => {
  it("behavior: status needs the API key; rotation retires the old key; delete removes everything", async () => {
    const { merchantId, apiKey } = await register(inject("nwc").merchant);
    const get = (key: string) =>
      SELF.fetch(`${BASE}/merchants/${merchantId}`, {
        headers: { Authorization: `Bearer ${key}` },
      });
    await problem(await SELF.fetch(`${BASE}/merchants/${merchantId}`), 401);
    await problem(await get("ln402_sk_wrong"), 401);
    const ok = (await (await get(apiKey)).json()) as Record<string, unknown>;
    expect(ok).toMatchObject({
      merchantId,
      network: "regtest",
      invoices: { pending: 0, paid: 0, expired: 0 },
    });

    const rotated = (await (
      await post(`/merchants/${merchantId}/rotate-key`, {}, { Authorization: `Bearer ${apiKey}` })
    ).json()) as { apiKey: string };
    await problem(await get(apiKey), 401);
    expect((await get(rotated.apiKey)).status).toBe(200);

    const del = await SELF.fetch(`${BASE}/merchants/${merchantId}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${rotated.apiKey}` },
    });
    expect(del.status).toBe(204);
    await problem(await get(rotated.apiKey), 401);
    await problem(await post("/invoice", { merchantId, amount: "21000" }), 404);
    const stub = env.MERCHANT.get(env.MERCHANT.idFromName(merchantId));
    expect(
      await runInDurableObject(stub, async (_i, state) => (await state.storage.list()).size),
    ).toBe(0);
  });

  it("behavior: secrets are absent from responses, stored bytes and logs", async () => {
    const logged: string[] = [];
    const original = { log: console.log, error: console.error, warn: console.warn };
    for (const level of ["log", "error", "warn"] as const) {
      console[level] = (...args: unknown[]) => logged.push(args.map(String).join(" "));
    }
    try {
      const nwcUrl = inject("nwc").merchant;
      const secret = new URL(nwcUrl).searchParams.get("secret") ?? "";
      expect(secret).toMatch(/^[0-9a-f]{64}$/);
      const { merchantId, apiKey, body } = await register(nwcUrl);
      await createInvoice(merchantId);
      const stub = env.MERCHANT.get(env.MERCHANT.idFromName(merchantId));
      const stored = await runInDurableObject(stub, async (_i, state) => {
        const kv = JSON.stringify([...(await state.storage.list()).entries()]);
        const tables = state.storage.sql
          .exec<{ name: string }>(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\'",
          )
          .toArray();
        const rows = tables
          .map((t) => JSON.stringify(state.storage.sql.exec(`SELECT * FROM "${t.name}"`).toArray()))
          .join("");
        return kv + rows;
      });
      const status = await (
        await SELF.fetch(`${BASE}/merchants/${merchantId}`, {
          headers: { Authorization: `Bearer ${apiKey}` },
        })
      ).text();
      expect(JSON.stringify(body)).not.toContain(secret); // the key is shown once, here; the NWC secret never
      for (const haystack of [stored, status, logged.join("\n")]) {
        expect(haystack).not.toContain(secret);
        expect(haystack).not.toContain(apiKey);
      }
      expect(stored).toContain("v1."); // the sealed form is what is stored
      const registry = await createStore(env).get(`merchant:${merchantId}`);
      expect(registry).toContain("apiKeyHash");
      expect(registry).not.toContain(secret);
      expect(registry).not.toContain(apiKey);
    } finally {
      Object.assign(console, original);
    }
  });

  it("error: a deployment without SECRETS_KEY answers 500 naming the variable, never a secret", async () => {
    const { SECRETS_KEY: _key, ...misconfigured } = env;
    const res = await worker.fetch(
      new Request(`${BASE}/invoice/status/${"ab".repeat(32)}`),
      misconfigured,
      createExecutionContext(),
    );
    const body = await problem(res, 500);
    expect(body.type).toBe("urn:ln402:problem:misconfigured");
    expect(body.detail).toContain("SECRETS_KEY is not set");
  });

  it("error: registration is rate limited per client address with Retry-After", async () => {
    const ip = "192.0.2.99";
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push((await post("/register", "{}", { "CF-Connecting-IP": ip })).status);
    expect(statuses.slice(0, 10).every((s) => s === 400)).toBe(true);
    const limited = await post("/register", "{}", { "CF-Connecting-IP": ip });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
  });

  it("error: invoice creation is rate limited per client address before any invoice is minted", async () => {
    const ip = "192.0.2.120";
    const makesBefore = (await devnet.wallet("merchant")).requests.make_invoice ?? 0;
    // Malformed requests still count: the limit is checked before anything else is done.
    const statuses: number[] = [];
    for (let i = 0; i < 121; i++)
      statuses.push((await post("/invoice", "{}", { "CF-Connecting-IP": ip })).status);
    expect(statuses.slice(0, 120).every((s) => s === 400)).toBe(true);
    const limited = await post(
      "/invoice",
      { merchantId: "m_any", amount: "1000" },
      { "CF-Connecting-IP": ip },
    );
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect((await devnet.wallet("merchant")).requests.make_invoice ?? 0).toBe(makesBefore);
  });
});
