import { decodePaymentSignatureHeader } from "@x402/core/http";
import type { SchemePaymentRequiredContext } from "@x402/core/server";
import { isRecord } from "../protocol/Schema.ts";
import { type BindingResult, refuse } from "../protocol/x402/lnbtc/Binding.ts";
import { httpBinding } from "../protocol/x402/lnbtc/HttpBinding.ts";
import { mcpBinding } from "../protocol/x402/lnbtc/McpBinding.ts";

/**
 * How the lnbtc server scheme reads the live request out of `@x402/core`'s transport
 * context (scheme_exact_lnbtc §Request Binding: "the server MUST recompute the digest from
 * the request that will execute, using its configured profile and parameters").
 */

/** The server's binding configuration: the profile and parameters come from here, never the echo. */
export type ServerBinding =
  | {
      profile: "http:1";
      /** The public origin clients use, e.g. `https://api.example.com` (no path). */
      publicOrigin: string;
      /** Headers that affect the operation, lowercase, ascending; even when absent. */
      headers?: string[];
      /** The raw body bytes of a request that has one (adapters parse bodies). */
      body?: (transportContext: unknown) => Uint8Array | Promise<Uint8Array>;
    }
  | {
      profile: "mcp:1";
      server: string;
      metadata?: string[];
      /** The `tools/call` params as the client sent them. */
      call: (transportContext: unknown) => unknown;
    };

type Adapter = {
  getHeader(name: string): string | undefined;
  getMethod(): string;
  getUrl(): string;
};

function adapterOf(transportContext: unknown): Adapter | null {
  const request = isRecord(transportContext) ? transportContext.request : undefined;
  const adapter = isRecord(request) ? request.adapter : undefined;
  return isRecord(adapter) &&
    typeof adapter.getHeader === "function" &&
    typeof adapter.getMethod === "function" &&
    typeof adapter.getUrl === "function"
    ? (adapter as Adapter)
    : null;
}

/**
 * The binding of the live request. For `http:1` the URL is the configured public origin
 * plus the request's raw path and query, so a requester-chosen Host never picks the
 * hashed origin (vectors: http-adapter-origin-policy, `bind_configured_origin`).
 */
export async function bindLiveRequest(
  config: ServerBinding,
  transportContext: unknown,
): Promise<{ result: BindingResult; url?: string }> {
  if (config.profile === "mcp:1") {
    const call = config.call(transportContext);
    return { result: mcpBinding({ server: config.server, metadata: config.metadata ?? [] }, call) };
  }
  const adapter = adapterOf(transportContext);
  if (adapter === null) return { result: refuse("No HTTP request in the transport context.") };
  const target = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^#]*)/.exec(adapter.getUrl())?.[1] ?? "";
  const url = `${config.publicOrigin}${target.startsWith("/") || target === "" ? target : `/${target}`}`;
  let body: Uint8Array = new Uint8Array();
  if (config.body) body = await config.body(transportContext);
  else if (hasBody(adapter)) {
    // §HTTP Profile: the body is hashed as bytes, never re-serialized from a parsed form.
    return { result: refuse("This request has a body: configure `body` to give its raw bytes.") };
  }
  const result = httpBinding(
    { headers: config.headers ?? [] },
    {
      method: adapter.getMethod(),
      url,
      body,
      header: (name) => adapter.getHeader(name),
    },
  );
  return { result, url };
}

function hasBody(adapter: Adapter): boolean {
  const length = adapter.getHeader("content-length");
  return (
    (length !== undefined && length.trim() !== "0") ||
    adapter.getHeader("transfer-encoding") !== undefined
  );
}

/** The payment payload the request carries (core's, or the raw `PAYMENT-SIGNATURE` header). */
export function paymentInContext(ctx: SchemePaymentRequiredContext): unknown {
  if (ctx.paymentPayload !== undefined) return ctx.paymentPayload;
  const request = isRecord(ctx.transportContext) ? ctx.transportContext.request : undefined;
  const header =
    (isRecord(request) && typeof request.paymentHeader === "string"
      ? request.paymentHeader
      : undefined) ?? adapterOf(ctx.transportContext)?.getHeader("payment-signature");
  if (header === undefined || header.length > 16_384) return undefined;
  try {
    return decodePaymentSignatureHeader(header);
  } catch {
    return undefined; // The SDK answers a malformed header itself.
  }
}
