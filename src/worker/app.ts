import { Hono } from "hono";
import { NotFoundError } from "../protocol/Errors.ts";
import { VERSION } from "../version.ts";
import type { Env } from "./env.ts";
import { onError, problemResponse } from "./problem.ts";

/** Builds the ln402 Hono app. Routes are added here as the product grows. */
export function createApp(): Hono<Env> {
  const app = new Hono<Env>();

  app.get("/health", (c) => c.json({ status: "ok", version: VERSION }));

  app.notFound((c) =>
    problemResponse(
      new NotFoundError(`No route for ${c.req.method} ${new URL(c.req.url).pathname}.`),
    ),
  );
  app.onError(onError);
  return app;
}
