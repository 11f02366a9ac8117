import { type ProblemDetails, ProblemError } from "../../protocol/Errors.ts";

/**
 * Durable Object RPC carries only an error's message across the boundary, not its
 * status or type. So DO methods return problems as data, and the Worker turns them
 * back into the same `ProblemError` the DO raised.
 */
export type RpcResult<T> =
  | { ok: true; value: T }
  | { ok: false; problem: ProblemDetails; headers: Record<string, string> };

/** Runs `fn` inside a DO method: a `ProblemError` becomes `{ ok: false }`; anything else propagates. */
export async function capture<T>(fn: () => Promise<T>): Promise<RpcResult<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof ProblemError)
      return { ok: false, problem: err.toJSON(), headers: err.headers };
    throw err;
  }
}

/** The Worker side: the value, or the DO's problem re-thrown. */
export function unwrap<T>(result: RpcResult<T>): T {
  if (result.ok) return result.value;
  const { type, title, status, detail, ...extensions } = result.problem;
  throw new ProblemError(status, type, title, detail, { extensions, headers: result.headers });
}

/**
 * The value, or null when the merchant's object answered 404 (the merchant was deleted
 * since the registry was read: its object is authoritative). Other problems re-thrown.
 */
export function unlessGone<T>(result: RpcResult<T>): T | null {
  if (!result.ok && result.problem.status === 404) return null;
  return unwrap(result);
}
