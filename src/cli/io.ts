/**
 * What every `ln402` command shares: exit codes, the error that carries one, progress
 * on stderr, and reading a problem+json answer into one readable line.
 */

/** The CLI's exit codes (also listed in `ln402 --help` and the README). */
export const EXIT = {
  /** Done; for `pay`, the final answer was not an HTTP error. */
  ok: 0,
  /** The server answered with an error (HTTP ≥ 400 after any payment, or a problem). */
  httpError: 1,
  /** Bad command line or missing configuration. */
  usage: 2,
  /** A payment was refused before any money moved: over the cap, a bad invoice, no offer ln402 pays. */
  refused: 3,
  /** The wallet failed, or the server did not accept a payment that was made. */
  paymentFailed: 4,
  /** The URL could not be reached. */
  unreachable: 5,
} as const;

/** An exit code of the CLI. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A failure the CLI reports in one line and exits with `code`. */
export class CliError extends Error {
  readonly code: ExitCode;
  constructor(code: ExitCode, message: string) {
    super(message);
    this.name = "CliError";
    this.code = code;
  }
}

/** Where a command writes: the body or JSON to `out`, progress and errors to `err`. */
export type Io = {
  out: (text: string | Uint8Array) => void;
  err: (line: string) => void;
  env: Record<string, string | undefined>;
};

/** The process's streams and environment. */
export function processIo(): Io {
  return {
    out: (text) => {
      process.stdout.write(text);
    },
    err: (line) => {
      process.stderr.write(`${line}\n`);
    },
    env: process.env,
  };
}

/** A progress line: a short step name, then what happened (like `npm run demo`). */
export function step(io: Io, name: string, detail: string): void {
  io.err(`${name.padEnd(8)} ${detail}`);
}

/** Shortens long strings (invoices, hashes) for progress lines. */
export function short(value: string): string {
  return value.length > 40 ? `${value.slice(0, 24)}…${value.slice(-12)}` : value;
}

/**
 * One line from an error answer: an RFC 9457 problem's title and detail when the body
 * is one, else the start of the body.
 */
export function describeErrorBody(status: number, text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body === "object" && body !== null && !Array.isArray(body)) {
      const problem = body as Record<string, unknown>;
      if (typeof problem.error === "string" && problem.title === undefined)
        return `${status}: ${problem.error}`;
      const title = typeof problem.title === "string" ? problem.title : `HTTP ${status}`;
      const detail = typeof problem.detail === "string" ? `: ${problem.detail}` : "";
      const type = typeof problem.type === "string" ? ` (${problem.type})` : "";
      return `${status} ${title}${detail}${type}`;
    }
  } catch {
    // not JSON: show the text itself
  }
  const trimmed = text.trim().slice(0, 300);
  return trimmed ? `${status}: ${trimmed}` : `HTTP ${status}`;
}

/** Fetch that turns a network failure into a CliError naming the URL. */
export async function reach(
  url: string,
  init: RequestInit,
  send: typeof fetch = fetch,
): Promise<Response> {
  try {
    return await send(url, init);
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : "";
    const why = cause || (err instanceof Error ? err.message : String(err));
    throw new CliError(EXIT.unreachable, `Could not reach ${url}: ${why}`);
  }
}
