import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import pkg from "../../package.json";
import { VERSION } from "../version.ts";

describe("GET /health", () => {
  it("behavior: answers ok with the package version", async () => {
    const res = await SELF.fetch("https://ln402.test/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok", version: pkg.version });
    expect(VERSION).toBe(pkg.version);
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
