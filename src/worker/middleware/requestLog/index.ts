import type { MiddlewareHandler } from "hono";
import type { Env } from "../../env.ts";

/**
 * What a `/gw/` request did: the route key, the protocol of its proof, the outcome
 * (`challenge`, `paid`, `retry`, `refused`, `dry-run`, `no-route`, `upstream-failed`,
 * `rate-limited`) and how long the upstream took to answer. Never a proof or secret.
 */
export type GatewayLogFields = {
  route: string | null;
  protocol: string | null;
  outcome: string;
  upstreamMs: number | null;
};

/** One structured log line per request: what Workers Logs and Logpush index. */
export type RequestLogLine = {
  level: "info" | "warn" | "error";
  msg: "request";
  requestId: string;
  method: string;
  /** The matched route pattern (`/merchants/:id`), never the query string. */
  route: string;
  status: number;
  durationMs: number;
  merchant: string | null;
  /** Present on gateway requests only. */
  gateway?: GatewayLogFields;
};

/** Options of `requestLog`. */
export type RequestLogOptions = {
  /** Where lines go; default `console.log` (one JSON object per line). */
  write?: (line: string) => void;
};

/** A request id: Cloudflare's ray id when present (it ties the log to Cloudflare's), else random. */
function requestIdOf(header: string | undefined): string {
  return header && /^[0-9a-zA-Z-]{1,64}$/.test(header) ? header : crypto.randomUUID();
}

/**
 * Logs each request once it has been answered, and sets `X-Request-Id`. Only the
 * fields above are logged: no headers, bodies or query strings, which may carry
 * NWC secrets, API keys or preimages (SECURITY: nothing secret is ever logged).
 */
export function requestLog(options: RequestLogOptions = {}): MiddlewareHandler<Env> {
  const write = options.write ?? ((line: string) => console.log(line));
  return async (c, next) => {
    const started = Date.now();
    const requestId = requestIdOf(c.req.header("CF-Ray"));
    await next();
    const status = c.res.status;
    const merchant = c.get("merchantId") ?? c.req.param("id") ?? null;
    const line: RequestLogLine = {
      level: status >= 500 ? "error" : status >= 400 && status !== 402 ? "warn" : "info",
      msg: "request",
      requestId,
      method: c.req.method,
      route: c.req.routePath,
      status,
      durationMs: Date.now() - started,
      merchant: merchant && /^m_[0-9A-Za-z_-]{1,64}$/.test(merchant) ? merchant : null,
    };
    const gateway = c.get("gateway");
    if (gateway) line.gateway = gateway;
    try {
      c.res.headers.set("X-Request-Id", requestId);
    } catch {
      // A response with immutable headers (one passed through from fetch): copy it.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set("X-Request-Id", requestId);
    }
    // Healthy liveness probes are not logged: monitors poll every few seconds, and a line
    // each would bury the requests that matter (and costs as much as the probe itself).
    if (line.route === "/health" && status === 200) return;
    write(JSON.stringify(line));
  };
}
