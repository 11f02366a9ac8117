import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../app.ts";
import { PROBLEM_TYPES } from "./problems.ts";

/** `GET /openapi.json` against the app's own route table. (Schema validation: test/node/openapi.test.ts.) */

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: { Problem: { properties: { type: { oneOf: { const: string }[] } } } } };
};

const METHODS = new Set(["get", "post", "put", "delete", "patch"]);

describe("GET /openapi.json", () => {
  it("behavior: documents exactly the routes the app serves, as OpenAPI 3.1", async () => {
    const res = await SELF.fetch("https://ln402.test/openapi.json");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("application/json");
    const doc = (await res.json()) as Doc;
    expect(doc.openapi).toBe("3.1.0");

    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((key) => METHODS.has(key))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL")
      // A trailing wildcard (the gateway's `/gw/:merchantId/*`) is documented as `{path}`.
      .map(
        (r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, "{$1}").replace(/\/\*$/, "/{path}")}`,
      );
    expect([...new Set(documented)].sort()).toEqual([...new Set(served)].sort());
  });

  it("behavior: lists every problem type, each with its status and title", async () => {
    const doc = (await (await SELF.fetch("https://ln402.test/openapi.json")).json()) as Doc;
    const types = doc.components.schemas.Problem.properties.type.oneOf.map((t) => t.const);
    expect(types).toEqual(PROBLEM_TYPES.map((p) => `urn:ln402:problem:${p.slug}`));
    // The fallback 404 is one of them.
    const missing = (await (await SELF.fetch("https://ln402.test/nope")).json()) as {
      type: string;
    };
    expect(types).toContain(missing.type);
  });
});
