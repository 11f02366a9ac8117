import { Hono } from "hono";
import { BadRequestError, UnprocessableError } from "../../protocol/Errors.ts";
import type { Env } from "../env.ts";
import { unwrap } from "../merchant/rpc.ts";
import { merchantStub } from "../merchantStub.ts";
import { readJsonObject } from "../request.ts";
import { requireMerchant } from "../routes/merchants.ts";
import { STATS_RETENTION_SECS } from "./GatewayTables.ts";
import { SECRET_HEADER } from "./proxy.ts";
import { parseRoutes } from "./RouteConfig.ts";

/**
 * The merchant's side of the gateway (Bearer API key): its routes, the upstream secret
 * and the stats. The routes live in the merchant's Durable Object, which serves them.
 */
export const gatewayManageRoutes = new Hono<Env>();

/** A route list of 100 routes is larger than the usual 16 KiB body. */
const ROUTES_MAX_BYTES = 128 * 1024;

gatewayManageRoutes.get("/merchants/:id/routes", async (c) => {
  const record = await requireMerchant(c);
  const routes = unwrap(await merchantStub(c.env, record.merchantId).gatewayRoutes());
  return c.json({ routes, secretHeader: SECRET_HEADER });
});

/**
 * Replaces the routes. The answer to the first PUT carries the upstream secret, the
 * only time it is shown; later PUTs keep it (rotate it with `rotate-secret`).
 */
gatewayManageRoutes.put("/merchants/:id/routes", async (c) => {
  const record = await requireMerchant(c);
  const body = await readJsonObject(c, ROUTES_MAX_BYTES);
  const parsed = parseRoutes(body, c.var.config.allowInsecureUpstreams);
  if (!parsed.ok) {
    throw new BadRequestError(
      `The routes were not saved: ${parsed.issues.map((i) => `${i.field}: ${i.detail}`).join(" ")}`,
      { extensions: { errors: parsed.issues } },
    );
  }
  const stub = merchantStub(c.env, record.merchantId);
  const sessions = parsed.routes.findIndex((r) => r.price.type === "session");
  // Sessions refund unspent deposits from the merchant's wallet (draft-lightning-session-00 §close).
  if (sessions >= 0 && !unwrap(await stub.walletStatus()).capabilities.refunds)
    throw new UnprocessableError(
      "gateway-sessions-unavailable",
      "Sessions unavailable",
      `routes[${sessions}].price: sessions refund unspent deposits from the merchant's wallet, and this wallet connection cannot pay (no pay_invoice). Connect a wallet that allows pay_invoice, or use a charge price.`,
    );
  const saved = unwrap(await stub.putGatewayRoutes(parsed.routes, false));
  return c.json({
    routes: saved.routes,
    secretHeader: SECRET_HEADER,
    ...(saved.upstreamSecret !== null && { upstreamSecret: saved.upstreamSecret }),
  });
});

/** Issues a new upstream secret (shown once); the old one stops being sent at once. */
gatewayManageRoutes.post("/merchants/:id/routes/rotate-secret", async (c) => {
  const record = await requireMerchant(c);
  const saved = unwrap(await merchantStub(c.env, record.merchantId).putGatewayRoutes(null, true));
  return c.json({ secretHeader: SECRET_HEADER, upstreamSecret: saved.upstreamSecret });
});

/**
 * Counters per route since `since` (unix seconds or RFC 3339; default the last 24 hours),
 * and sessions: open now, refunds of sessions closed since then (paid, failed, pending).
 */
gatewayManageRoutes.get("/merchants/:id/stats", async (c) => {
  const record = await requireMerchant(c);
  const nowMs = Date.now();
  const sinceMs = parseSince(c.req.query("since"), nowMs);
  const stub = merchantStub(c.env, record.merchantId);
  const routes = unwrap(await stub.gatewayStats(sinceMs));
  const sessions = unwrap(await stub.sessionStats(sinceMs));
  const totals = {
    requests: 0,
    paidRequests: 0,
    revenueMsat: 0,
    dryRunRequests: 0,
    dryRunWouldChargeMsat: 0,
    upstreamFailures: 0,
  };
  for (const r of routes)
    for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += r[key];
  return c.json({
    since: new Date(Math.floor(sinceMs / 60_000) * 60_000).toISOString(),
    until: new Date(nowMs).toISOString(),
    totals,
    routes,
    sessions,
  });
});

function parseSince(raw: string | undefined, nowMs: number): number {
  if (raw === undefined || raw === "") return nowMs - 86_400_000;
  const ms = /^[0-9]{1,12}$/.test(raw) ? Number(raw) * 1000 : Date.parse(raw);
  if (!Number.isFinite(ms) || ms > nowMs)
    throw new BadRequestError("since must be a past time: unix seconds or an RFC 3339 date.");
  return Math.max(ms, nowMs - STATS_RETENTION_SECS * 1000);
}
