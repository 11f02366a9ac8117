/**
 * The gateway's part of the OpenAPI document: route management, stats, and the paid
 * proxy under `/gw/{merchantId}/{path}` (one 402 for one invoice, every protocol).
 */

type Json = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: ref("Problem") } },
});
const json = (description: string, schema: Json) => ({
  description,
  content: { "application/json": { schema } },
});
const bearer = [{ merchantKey: [] }];
const idParam = { $ref: "#/components/parameters/merchantId" };
const auth = {
  "401": problem("Wrong key"),
  "404": problem("No merchant"),
};

const proxied = (summary: string) => ({
  summary,
  description:
    "Matched against the merchant's routes. Unpaid: 402 with PAYMENT-REQUIRED (x402 lnbtc, plus bip122 when offered) and WWW-Authenticate: Payment (MPP lightning charge), all for one invoice bound to this request. Paid retry (PAYMENT-SIGNATURE, Authorization: Payment, or Ln402-Paid: <paymentHash> from the browser page): the upstream's answer with PAYMENT-RESPONSE or Payment-Receipt.",
  responses: {
    "200": { description: "The upstream's answer (any status below 500), streamed" },
    "402": problem("Payment required (a fresh invoice), or the proof was refused (reason)"),
    "404": problem("No such merchant or no matching route"),
    "429": problem("Too many unpaid requests from this address"),
    "502": problem(
      "The upstream failed; a paid proof stays good for one retry of the same request",
    ),
  },
});

/** The gateway's paths. */
export const gatewayPaths: Json = {
  "/merchants/{id}/routes": {
    parameters: [idParam],
    get: {
      summary: "The merchant's gateway routes",
      security: bearer,
      responses: { "200": json("Routes", ref("GatewayRoutes")), ...auth },
    },
    put: {
      summary:
        "Replace the gateway routes; the first answer carries the upstream secret (shown once)",
      security: bearer,
      requestBody: {
        required: true,
        content: { "application/json": { schema: ref("GatewayRoutes") } },
      },
      responses: {
        "200": json("Saved", ref("GatewayRoutes")),
        "400": problem("Invalid routes: `errors` lists each field and what to send"),
        "422": problem("A session price on a wallet that cannot pay refunds (no pay_invoice)"),
        ...auth,
      },
    },
  },
  "/merchants/{id}/routes/rotate-secret": {
    parameters: [idParam],
    post: {
      summary: "Issue a new upstream secret (shown once)",
      security: bearer,
      responses: { "200": json("The new secret", { type: "object" }), ...auth },
    },
  },
  "/merchants/{id}/stats": {
    parameters: [
      idParam,
      {
        name: "since",
        in: "query",
        required: false,
        schema: { type: "string" },
        description: "Unix seconds or RFC 3339; default 24 hours ago",
      },
    ],
    get: {
      summary:
        "Gateway counters per route (requests, paid, revenue, dry-run, upstream failures) and sessions (open, refunds paid, failed, pending)",
      security: bearer,
      responses: { "200": json("Stats", { type: "object" }), "400": problem("Bad since"), ...auth },
    },
  },
  "/gw/{merchantId}/{path}": {
    parameters: [
      { name: "merchantId", in: "path", required: true, schema: { type: "string" } },
      {
        name: "path",
        in: "path",
        required: true,
        schema: { type: "string" },
        description: "The rest of the path, appended to the route's upstream",
      },
    ],
    get: proxied("A paid request through the gateway"),
    post: proxied("A paid request through the gateway"),
    put: proxied("A paid request through the gateway"),
    patch: proxied("A paid request through the gateway"),
    delete: proxied("A paid request through the gateway"),
  },
};

/** The gateway's schemas. */
export const gatewaySchemas: Json = {
  GatewayRoutes: {
    type: "object",
    required: ["routes"],
    properties: {
      routes: {
        type: "array",
        maxItems: 100,
        items: {
          type: "object",
          additionalProperties: false,
          required: ["method", "path", "upstream", "price"],
          properties: {
            method: { enum: ["GET", "POST", "PUT", "PATCH", "DELETE", "*"] },
            path: {
              type: "string",
              description: 'Exact segments, ":name" for one segment, a final "*" for the rest',
            },
            upstream: { type: "string", description: "https base URL" },
            description: { type: "string", maxLength: 200 },
            protocols: {
              type: "array",
              items: { enum: ["x402", "x402-legacy", "mpp"] },
            },
            price: {
              type: "object",
              required: ["type"],
              properties: {
                type: { enum: ["charge", "session"] },
                sats: { type: "integer", minimum: 1 },
                satsPerUnit: { type: "integer", minimum: 1 },
                depositSats: { type: "integer", minimum: 1 },
                idleTimeoutSecs: { type: "integer", minimum: 10 },
              },
            },
            mode: { enum: ["enforce", "dry-run"] },
          },
        },
      },
      secretHeader: { type: "string" },
      upstreamSecret: { type: "string", description: "Only when just issued" },
    },
  },
};
