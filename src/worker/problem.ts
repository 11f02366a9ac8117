import type { Context } from "hono";
import { INTERNAL_PROBLEM, ProblemError } from "../protocol/Errors.ts";

const PROBLEM_JSON = "application/problem+json";

/** Renders any thrown value as an RFC 9457 response; unknown errors become a bare 500. */
export function problemResponse(err: unknown): Response {
  if (err instanceof ProblemError) {
    return new Response(JSON.stringify(err.toJSON()), {
      status: err.status,
      headers: { "Content-Type": PROBLEM_JSON, ...err.headers },
    });
  }
  // Log the kind of failure only: messages of unknown errors may quote inputs or secrets.
  console.error("unhandled error", err instanceof Error ? err.name : typeof err);
  return new Response(JSON.stringify(INTERNAL_PROBLEM), {
    status: 500,
    headers: { "Content-Type": PROBLEM_JSON },
  });
}

/** Hono `onError` hook: every error leaves the app as problem+json. */
export function onError(err: Error, _c: Context): Response {
  return problemResponse(err);
}
