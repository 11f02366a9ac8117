import { env } from "cloudflare:test";
import { afterEach, describe, expect, inject, it, vi } from "vitest";
import { createApp } from "../../app.ts";
import type { RequestLogLine } from "./index.ts";

/** The request log as an operator reads it: one JSON line per request, nothing secret. */

const app = createApp();
let lines: string[] = [];

function capture() {
  lines = [];
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(" "));
  });
}
afterEach(() => {
  vi.restoreAllMocks();
});

const parsed = () => lines.map((line) => JSON.parse(line) as RequestLogLine);

describe("request log", () => {
  it("behavior: one JSON line per request with request id, merchant, route, status and duration", async () => {
    capture();
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const registered = await app.request(
      "https://ln402.test/register",
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
        body: JSON.stringify({ nwcUrl: inject("nwc").merchant }),
      },
      env,
    );
    expect(registered.status).toBe(201);
    const { merchantId, apiKey } = (await registered.json()) as {
      merchantId: string;
      apiKey: string;
    };
    const shown = await app.request(
      `https://ln402.test/merchants/${merchantId}?token=${apiKey}`,
      { headers: { Authorization: `Bearer ${apiKey}`, "CF-Ray": "8f1e2d3c4b5a6978-AMS" } },
      env,
    );
    expect(shown.status).toBe(200);
    const preimage = "ab".repeat(32);
    await app.request(
      "https://ln402.test/verify",
      {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          x402Version: 2,
          paymentPayload: { x402Version: 2, payload: { preimage } },
          paymentRequirements: {},
        }),
      },
      env,
    );

    const [register, merchant, verify] = parsed();
    expect(lines).toHaveLength(3);
    expect(register).toMatchObject({
      level: "info",
      msg: "request",
      method: "POST",
      route: "/register",
      status: 201,
    });
    expect(merchant).toMatchObject({
      method: "GET",
      route: "/merchants/:id",
      status: 200,
      merchant: merchantId,
      requestId: "8f1e2d3c4b5a6978-AMS",
    });
    expect(shown.headers.get("X-Request-Id")).toBe("8f1e2d3c4b5a6978-AMS");
    expect(merchant?.durationMs).toBeGreaterThanOrEqual(0);
    expect(verify).toMatchObject({ route: "/verify", merchant: null });
    expect(register?.requestId).toMatch(/^[0-9a-f-]{36}$/);

    // Nothing secret: not the NWC secret, not the API key, not the preimage.
    const nwcSecret = new URL(inject("nwc").merchant).searchParams.get("secret") ?? "";
    expect(nwcSecret).toMatch(/^[0-9a-f]{64}$/);
    const all = lines.join("\n");
    for (const secret of [nwcSecret, apiKey, preimage]) expect(all).not.toContain(secret);
  });

  it("behavior: a failed request is logged at warn or error with its status", async () => {
    capture();
    const res = await app.request("https://ln402.test/nope", {}, env);
    expect(res.status).toBe(404);
    expect(parsed()).toEqual([
      expect.objectContaining({ level: "warn", status: 404, route: "/*", method: "GET" }),
    ]);
  });
});

describe("request log: liveness probes", () => {
  it("behavior: a healthy GET /health writes no line; other requests do", async () => {
    capture();
    expect((await app.request("https://ln402.test/health", {}, env)).status).toBe(200);
    expect(lines).toEqual([]);
    await app.request("https://ln402.test/supported", {}, env);
    expect(parsed().map((l) => l.route)).toEqual(["/supported"]);
  });
});

describe("request log: gateway requests", () => {
  it("behavior: a gateway line names the merchant, route and outcome, and never the proof", async () => {
    const devEnv = { ...env, ALLOW_INSECURE_UPSTREAMS: "true" };
    const ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
    const registered = await app.request(
      "https://ln402.test/register",
      {
        method: "POST",
        headers: { "Content-Type": "application/json", "CF-Connecting-IP": ip },
        body: JSON.stringify({ nwcUrl: inject("nwc").merchant }),
      },
      devEnv,
    );
    const { merchantId, apiKey } = (await registered.json()) as {
      merchantId: string;
      apiKey: string;
    };
    const routes = await app.request(
      `https://ln402.test/merchants/${merchantId}/routes`,
      {
        method: "PUT",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${apiKey}` },
        body: JSON.stringify({
          routes: [
            {
              method: "GET",
              path: "/v1/*",
              upstream: "http://127.0.0.1:9",
              description: "logged",
              protocols: ["x402", "mpp"],
              price: { type: "charge", sats: 1 },
            },
          ],
        }),
      },
      devEnv,
    );
    expect(routes.status).toBe(200);
    capture();
    const unpaid = await app.request(`https://ln402.test/gw/${merchantId}/v1/a`, {}, devEnv);
    expect(unpaid.status).toBe(402);
    const paymentHash = "cd".repeat(32);
    const refused = await app.request(
      `https://ln402.test/gw/${merchantId}/v1/a`,
      { headers: { "Ln402-Paid": paymentHash } },
      devEnv,
    );
    expect(refused.status).toBe(402);
    const [challenge, refusal] = parsed();
    expect(challenge).toMatchObject({
      merchant: merchantId,
      status: 402,
      gateway: { outcome: "challenge", route: expect.any(String) },
    });
    expect(refusal).toMatchObject({ merchant: merchantId, gateway: { outcome: "refused" } });
    expect(lines.join("\n")).not.toContain(paymentHash);
  });
});
