import { SELF } from "cloudflare:test";

/** The origin the suites address the Worker by (never resolved: SELF calls the Worker directly). */
export const BASE = "https://ln402.test";

/** POSTs JSON (or a raw string) to the Worker from a fixed test client address. */
export function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return SELF.fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.7", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A client address of its own for each registration, so registration rate limits never meet. */
export function freshClientIp(): string {
  return `198.51.100.${Math.floor(Math.random() * 250) + 1}`;
}
