import { Hono } from "hono";
import { NotFoundError } from "../protocol/Errors.ts";
import { createStore } from "../store/index.ts";
import type { Store } from "../store/Store.ts";
import { getConfig } from "./config.ts";
import { demoRoutes } from "./demo/quote.ts";
import type { Bindings, Env } from "./env.ts";
import { gatewayManageRoutes } from "./gateway/manage.ts";
import { gatewayServeRoutes } from "./gateway/serve.ts";
import { cors } from "./middleware/cors/index.ts";
import { openapiRoutes } from "./middleware/openapi/index.ts";
import { requestLog } from "./middleware/requestLog/index.ts";
import { onError, problemResponse } from "./problem.ts";
import { healthRoutes } from "./routes/health.ts";
import { invoiceRoutes } from "./routes/invoices.ts";
import { merchantRoutes } from "./routes/merchants.ts";
import { x402Routes } from "./routes/x402.ts";

const stores = new WeakMap<Bindings, Store>();

/** One Store per bindings object (i.e. per isolate), not per request. */
function storeFor(env: Bindings): Store {
  let store = stores.get(env);
  if (!store) {
    store = createStore(env);
    stores.set(env, store);
  }
  return store;
}

/** Builds the ln402 Hono app. Routes are added here as the product grows. */
export function createApp(): Hono<Env> {
  const app = new Hono<Env>();

  app.use(requestLog());
  app.use(cors());
  app.route("/", healthRoutes);
  app.route("/", openapiRoutes);

  app.use(async (c, next) => {
    c.set("config", getConfig(c.env));
    c.set("store", storeFor(c.env));
    await next();
  });
  app.route("/", merchantRoutes);
  app.route("/", invoiceRoutes);
  app.route("/", x402Routes);
  app.route("/", demoRoutes);
  app.route("/", gatewayManageRoutes);
  app.route("/", gatewayServeRoutes);

  app.notFound((c) =>
    problemResponse(
      new NotFoundError(`No route for ${c.req.method} ${new URL(c.req.url).pathname}.`),
    ),
  );
  app.onError(onError);
  return app;
}
