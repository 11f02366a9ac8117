import { type ChildProcess, spawn } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Devnet, startDevnet } from "../../devnet/index.ts";
import { redisServerAvailable } from "../../devnet/redis.ts";
import { startWrangler, type Wrangler } from "../../devnet/wrangler.ts";
import { allSnippets, ROOT, type Snippet } from "../../scripts/readme-snippets.ts";

/**
 * The README's TypeScript examples, run as files against the devnet and `wrangler dev`,
 * each in a process of its own (`support/readmeRunner.ts`): servers are served, clients
 * run to the end and must exit by themselves. The code is the README's, with two kinds of
 * change, both declared below:
 * - the network under it: the public hosts it names (`https://ln402.example`,
 *   `https://api.example.com`, a `wss://` relay) are routed to the local stack;
 * - `substitutions`: the devnet signs no mainnet invoices, so the two servers that name
 *   mainnet run on testnet; the gateway example's `m_…` is the devnet merchant's id.
 * Every sat is checked in the devnet's ledger.
 */

/** The examples that cannot run here, and why. Every other one must be named and run. */
const NOT_RUN: Record<string, string> = {
  "MPP: the Lightning payment method (`ln402/mpp`, `ln402/providers`, `ln402/client`)":
    "LND over gRPC: needs a real LND node's certificate and macaroon files",
};

/** The declared changes to an example's code (see above). */
function substitutions(name: string): Array<[string, string]> {
  if (name === "x402-lnbtc-server") return [["LNBTC_NETWORKS.mainnet", "LNBTC_NETWORKS.testnet"]];
  if (name === "x402-bip122-server") return [["X402_NETWORKS.mainnet", "X402_NETWORKS.testnet"]];
  if (name === "gateway-session-client") return [["m_…", merchant.merchantId]];
  return [];
}

const LN402 = "https://ln402.example";
const API = "https://api.example.com";
const UPSTASH = "https://upstash.devnet.example";
const RELAY = "wss://relay.devnet.example";
const RUNNER = join(import.meta.dirname, "support", "readmeRunner.ts");
const EXIT_WITHIN_MS = 60_000;

const redis = Boolean(process.env.REDIS_URL) || redisServerAvailable();
if (!redis && process.env.CI) throw new Error("CI needs redis-server for the Upstash examples");

const examples = new Map<string, Snippet>();
for (const snippet of allSnippets()) if (snippet.name) examples.set(snippet.name, snippet);

let devnet: Devnet;
let ln402: Wrangler;
let merchant: { merchantId: string; apiKey: string; nodePubkey: string };
const written: string[] = [];
const children = new Set<ChildProcess>();

/** A devnet wallet's connection string as a user's would be: on a public wss:// relay. */
function publicWallet(name: string): string {
  const url = new URL(devnet.wallet(name).connectionString);
  url.searchParams.set("relay", RELAY);
  return url.href;
}

/** The example `name` as a file at the repository root, where its imports resolve. */
function exampleFile(name: string): string {
  const snippet = examples.get(name);
  if (!snippet) throw new Error(`README.md has no example named ${name}`);
  let code = snippet.code;
  for (const [from, to] of substitutions(name)) {
    if (!code.includes(from)) throw new Error(`${name} no longer says ${from}`);
    code = code.replaceAll(from, to);
  }
  const path = join(ROOT, `.readme-example-${name}.ts`);
  writeFileSync(path, code);
  written.push(path);
  return path;
}

type Routes = {
  http?: Record<string, string>;
  inProcess?: string;
  sockets?: Record<string, string>;
  origin?: string;
};

function start(
  mode: "serve" | "run",
  names: string[],
  routes: Routes,
  env: Record<string, string>,
) {
  const child = spawn(process.execPath, [RUNNER, mode, ...names.map(exampleFile)], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      README_ROUTES: JSON.stringify({ sockets: { [RELAY]: devnet.relayUrl }, ...routes }),
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  child.once("exit", () => children.delete(child));
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk: Buffer) => {
    output.stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output.stderr += chunk.toString("utf8");
  });
  return { child, output };
}

/** Serves the examples' apps on `origin`; resolves with the local URL standing for it. */
async function serveExamples(
  names: string[],
  routes: Routes,
  env: Record<string, string>,
): Promise<string> {
  const { child, output } = start("serve", names, routes, env);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const line = output.stdout.split("\n")[0];
    if (line && output.stdout.includes("\n")) return (JSON.parse(line) as { url: string }).url;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`the example server did not start:\n${output.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Runs the examples to the end: they must exit 0 by themselves (sockets closed). */
async function runExamples(
  names: string[],
  routes: Routes,
  env: Record<string, string>,
): Promise<string> {
  const { child, output } = start("run", names, routes, env);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      resolve(null);
    }, EXIT_WITHIN_MS);
    child.once("exit", (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  if (code !== 0)
    throw new Error(
      `${names.join(" + ")} ${code === null ? `did not exit within ${EXIT_WITHIN_MS / 1000} s` : `exited with ${code}`}:\n${output.stdout}\n${output.stderr}`,
    );
  return output.stdout;
}

type Balances = { merchant: number; shop: number; payer: number };

function balances(): Balances {
  const msat = (name: string) => devnet.wallet(name).balanceMsat();
  return { merchant: msat("merchant"), shop: msat("shop"), payer: msat("payer") };
}

/** What each devnet wallet gained (negative: paid) since `before`. */
function moved(before: Balances): Balances {
  const after = balances();
  return {
    merchant: after.merchant - before.merchant,
    shop: after.shop - before.shop,
    payer: after.payer - before.payer,
  };
}

beforeAll(async () => {
  devnet = await startDevnet({
    network: "testnet",
    upstash: redis,
    wallets: { merchant: {}, shop: {}, payer: { balanceSats: 100_000 } },
  });
  ln402 = await startWrangler({ ALLOW_INSECURE_UPSTREAMS: "true" });
  const registered = await fetch(`${ln402.url}/register`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ nwcUrl: devnet.wallet("merchant").connectionString }),
  });
  expect(registered.status).toBe(201);
  const { merchantId, apiKey } = (await registered.json()) as {
    merchantId: string;
    apiKey: string;
  };
  const info = await fetch(`${ln402.url}/merchants/${merchantId}`, {
    headers: { Authorization: `Bearer ${apiKey}` },
  });
  const { nodePubkey } = (await info.json()) as { nodePubkey: string };
  merchant = { merchantId, apiKey, nodePubkey };
}, 120_000);

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  for (const path of written) rmSync(path, { force: true });
  await ln402?.stop();
  await devnet?.stop();
});

describe("README examples", () => {
  it("layout: every TypeScript example is named and run here, or listed with why it cannot be", () => {
    const unnamed = allSnippets().filter((snippet) => !snippet.name);
    expect(unnamed.map((snippet) => snippet.section)).toEqual(Object.keys(NOT_RUN));
    expect([...examples.keys()].sort()).toEqual(
      [
        "devnet",
        "gateway-session-client",
        "mpp-charge-server",
        "mpp-clients",
        "mpp-session-server",
        "mppx-session-client",
        "mppx-session-server",
        "x402-bip122-client",
        "x402-bip122-server",
        "x402-lnbtc-client",
        "x402-lnbtc-server",
      ].sort(),
    );
  });

  it("behavior: x402 exact on lnbtc: the server and client pay 21 sats from wallet to wallet", async () => {
    const merchantEnv = {
      LN402_MERCHANT_ID: merchant.merchantId,
      LN402_API_KEY: merchant.apiKey,
      MERCHANT_NODE_PUBKEY: merchant.nodePubkey,
    };
    const api = await serveExamples(
      ["x402-lnbtc-server"],
      { http: { [LN402]: ln402.url }, origin: API },
      merchantEnv,
    );
    const before = balances();
    const out = await runExamples(
      ["x402-lnbtc-client"],
      { http: { [LN402]: ln402.url, [API]: api } },
      { NWC_URL: publicWallet("payer") },
    );
    expect(out).toBe('200 {"article":"A","text":"Paid, once."}\n');
    expect(moved(before)).toEqual({ merchant: 21_000, shop: 0, payer: -21_000 });
  }, 120_000);

  it("behavior: x402 legacy bip122: the server and client pay 21 sats", async () => {
    const api = await serveExamples(
      ["x402-bip122-server"],
      { http: { [LN402]: ln402.url }, origin: API },
      { LN402_MERCHANT_ID: merchant.merchantId, LN402_API_KEY: merchant.apiKey },
    );
    const before = balances();
    const out = await runExamples(
      ["x402-bip122-client"],
      { http: { [LN402]: ln402.url, [API]: api } },
      { NWC_URL: publicWallet("payer") },
    );
    expect(out).toBe('200 {"forecast":"sunny"}\n');
    expect(moved(before)).toEqual({ merchant: 21_000, shop: 0, payer: -21_000 });
  }, 120_000);

  it.skipIf(!redis)(
    "behavior: MPP charge and session servers on Upstash, paid by the clients example: the refund is what was not spent",
    async () => {
      const upstash = devnet.upstash;
      if (!upstash) throw new Error("the devnet started no Upstash stand-in");
      const api = await serveExamples(
        ["mpp-charge-server", "mpp-session-server"],
        { http: { [UPSTASH]: upstash.url }, origin: API },
        {
          NWC_URL: publicWallet("shop"),
          UPSTASH_REDIS_REST_URL: UPSTASH,
          UPSTASH_REDIS_REST_TOKEN: upstash.token,
          MPP_SECRET: "readme-example-secret-0123456789abcdef",
        },
      );
      const before = balances();
      const out = await runExamples(
        ["mpp-clients"],
        { http: { [API]: api } },
        { PAYER_NWC_URL: publicWallet("payer") },
      );
      const refund = /^refund: (\d+) sats, succeeded\n$/.exec(out);
      expect(refund, out).not.toBeNull();
      const change = moved(before);
      // The quote (21), a deposit and a top-up (300 each), less the refund: the stream's
      // chunks, 2 sats each, are all that the shop kept beyond the quote.
      const spent = -change.payer - 21_000;
      expect(change.shop).toBe(-change.payer);
      expect(-change.payer).toBe(21_000 + 600_000 - Number(refund?.[1]) * 1000);
      expect(spent % 2000).toBe(0);
      expect(spent).toBeLessThanOrEqual(8_000);
      expect(change.merchant).toBe(0);
    },
    120_000,
  );

  it("behavior: a metered gateway session from the client example: deposit, top-up, close, the rest refunded", async () => {
    const upstream = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/event-stream" });
      for (const token of ["a", "metered", "stream"])
        res.write(`data: ${JSON.stringify(token)}\n\n`);
      res.end();
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    try {
      const routes = await fetch(`${ln402.url}/merchants/${merchant.merchantId}/routes`, {
        method: "PUT",
        headers: {
          "Content-Type": "application/json",
          Authorization: `Bearer ${merchant.apiKey}`,
        },
        body: JSON.stringify({
          routes: [
            {
              method: "GET",
              path: "/v1/chat",
              upstream: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
              protocols: ["mpp"],
              price: { type: "session", satsPerUnit: 2, depositSats: 10, idleTimeoutSecs: 60 },
            },
          ],
        }),
      });
      expect(routes.status).toBe(200);
      const before = balances();
      const out = await runExamples(
        ["gateway-session-client"],
        { http: { [LN402]: ln402.url } },
        { PAYER_NWC_URL: publicWallet("payer") },
      );
      const refund = /^refund: (\d+) sats, succeeded\n$/.exec(out);
      expect(refund, out).not.toBeNull();
      const change = moved(before);
      expect(change.merchant).toBe(-change.payer);
      // A 10-sat deposit and a 10-sat top-up, less the refund; at most three events billed.
      expect(-change.payer).toBe(20_000 - Number(refund?.[1]) * 1000);
      expect(-change.payer).toBeLessThanOrEqual(6_000);
    } finally {
      upstream.closeAllConnections();
      await new Promise((resolve) => upstream.close(resolve));
    }
  }, 120_000);

  it("behavior: the mppx drop-in: server and client examples in one process, on the mock network", async () => {
    const out = await runExamples(
      ["mppx-session-server", "mppx-session-client"],
      { inProcess: API },
      {},
    );
    expect(out).toContain("hello");
    // Deposit and top-up (300 sats each), less the one chunk read ("hello", 2 sats); the
    // bearer request's body is never read, so nothing of it is billed.
    expect(out).toMatch(/^refund: 598 sats\n$/m);
  }, 60_000);

  it("behavior: the devnet example starts and stops a devnet, leaving nothing running", async () => {
    expect(await runExamples(["devnet"], {}, {})).toBe("");
  }, 60_000);
});
