import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { x402ResourceServer } from "@x402/core/server";
import { paymentMiddleware } from "@x402/hono";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevnetControl, startControl } from "../../devnet/control.ts";
import { type Devnet, startDevnet } from "../../devnet/index.ts";
import { articleServer } from "../../devnet/resourceServer.ts";
import { startWrangler, type Wrangler } from "../../devnet/wrangler.ts";
import { lightningChargeServer } from "../../src/mpp/charge.ts";
import { createPaymentHandler } from "../../src/mpp/server.ts";
import { lightningSessionServer } from "../../src/mpp/session/server.ts";
import { LNBTC_NETWORKS } from "../../src/protocol/x402/lnbtc/Networks.ts";
import { X402_NETWORKS } from "../../src/protocol/x402/Networks.ts";
import { NwcLightningProvider } from "../../src/providers/nwc.ts";
import { MemoryStore } from "../../src/store/MemoryStore.ts";
import { ln402Invoices } from "../../src/x402/invoices.ts";
import { ExactLightningServerScheme, ln402Facilitator } from "../../src/x402/server.ts";
import { type Served, serve } from "./support/serve.ts";
import { startUpstream, type Upstream } from "./support/upstream.ts";

/**
 * The `ln402` command as a user runs it (a separate process, `bin/ln402.js`) against
 * ln402 under `wrangler dev` and the devnet: it registers the devnet merchant, then pays
 * an x402 resource (@x402/hono with ln402 as facilitator) and MPP charge and session
 * resources from the devnet payer's NWC wallet. Balances are the devnet ledger's.
 */

const ROOT = join(import.meta.dirname, "..", "..");
const SECRET = "test-only-mpp-secret-0123456789abcdef";
let devnet: Devnet;
let control: DevnetControl;
let ln402: Wrangler;
let merchantProvider: NwcLightningProvider;
const servers: Served[] = [];
let merchant: { merchantId: string; apiKey: string };
let x402Url: string;
let lnbtcUrl: string;
let mppUrl: string;
let upstream: Upstream;

type Run = { code: number | null; stdout: string; stderr: string };

/** Runs `ln402 …` with the payer's wallet in NWC_URL (plus `env`). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [join(ROOT, "bin/ln402.js"), ...args], {
    env: { ...process.env, NWC_URL: devnet.wallet("payer").connectionString, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  return new Promise((resolve) => child.once("close", (code) => resolve({ code, stdout, stderr })));
}

const balances = () => ({
  payer: devnet.wallet("payer").balanceMsat(),
  merchant: devnet.wallet("merchant").balanceMsat(),
});

function x402App(): Hono {
  const network = X402_NETWORKS.regtest as `${string}:${string}`;
  const scheme = new ExactLightningServerScheme({
    invoices: ln402Invoices({ url: ln402.url, ...merchant }),
    merchantId: merchant.merchantId,
  });
  const server = new x402ResourceServer(
    ln402Facilitator({ url: ln402.url, apiKey: merchant.apiKey }),
  ).register(network, scheme);
  const app = new Hono();
  const accepts = { scheme: "exact", network, payTo: merchant.merchantId };
  app.use(
    paymentMiddleware(
      { "GET /weather": { accepts: { ...accepts, price: { asset: "BTC", amount: "21000" } } } },
      server,
    ),
  );
  app.get("/weather", (c) => c.json({ forecast: "sunny" }));
  return app;
}

async function* chunks(n: number) {
  for (let i = 1; i <= n; i++) yield `chunk ${i}`;
}

function mppApp(): Hono {
  const session = lightningSessionServer({
    provider: merchantProvider,
    store: new MemoryStore(),
    network: "regtest",
  });
  const payments = createPaymentHandler({
    secretKey: SECRET,
    realm: "127.0.0.1",
    methods: [lightningChargeServer({ provider: merchantProvider, network: "regtest" }), session],
  });
  const app = new Hono();
  app.get("/quote", async (c) => {
    const result = await payments.handle(c.req.raw, { intent: "charge", amount: "21" });
    return result.status === 402 ? result.challenge : result.withReceipt(c.json({ quote: "ok" }));
  });
  app.get("/stream", async (c) => {
    const route = { intent: "session", amount: "2", depositAmount: "30" } as const;
    const result = await payments.handle(c.req.raw, route);
    if (result.status === 402) return result.challenge;
    if (result.management) return result.management;
    const sessionId = result.receipt.reference;
    return result.withReceipt(session.serve({ sessionId, satsPerChunk: 2, generate: chunks(3) }));
  });
  return app;
}

beforeAll(async () => {
  devnet = await startDevnet({
    upstash: false,
    wallets: { merchant: {}, payer: { balanceSats: 10_000 } },
  });
  control = await startControl(devnet);
  ln402 = await startWrangler({ ALLOW_INSECURE_UPSTREAMS: "true" });
  upstream = await startUpstream();
  merchantProvider = new NwcLightningProvider({
    connectionString: devnet.wallet("merchant").connectionString,
    allowInsecureRelays: true,
  });
}, 90_000);

afterAll(async () => {
  merchantProvider?.close();
  for (const server of servers) await server.stop();
  await upstream?.stop();
  await ln402?.stop();
  await control?.stop();
  await devnet?.stop();
});

describe("ln402 CLI against wrangler dev and the devnet", () => {
  it("behavior: register prints the merchant's id and key once; merchant shows its regtest wallet", async () => {
    const registered = await cli(
      ["register", devnet.wallet("merchant").connectionString, "--url", ln402.url],
      {},
    );
    expect(registered.code).toBe(0);
    merchant = JSON.parse(registered.stdout) as { merchantId: string; apiKey: string };
    expect(merchant).toMatchObject({
      merchantId: expect.stringMatching(/^m_/),
      apiKey: expect.stringMatching(/^ln402_sk_/),
      network: "regtest",
    });
    expect(registered.stderr).toContain("shown once");

    const env = {
      LN402_URL: ln402.url,
      LN402_MERCHANT_ID: merchant.merchantId,
      LN402_API_KEY: merchant.apiKey,
    };
    const shown = await cli(["merchant"], env);
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.stdout)).toMatchObject({ merchantId: merchant.merchantId });
    const wrongKey = await cli(["merchant"], { ...env, LN402_API_KEY: "ln402_sk_wrong" });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toMatch(/^error: 401 /m);

    const { nodePubkey } = JSON.parse(shown.stdout) as { nodePubkey: string };
    const x402 = await serve(x402App());
    const mpp = await serve(mppApp());
    const lnbtc = await serve({
      fetch: (request) =>
        articleServer({
          ln402Url: ln402.url,
          ...merchant,
          nodePubkey,
          priceMsat: 21_000,
          publicOrigin: lnbtcUrl,
        }).fetch(request),
    });
    servers.push(x402, mpp, lnbtc);
    x402Url = x402.url;
    mppUrl = mpp.url;
    lnbtcUrl = lnbtc.url;
  }, 30_000);

  it("behavior: pay on an x402 lnbtc resource pays the invoice bound to this request, once", async () => {
    const before = balances();
    const run = await cli(["pay", `${lnbtcUrl}/article/A`, "--max-sats", "50", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { body: string; payment: Record<string, unknown> };
    expect(JSON.parse(out.body)).toEqual({ article: "A", text: "Paid, once." });
    expect(out.payment).toMatchObject({
      protocol: "x402",
      scheme: "exact",
      network: LNBTC_NETWORKS.regtest,
      amountSats: 21,
      receipt: { success: true, network: LNBTC_NETWORKS.regtest },
    });
    expect(run.stderr).toMatch(/^402 +x402 exact on lnbtc:/m);
    expect(before.payer - balances().payer).toBe(21_000);
    expect(balances().merchant - before.merchant).toBe(21_000);

    const over = await cli(["pay", `${lnbtcUrl}/article/B`, "--max-sats", "20"]);
    expect(over.code).toBe(3);
    expect(over.stderr).toContain("Nothing was paid.");
    expect(before.payer - balances().payer).toBe(21_000);
  });

  it("behavior: on a gateway route offering x402 and MPP (routes set -f), pay prefers x402 lnbtc", async () => {
    const env = {
      LN402_URL: ln402.url,
      LN402_MERCHANT_ID: merchant.merchantId,
      LN402_API_KEY: merchant.apiKey,
    };
    const dir = mkdtempSync(join(tmpdir(), "ln402-cli-"));
    const file = join(dir, "routes.json");
    writeFileSync(
      file,
      JSON.stringify({
        routes: [
          {
            method: "GET",
            path: "/v1/*",
            upstream: upstream.url,
            price: { type: "charge", sats: 21 },
          },
        ],
      }),
    );
    const set = await cli(["routes", "set", "-f", file], env);
    rmSync(dir, { recursive: true });
    expect(set.code, set.stderr).toBe(0);
    const before = balances();
    const run = await cli(
      ["pay", `${ln402.url}/gw/${merchant.merchantId}/v1/quotes/7?x=1`, "--json", "--silent"],
      env,
    );
    expect(run.code, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout) as { body: string; payment: Record<string, unknown> };
    expect(JSON.parse(out.body)).toMatchObject({ path: "/v1/quotes/7", query: "?x=1" });
    expect(out.payment).toMatchObject({ protocol: "x402", network: LNBTC_NETWORKS.regtest });
    expect(before.payer - balances().payer).toBe(21_000);
    expect(upstream.calls.get("/v1/quotes/7")).toBe(1);
  });

  it("behavior: pay on an x402 resource prints the body and moves exactly the price", async () => {
    const before = balances();
    const run = await cli(["pay", `${x402Url}/weather`, "--max-sats", "50"]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ forecast: "sunny" });
    expect(run.stderr).toMatch(/^402 +x402 exact on bip122:/m);
    expect(run.stderr).toMatch(/^200/m);
    expect(before.payer - balances().payer).toBe(21_000);
    expect(balances().merchant - before.merchant).toBe(21_000);
  });

  it("behavior: pay --json on an MPP charge reports the payment and the receipt", async () => {
    const before = balances();
    const run = await cli(["pay", `${mppUrl}/quote`, "--json", "--silent"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(out).toMatchObject({
      status: 200,
      body: JSON.stringify({ quote: "ok" }),
      payment: { protocol: "mpp", scheme: "charge", network: "regtest", amountSats: 21 },
    });
    expect(String((out.payment as { receipt: unknown }).receipt)).not.toBe("null");
    expect(before.payer - balances().payer).toBe(21_000);
  });

  it("behavior: pay on an MPP session streams, closes, and the payer spends only what it used", async () => {
    const before = balances();
    const run = await cli(["pay", `${mppUrl}/stream`, "--json"]);
    expect(run.code).toBe(0);
    const out = JSON.parse(run.stdout) as { body: string; payment: Record<string, unknown> };
    expect(out.body).toContain("data: chunk 3");
    expect(out.payment).toMatchObject({
      scheme: "session",
      amountSats: 30,
      refundSats: 24,
      refundStatus: "succeeded",
    });
    expect(run.stderr).toMatch(/^close +refund 24 sats/m);
    // 30 deposited, 24 refunded: 3 chunks at 2 sats.
    expect(before.payer - balances().payer).toBe(6_000);
  });

  it("error: a price over --max-sats exits 3 and nothing is paid (x402 and MPP)", async () => {
    const before = balances();
    for (const url of [`${x402Url}/weather`, `${mppUrl}/quote`, `${mppUrl}/stream`]) {
      const run = await cli(["pay", url, "--max-sats", "10"]);
      expect(run.code, url).toBe(3);
      expect(run.stderr, url).toContain("Nothing was paid.");
      expect(run.stdout, url).toBe("");
    }
    expect(balances()).toEqual(before);
  });

  it("behavior: devnet pay pays an invoice from a named wallet through the control API", async () => {
    const invoice = devnet.wallet("merchant").makeInvoice({ amountMsat: 5_000 });
    const before = balances();
    const run = await cli(["devnet", "pay", "--wallet", "payer", invoice.invoice], {
      LN402_DEVNET_CONTROL: control.url,
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ paymentHash: invoice.payment_hash });
    expect(before.payer - balances().payer).toBe(5_000);
    expect(balances().merchant - before.merchant).toBe(5_000);

    const unknown = await cli(["devnet", "pay", "--wallet", "nobody", invoice.invoice], {
      LN402_DEVNET_CONTROL: control.url,
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no devnet wallet named nobody");
  });
});

describe("ln402 CLI against a deployment without stats or gateway routes", () => {
  it("error: stats and routes say the deployment lacks them; a refused PUT shows the server's problem", async () => {
    const app = new Hono();
    const problem = (status: number, title: string, detail: string) =>
      Response.json(
        { type: "urn:ln402:problem:test", title, status, detail },
        { status, headers: { "Content-Type": "application/problem+json" } },
      );
    app.put("/merchants/:id/routes", () =>
      problem(400, "Bad routes", "routes[0].price must be a whole number of sats."),
    );
    app.notFound((c) => problem(404, "Not found", `No route for ${c.req.method} ${c.req.path}.`));
    const old = await serve(app);
    servers.push(old);
    const env = { LN402_URL: old.url, LN402_MERCHANT_ID: "m_x", LN402_API_KEY: "ln402_sk_x" };

    const stats = await cli(["stats"], env);
    expect(stats.code).toBe(1);
    expect(stats.stderr).toContain("This deployment has no stats route yet");
    const routes = await cli(["routes", "get"], env);
    expect(routes.stderr).toContain("This deployment has no gateway routes yet");

    const file = join(ROOT, "package.json"); // any JSON file: the server judges its content
    const set = await cli(["routes", "set", "-f", file], env);
    expect(set.code).toBe(1);
    expect(set.stderr).toContain("400 Bad routes: routes[0].price must be a whole number of sats.");
    const missing = await cli(["routes", "set"], env);
    expect(missing.code).toBe(2);
  });
});
