import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RECEIVE_METHODS } from "../../devnet/index.ts";
import { type Stack, startStack } from "../../devnet/stack.ts";
import { gw, type Merchant, putRoutes, stats } from "./support/gateway.ts";
import { startUpstream, type Upstream } from "./support/upstream.ts";

/**
 * Gateway route management end to end (`wrangler dev` + the devnet): strict validation
 * that changes nothing on bad input, the upstream secret shown once and rotatable,
 * dry-run forwarding that counts what it would have charged, and 404s.
 */

let stack: Stack;
let upstream: Upstream;
let merchant: Merchant;

const route = (overrides: Record<string, unknown> = {}) => ({
  method: "GET",
  path: "/free/:id",
  upstream: upstream.url,
  description: "Dry run",
  protocols: ["x402", "mpp"],
  price: { type: "charge", sats: 5 },
  mode: "dry-run",
  ...overrides,
});

beforeAll(async () => {
  upstream = await startUpstream();
  stack = await startStack({ vars: { ALLOW_INSECURE_UPSTREAMS: "true" } });
  merchant = stack.merchant;
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await upstream?.stop();
});

async function getRoutes() {
  const res = await fetch(`${stack.ln402.url}/merchants/${merchant.merchantId}/routes`, {
    headers: { Authorization: `Bearer ${merchant.apiKey}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("gateway: routes", () => {
  it("error: bad route configs are refused with a 400 naming each field, and change nothing", async () => {
    const res = await putRoutes(stack, merchant, {
      routes: [
        route({ upstream: "ftp://example.com", extra: 1 }),
        route({ path: "no-slash", protocols: ["x402", "lightning"] }),
        route({ price: { type: "charge", sats: 0 }, mode: "maybe" }),
        route({ method: "FETCH", upstream: "https://user:pw@example.com" }),
      ],
    });
    expect(res.status).toBe(400);
    expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    const body = (await res.json()) as { errors: Array<{ field: string }> };
    expect(body.errors.map((e) => e.field).sort()).toEqual(
      [
        "routes[0].extra",
        "routes[0].upstream",
        "routes[1].path",
        "routes[1].protocols",
        "routes[2].mode",
        "routes[2].price.sats",
        "routes[3].method",
        "routes[3].upstream",
      ].sort(),
    );
    expect((await getRoutes()).body.routes).toEqual([]);
  });

  it("error: a session price on a wallet that cannot pay refunds is refused with a 422; a wrong key with a 401", async () => {
    const sessionRoute = route({
      price: { type: "session", satsPerUnit: 1, depositSats: 100, idleTimeoutSecs: 60 },
    });
    const wallet = await stack.devnet.createWallet("receive-only", { methods: RECEIVE_METHODS });
    const registered = await fetch(`${stack.ln402.url}/register`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ nwcUrl: wallet.connectionString }),
    });
    expect(registered.status).toBe(201);
    const receiveOnly = (await registered.json()) as Merchant;
    const refused = await putRoutes(stack, receiveOnly, { routes: [sessionRoute] });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ detail: expect.stringContaining("pay_invoice") });
    const unauthorized = await putRoutes(
      stack,
      { ...merchant, apiKey: "ln402_sk_wrong" },
      { routes: [route()] },
    );
    expect(unauthorized.status).toBe(401);
    expect((await getRoutes()).body.routes).toEqual([]);
  });

  it("behavior: the upstream secret is shown once, sent on every proxied request, and rotatable", async () => {
    const first = await putRoutes(stack, merchant, { routes: [route()] });
    expect(first.status).toBe(200);
    const saved = (await first.json()) as { upstreamSecret?: string; secretHeader: string };
    expect(saved.secretHeader).toBe("Ln402-Gateway-Secret");
    expect(saved.upstreamSecret).toMatch(/^ln402_gw_/);
    const second = (await (await putRoutes(stack, merchant, { routes: [route()] })).json()) as {
      upstreamSecret?: string;
    };
    expect(second.upstreamSecret).toBeUndefined();
    expect(JSON.stringify((await getRoutes()).body)).not.toContain("ln402_gw_");
    expect((await fetch(gw(stack, merchant, "/free/1"))).status).toBe(200);
    expect(upstream.lastHeaders["ln402-gateway-secret"]).toBe(saved.upstreamSecret);

    const rotated = await fetch(
      `${stack.ln402.url}/merchants/${merchant.merchantId}/routes/rotate-secret`,
      { method: "POST", headers: { Authorization: `Bearer ${merchant.apiKey}` } },
    );
    const { upstreamSecret } = (await rotated.json()) as { upstreamSecret: string };
    expect(upstreamSecret).not.toBe(saved.upstreamSecret);
    expect((await fetch(gw(stack, merchant, "/free/2"))).status).toBe(200);
    expect(upstream.lastHeaders["ln402-gateway-secret"]).toBe(upstreamSecret);
  });

  it("behavior: dry-run forwards without charging and counts what it would have charged", async () => {
    await putRoutes(stack, merchant, { routes: [route()] });
    const before = await stats(stack, merchant);
    const calls = upstream.calls.get("/free/7") ?? 0;
    const res = await fetch(gw(stack, merchant, "/free/7?q=1"), {
      headers: { "Ln402-Gateway-Secret": "forged" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("PAYMENT-REQUIRED")).toBeNull();
    expect(await res.json()).toMatchObject({ path: "/free/7", query: "?q=1" });
    expect(upstream.lastHeaders["ln402-gateway-secret"]).not.toBe("forged");
    expect((upstream.calls.get("/free/7") ?? 0) - calls).toBe(1);
    const after = await stats(stack, merchant);
    expect((after.totals.dryRunRequests ?? 0) - (before.totals.dryRunRequests ?? 0)).toBe(1);
    expect(
      (after.totals.dryRunWouldChargeMsat ?? 0) - (before.totals.dryRunWouldChargeMsat ?? 0),
    ).toBe(5_000);
    expect(after.totals.paidRequests).toBe(before.totals.paidRequests);
    expect(after.routes.map((r) => r.route)).toContain("GET /free/:id");
  });

  it("error: unmatched paths and unknown merchants are 404 problems that reach no upstream", async () => {
    await putRoutes(stack, merchant, { routes: [route()] });
    const calls = upstream.total();
    for (const url of [
      gw(stack, merchant, "/free"),
      gw(stack, merchant, "/free/1/2"),
      `${stack.ln402.url}/gw/m_nobody/free/1`,
    ]) {
      const res = await fetch(url);
      expect(res.status).toBe(404);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
    }
    const post = await fetch(gw(stack, merchant, "/free/1"), { method: "POST", body: "x" });
    expect(post.status).toBe(404);
    expect(upstream.total()).toBe(calls);
  });
});
