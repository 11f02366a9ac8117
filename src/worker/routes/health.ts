import { Hono } from "hono";
import { VERSION } from "../../version.ts";
import { ConfigError, getConfig } from "../config.ts";
import type { Env } from "../env.ts";

/**
 * `GET /health`: `ok` when the deployment can serve, else 503 `degraded` naming the
 * settings to fix (never their values). A missing `SECRETS_KEY` outside development
 * fails every registration, so a health check must not call that healthy.
 */
export const healthRoutes = new Hono<Env>();

healthRoutes.get("/health", (c) => {
  try {
    getConfig(c.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return c.json(
      { status: "degraded", version: VERSION, missing: err.variables, detail: err.detail },
      503,
    );
  }
  return c.json({ status: "ok", version: VERSION });
});
