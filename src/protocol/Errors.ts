/**
 * The one error family of ln402. Every error a client may see is a `ProblemError`,
 * rendered as RFC 9457 `application/problem+json`. Anything else is an internal fault
 * and becomes a bare 500 with no internals.
 */

/**
 * Prefix of ln402's own problem types. A URN, not an https URL: it names the type
 * without pretending to be a page (RFC 9457 §3.1.1 allows any URI). Protocol-defined
 * types (e.g. `https://paymentauth.org/problems/…`) are used as given.
 */
export const PROBLEM_BASE = "urn:ln402:problem:";

/** The JSON body of an RFC 9457 problem, with optional extension members. */
export type ProblemDetails = {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
};

/** Options shared by every problem constructor. */
export type ProblemInit = {
  /** Extra members added to the problem body (RFC 9457 §3.2). Never secrets. */
  extensions?: Record<string, unknown>;
  /** Extra response headers, e.g. `Retry-After`. */
  headers?: Record<string, string>;
  cause?: unknown;
};

/** An error that knows how to present itself to a client as a problem. */
export class ProblemError extends Error {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(status: number, slug: string, title: string, detail: string, init: ProblemInit = {}) {
    super(detail, { cause: init.cause });
    this.name = "ProblemError";
    this.status = status;
    this.type = slug.includes(":") ? slug : PROBLEM_BASE + slug;
    this.title = title;
    this.detail = detail;
    this.extensions = init.extensions ?? {};
    this.headers = init.headers ?? {};
  }

  /** The RFC 9457 body. Extension members never override the standard ones. */
  toJSON(): ProblemDetails {
    return {
      ...this.extensions,
      type: this.type,
      title: this.title,
      status: this.status,
      detail: this.detail,
    };
  }
}

/** 400: the request is not what the endpoint accepts. */
export class BadRequestError extends ProblemError {
  constructor(detail: string, init?: ProblemInit) {
    super(400, "bad-request", "Bad request", detail, init);
  }
}

/** 401: missing or wrong credentials. */
export class UnauthorizedError extends ProblemError {
  constructor(detail: string, init?: ProblemInit) {
    super(401, "unauthorized", "Unauthorized", detail, {
      ...init,
      headers: { "WWW-Authenticate": 'Bearer realm="ln402"', ...init?.headers },
    });
  }
}

/** 404: the addressed resource does not exist. */
export class NotFoundError extends ProblemError {
  constructor(detail: string, init?: ProblemInit) {
    super(404, "not-found", "Not found", detail, init);
  }
}

/** 413: the body is larger than the endpoint accepts. */
export class PayloadTooLargeError extends ProblemError {
  constructor(detail: string, init?: ProblemInit) {
    super(413, "payload-too-large", "Payload too large", detail, init);
  }
}

/** 422: well-formed, but cannot be acted on (e.g. the wallet lacks a method). */
export class UnprocessableError extends ProblemError {
  constructor(slug: string, title: string, detail: string, init?: ProblemInit) {
    super(422, slug, title, detail, init);
  }
}

/** 429: too many requests; `retryAfterSecs` becomes the `Retry-After` header. */
export class RateLimitedError extends ProblemError {
  constructor(detail: string, retryAfterSecs: number, init?: ProblemInit) {
    const retryAfter = String(Math.max(1, Math.ceil(retryAfterSecs)));
    super(429, "rate-limited", "Too many requests", detail, {
      ...init,
      headers: { "Retry-After": retryAfter, ...init?.headers },
    });
  }
}

/** 503: a dependency (the merchant's wallet, the store) is unreachable right now. */
export class UnavailableError extends ProblemError {
  constructor(slug: string, title: string, detail: string, init?: ProblemInit) {
    super(503, slug, title, detail, init);
  }
}

/** The body of the bare 500 every unexpected error becomes: no internals. */
export const INTERNAL_PROBLEM: ProblemDetails = Object.freeze({
  type: `${PROBLEM_BASE}internal`,
  title: "Internal error",
  status: 500,
  detail: "The server failed to handle this request. It has been logged without its inputs.",
});
