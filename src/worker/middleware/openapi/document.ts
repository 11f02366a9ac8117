import { VERSION } from "../../../version.ts";
import { gatewayPaths, gatewaySchemas } from "./gateway.ts";
import { problemSchema } from "./problems.ts";

/**
 * The OpenAPI 3.1 description of the Worker's HTTP API. Written by hand, checked by
 * tests: against the OpenAPI 3.1 schema, and against the app's own route table (every
 * route documented, nothing documented that does not exist).
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
const body = (schema: Json) => ({ required: true, content: { "application/json": { schema } } });
const bearer = [{ merchantKey: [] }];
const idParam = { $ref: "#/components/parameters/merchantId" };
const object: Json = { type: "object" };
const x402Body = body({
  type: "object",
  required: ["paymentPayload", "paymentRequirements"],
  properties: {
    x402Version: { type: "integer" },
    paymentPayload: object,
    paymentRequirements: object,
  },
});

const paths: Json = {
  "/health": {
    get: {
      summary: "Whether this deployment can serve",
      responses: {
        "200": json("Ready", ref("Health")),
        "503": json("Degraded: `missing` names the settings to fix", ref("Health")),
      },
    },
  },
  "/openapi.json": {
    get: { summary: "This document", responses: { "200": json("OpenAPI 3.1", object) } },
  },
  "/register": {
    post: {
      summary: "Register a merchant's NWC wallet; returns its id and API key (shown once)",
      requestBody: body({
        type: "object",
        properties: { nwcUrl: { type: "string" }, nwcSecret: { type: "string" } },
      }),
      responses: {
        "201": json("Registered", ref("Registration")),
        "400": problem("Malformed connection string or relay"),
        "422": problem("Wallet unusable, unreachable, on another network or lacking methods"),
        "429": problem("Rate limited"),
      },
    },
  },
  "/merchants/{id}": {
    parameters: [idParam],
    get: {
      summary: "The merchant's network, capabilities, wallet connection and invoice counts",
      security: bearer,
      responses: {
        "200": json("The merchant", object),
        "401": problem("Wrong key"),
        "404": problem("No merchant"),
      },
    },
    patch: {
      summary:
        "Settings: publicInvoices (unauthenticated invoice creation), exclusiveNodeKey (lnbtc without a receipt check)",
      security: bearer,
      requestBody: body({
        type: "object",
        additionalProperties: false,
        properties: {
          publicInvoices: { type: "boolean" },
          exclusiveNodeKey: { type: "boolean" },
        },
      }),
      responses: {
        "200": json("The merchant, with its settings", object),
        "400": problem("Unknown setting or not a boolean"),
        "401": problem("Wrong key"),
      },
    },
    delete: {
      summary: "Disconnect and erase the merchant",
      security: bearer,
      responses: { "204": { description: "Erased" }, "401": problem("Wrong key") },
    },
  },
  "/merchants/{id}/rotate-key": {
    parameters: [idParam],
    post: {
      summary: "A new API key; the old one stops working",
      security: bearer,
      responses: { "200": json("The new key", object), "401": problem("Wrong key") },
    },
  },
  "/merchants/{id}/wallet": {
    parameters: [idParam],
    put: {
      summary: "Replace the wallet after the registration checks",
      security: bearer,
      requestBody: body({
        type: "object",
        required: ["nwcUrl"],
        properties: { nwcUrl: { type: "string" } },
      }),
      responses: {
        "200": json("Replaced", object),
        "401": problem("Wrong key"),
        "422": problem("Wallet not usable"),
      },
    },
  },
  "/invoice": {
    post: {
      summary:
        "Issue a BOLT11 invoice from the merchant's wallet (the merchant's API key, unless it turned publicInvoices on; Ln402-Client-Ip names the end client)",
      security: [{ merchantKey: [] }, {}],
      parameters: [
        {
          name: "Ln402-Client-Ip",
          in: "header",
          required: false,
          description:
            "The paying client's address, for per-client limits (trusted only with the key)",
          schema: { type: "string" },
        },
      ],
      requestBody: body(ref("InvoiceRequest")),
      responses: {
        "201": json("Issued", ref("Invoice")),
        "400": problem("Bad amount, description, description hash or expiry"),
        "401": problem("No or wrong API key (and public invoices are off)"),
        "404": problem("No merchant"),
        "429": problem("Rate limited"),
        "502": problem("The wallet refused or failed"),
        "503": problem("The wallet is unreachable or slow; see Retry-After"),
      },
    },
  },
  "/invoice/status/{paymentHash}": {
    get: {
      summary: "Paid or not (never the preimage)",
      parameters: [
        {
          name: "paymentHash",
          in: "path",
          required: true,
          schema: { type: "string", pattern: "^[0-9a-f]{64}$" },
        },
      ],
      responses: {
        "200": json("The invoice's state", ref("InvoiceStatus")),
        "404": problem("Unknown invoice"),
        "429": problem("Rate limited"),
      },
    },
  },
  "/supported": {
    get: {
      summary: "x402 kinds this facilitator verifies and settles",
      responses: { "200": json("Kinds", object) },
    },
  },
  "/verify": {
    post: {
      summary: "x402: check a payment payload against its requirements",
      requestBody: x402Body,
      responses: {
        "200": json("`isValid`, and `invalidReason` when not", object),
        "400": problem("Not x402"),
      },
    },
  },
  "/settle": {
    post: {
      summary: "x402: redeem a verified payment once",
      security: bearer,
      requestBody: x402Body,
      responses: {
        "200": json("`success`, `transaction` (payment hash), `network`", object),
        "400": problem("Not x402"),
        "401": problem("Not the merchant's key"),
      },
    },
  },
  "/.well-known/x402": {
    get: {
      summary: "What this facilitator is: endpoints, networks, payloads, reasons",
      responses: { "200": json("Discovery", object) },
    },
  },
  "/demo/quote": {
    get: {
      summary: "A quote sold through the standard x402 flow (when DEMO_NWC_SECRET is set)",
      responses: {
        "200": json("The quote", object),
        "402": { description: "Payment required: PAYMENT-REQUIRED header (HTML for browsers)" },
        "404": problem("The demo is not enabled"),
      },
    },
  },
};

/** The OpenAPI 3.1 document served at `GET /openapi.json`. */
export function openapiDocument(): Json {
  return {
    openapi: "3.1.0",
    info: {
      title: "ln402",
      version: VERSION,
      summary: "Lightning payments for HTTP APIs: an x402 facilitator and merchant registry.",
      license: { name: "MIT", identifier: "MIT" },
    },
    paths: { ...paths, ...gatewayPaths },
    components: {
      securitySchemes: {
        merchantKey: {
          type: "http",
          scheme: "bearer",
          description: "The merchant's API key (ln402_sk_…).",
        },
      },
      parameters: {
        merchantId: {
          name: "id",
          in: "path",
          required: true,
          schema: { type: "string", pattern: "^m_" },
        },
      },
      schemas: {
        Problem: problemSchema(),
        ...gatewaySchemas,
        Health: {
          type: "object",
          required: ["status", "version"],
          properties: {
            status: { enum: ["ok", "degraded"] },
            version: { type: "string" },
            missing: { type: "array", items: { type: "string" } },
            detail: { type: "string" },
          },
        },
        Registration: {
          type: "object",
          required: ["merchantId", "apiKey", "network", "capabilities"],
          properties: {
            merchantId: { type: "string" },
            apiKey: { type: "string" },
            network: { type: "string" },
            capabilities: object,
          },
        },
        InvoiceRequest: {
          type: "object",
          required: ["merchantId"],
          properties: {
            merchantId: { type: "string" },
            amount: { type: ["string", "integer"], description: "msat" },
            amountSats: { type: ["string", "integer"] },
            description: { type: "string", maxLength: 639 },
            descriptionHash: {
              type: "string",
              pattern: "^[0-9a-f]{64}$",
              description: "Signed as the invoice's h field instead of a description (x402 lnbtc)",
            },
            expirySecs: { type: "integer", minimum: 10, maximum: 86_400 },
          },
        },
        Invoice: {
          type: "object",
          properties: {
            invoice: { type: "string" },
            paymentHash: { type: "string" },
            amount: { type: "string", description: "msat" },
            expiresAt: { type: "integer", description: "unix seconds" },
          },
        },
        InvoiceStatus: {
          type: "object",
          properties: {
            merchantId: { type: "string", description: "The merchant that issued it" },
            paid: { type: "boolean", description: "The merchant's wallet received the payment" },
            settledAt: { type: "integer" },
            amount: { type: "string" },
            expiresAt: { type: "integer" },
          },
        },
      },
    },
  };
}
