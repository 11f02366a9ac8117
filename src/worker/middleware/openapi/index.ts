import { Hono } from "hono";
import type { Env } from "../../env.ts";
import { openapiDocument } from "./document.ts";

export { openapiDocument } from "./document.ts";

/** `GET /openapi.json`: the API's OpenAPI 3.1 description, built once per isolate. */
export const openapiRoutes = new Hono<Env>();

let cached: string | null = null;

openapiRoutes.get("/openapi.json", (c) => {
  cached ??= JSON.stringify(openapiDocument());
  return c.body(cached, 200, {
    "Content-Type": "application/json",
    "Cache-Control": "public, max-age=300",
  });
});
