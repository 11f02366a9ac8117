import type { MiddlewareHandler } from "hono";
import { cors as honoCors } from "hono/cors";

/**
 * Response headers a browser client must be able to read: the x402 offer and
 * settlement, the MPP challenge and receipt, and when to retry. Without
 * `Access-Control-Expose-Headers` a page can see the 402 but not what to pay.
 */
export const EXPOSED_HEADERS = [
  "PAYMENT-REQUIRED",
  "PAYMENT-RESPONSE",
  "WWW-Authenticate",
  "Payment-Receipt",
  "Retry-After",
  "X-Request-Id",
] as const;

/**
 * CORS for every endpoint: any origin, no cookies. ln402 authenticates with bearer
 * keys that a browser never attaches on its own, so a wildcard origin grants a page
 * nothing it could not do with the key it already holds. Preflights answer 204.
 */
export function cors(): MiddlewareHandler {
  const handler = honoCors({
    origin: "*",
    allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
    exposeHeaders: [...EXPOSED_HEADERS],
    maxAge: 86_400,
  });
  return async (c, next) => {
    const preflight = await handler(c, next);
    if (preflight) return preflight;
    // An error rendered by onError replaces the response; keep it readable cross-origin.
    if (c.req.header("Origin") && !c.res.headers.has("Access-Control-Allow-Origin")) {
      c.res.headers.set("Access-Control-Allow-Origin", "*");
      c.res.headers.set("Access-Control-Expose-Headers", EXPOSED_HEADERS.join(", "));
    }
  };
}
