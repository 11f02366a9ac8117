import type { Context } from "hono";
import { BadRequestError, PayloadTooLargeError, RateLimitedError } from "../protocol/Errors.ts";
import type { Env } from "./env.ts";

/** Largest JSON body any endpoint accepts. */
export const MAX_BODY_BYTES = 16 * 1024;

/** Reads a JSON object body, bounded in size; anything else is a 400/413 that says what to send. */
export async function readJsonObject(
  c: Context<Env>,
  maxBytes = MAX_BODY_BYTES,
): Promise<Record<string, unknown>> {
  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > maxBytes)
    throw new PayloadTooLargeError(`Bodies are limited to ${maxBytes} bytes.`);
  const raw = await c.req.text();
  if (new TextEncoder().encode(raw).length > maxBytes) {
    throw new PayloadTooLargeError(`Bodies are limited to ${maxBytes} bytes.`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new BadRequestError("The body must be a JSON object (Content-Type: application/json).");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new BadRequestError("The body must be a JSON object.");
  }
  return value as Record<string, unknown>;
}

/** The caller's IP as Cloudflare reports it (rate-limit key). */
export function clientIp(c: Context<Env>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

/** Applies a Workers rate-limit binding; throws 429 with Retry-After when over. */
export async function enforceLimit(
  limiter: RateLimit,
  key: string,
  what: string,
  periodSecs = 60,
): Promise<void> {
  const { success } = await limiter.limit({ key });
  if (!success)
    throw new RateLimitedError(`Too many ${what}. Slow down and retry later.`, periodSecs);
}

/** The Bearer token of the request, or null. */
export function bearerToken(c: Context<Env>): string | null {
  const header = c.req.header("Authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1] ?? null;
}
