import { describe, expect, it } from "vitest";
import { type GatewayRoute, matchRoute, parseRoutes, upstreamProblem } from "./RouteConfig.ts";

/** Route validation and matching: pure, so production rules are checked without a deployment. */

const base = {
  method: "GET",
  path: "/v1/*",
  upstream: "https://api.example.com",
  price: { type: "charge", sats: 1 },
};

describe("RouteConfig", () => {
  it("error: in production, http, loopback, private and local upstreams are refused", () => {
    for (const upstream of [
      "http://api.example.com",
      "https://127.0.0.1",
      "https://10.0.0.8/api",
      "https://[::1]:8443",
      "https://169.254.169.254",
      "https://upstream.internal",
      "https://localhost",
    ]) {
      expect(upstreamProblem(upstream, false), upstream).not.toBeNull();
    }
    expect(upstreamProblem("https://api.example.com/base", false)).toBeNull();
    expect(upstreamProblem("http://127.0.0.1:8787", true)).toBeNull();
    expect(upstreamProblem("https://api.example.com/?key=1", true)).not.toBeNull();
  });

  it("error: a session price is paid through MPP only: a session route without mpp is refused", () => {
    const price = { type: "session", satsPerUnit: 2, depositSats: 100, idleTimeoutSecs: 60 };
    const refused = parseRoutes({ routes: [{ ...base, price, protocols: ["x402"] }] }, false);
    expect(refused).toEqual({
      ok: false,
      issues: [{ field: "routes[0].protocols", detail: expect.stringContaining('"mpp"') }],
    });
    expect(parseRoutes({ routes: [{ ...base, price, protocols: ["mpp"] }] }, false).ok).toBe(true);
  });

  it("behavior: defaults are enforce mode and x402 + mpp; a trailing slash of the upstream is dropped", () => {
    const parsed = parseRoutes(
      { routes: [{ ...base, upstream: "https://api.example.com/" }] },
      false,
    );
    expect(parsed).toEqual({
      ok: true,
      routes: [
        {
          ...base,
          upstream: "https://api.example.com",
          description: "",
          protocols: ["x402", "mpp"],
          mode: "enforce",
        },
      ],
    });
  });

  it("error: unknown members, duplicate routes and bad patterns are each named", () => {
    const parsed = parseRoutes(
      { routes: [base, base, { ...base, path: "/a/*/b" }], extra: true },
      false,
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.issues.map((i) => i.field)).toEqual(["extra", "routes[1]", "routes[2].path"]);
  });

  it("behavior: exact segments, :params and a trailing * match as documented, first route wins", () => {
    const routes = [
      { ...base, method: "POST", path: "/v1/items/:id" },
      { ...base, method: "*", path: "/v1/*" },
      { ...base, path: "/" },
    ] as GatewayRoute[];
    expect(matchRoute(routes, "POST", "/v1/items/42")?.index).toBe(0);
    expect(matchRoute(routes, "GET", "/v1/items/42")?.index).toBe(1);
    expect(matchRoute(routes, "POST", "/v1/items/42/x")?.index).toBe(1);
    expect(matchRoute(routes, "DELETE", "/v1")?.index).toBe(1);
    expect(matchRoute(routes, "GET", "/")?.index).toBe(2);
    expect(matchRoute(routes, "GET", "/v2")).toBeNull();
    expect(matchRoute(routes, "POST", "/v1/items/")?.index).toBe(1);
  });
});
