import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EXPOSED_HEADERS } from "./index.ts";

/** CORS as a browser page on another origin meets it. */

const ORIGIN = "https://shop.example";

function exposed(res: Response): string[] {
  return (res.headers.get("Access-Control-Expose-Headers") ?? "")
    .split(",")
    .map((h) => h.trim().toLowerCase());
}

describe("CORS", () => {
  it("behavior: a preflight for POST /invoice with JSON is allowed from any origin", async () => {
    const res = await SELF.fetch("https://ln402.test/invoice", {
      method: "OPTIONS",
      headers: {
        Origin: ORIGIN,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, payment-signature",
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(res.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(res.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain(
      "payment-signature",
    );
    expect(res.headers.get("Access-Control-Allow-Credentials")).toBeNull();
  });

  it("behavior: answers expose the payment headers, so a page can read what to pay and the receipt", async () => {
    const res = await SELF.fetch("https://ln402.test/supported", { headers: { Origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    for (const header of [
      "payment-required",
      "payment-response",
      "www-authenticate",
      "payment-receipt",
      "retry-after",
    ])
      expect(exposed(res)).toContain(header);
    expect(EXPOSED_HEADERS.length).toBe(exposed(res).length);
  });

  it("error: a problem answer is readable cross-origin too", async () => {
    const res = await SELF.fetch("https://ln402.test/nope", { headers: { Origin: ORIGIN } });
    expect(res.status).toBe(404);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(exposed(res)).toContain("retry-after");
  });
});
