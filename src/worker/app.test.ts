import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { VERSION } from "../version.ts";
import { createApp } from "./app.ts";

describe("GET /health", () => {
  it("behavior: answers ok with the package version", async () => {
    const res = await SELF.fetch("https://ln402.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", version: pkg.version });
    expect(VERSION).toBe(pkg.version);
  });

  it("error: without SECRETS_KEY outside development it is 503 degraded and names what is missing", async () => {
    const production = { ...env, SECRETS_KEY: undefined, LN402_ENV: "production" };
    const res = await createApp().request("https://ln402.test/health", {}, production);
    expect(res.status).toBe(503);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ status: "degraded", missing: ["SECRETS_KEY"] });
    expect(String(body.detail)).toContain("wrangler secret put SECRETS_KEY");
  });

  it("behavior: development needs no SECRETS_KEY, so it is ok there", async () => {
    const development = { ...env, SECRETS_KEY: undefined, LN402_ENV: "development" };
    const res = await createApp().request("https://ln402.test/health", {}, development);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", version: VERSION });
  });
});

describe("unknown routes", () => {
  it("error: answers 404 problem+json naming the route", async () => {
    const res = await SELF.fetch("https://ln402.test/nope", { method: "POST" });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 404,
      title: "Not found",
      type: "urn:ln402:problem:not-found",
    });
    expect(body.detail).toContain("POST /nope");
  });
});
