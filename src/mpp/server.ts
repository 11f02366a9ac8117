/**
 * ln402's own MPP server core (draft-httpauth-payment-00): issue HMAC-bound challenges,
 * check the credential a paid retry carries, and attach the receipt. Mirrors the shape
 * of mppx's `mppx.charge(route)(request)` without importing mppx (whose server build
 * pulls ~900 KiB into a Worker).
 */

import { canonicalize } from "../protocol/Jcs.ts";
import { encodeText } from "../protocol/mpp/Base64Url.ts";
import * as Challenge from "../protocol/mpp/Challenge.ts";
import * as Credential from "../protocol/mpp/Credential.ts";
import type { PaymentProblem } from "../protocol/mpp/Problems.ts";
import * as Problems from "../protocol/mpp/Problems.ts";
import * as Receipt from "../protocol/mpp/Receipt.ts";
import { type IdempotencyOptions, IdempotentRequest } from "./idempotency.ts";
import { scopeOf } from "./keys.ts";

/** What a route charges: `amount` in sats, as a decimal string (draft-lightning-charge-00 §request). */
export type ChargeRoute = {
  intent: "charge";
  amount: string;
  currency?: "sat";
  description?: string;
};

/**
 * A route sold by prepaid session (draft-lightning-session-00 §request): `amount` is sats
 * per unit; the rest override the session method's defaults.
 */
export type SessionRoute = {
  intent: "session";
  amount: string;
  currency?: "sat";
  description?: string;
  unitType?: string;
  /** Deposit in sats (decimal string). */
  depositAmount?: string;
  /** Idle timeout in seconds. */
  idleTimeout?: number;
};

/** Any route a `PaymentHandler` guards. */
export type PaymentRoute = ChargeRoute | SessionRoute;

/** What `createRequest` is given: the route's price and, for sessions, its terms. */
export type RouteTerms = {
  amount: string;
  currency: "sat";
  description?: string;
  unitType?: string;
  depositAmount?: string;
  idleTimeout?: number;
};

/**
 * A method's verdict on a credential: an expected outcome, not an exception. `body` marks
 * a management answer (session open/topUp/close) sent instead of running the route.
 */
export type VerifyResult =
  | { ok: true; receipt: Receipt.Receipt; body?: Record<string, unknown> }
  | { ok: false; problem: PaymentProblem };

/** A payment method the server core can offer and verify (e.g. `lightningChargeServer`). */
export interface LightningServerMethod {
  readonly name: string;
  readonly intent: "charge" | "session";
  /** The challenge `request` for a route; may mint an invoice. */
  createRequest(route: RouteTerms): Promise<Record<string, unknown>>;
  /**
   * Verifies a credential whose challenge this server issued for this route. The method
   * judges expiry itself (draft-lightning-charge-00 makes it min(expires, invoice expiry))
   * and consumes the payment once: a credential it already accepted is refused.
   */
  verify(args: { credential: Credential.Credential; nowMs: number }): Promise<VerifyResult>;
  /**
   * Scopes the method's Store keys to one server (`scopeOf(realm, serverId)`); called by
   * `createPaymentHandler`. A method serves one server: binding it to another throws.
   */
  bind?(scope: string): void;
}

/** Options of `createPaymentHandler`. */
export type PaymentHandlerOptions = {
  /**
   * HMAC key of challenge ids, at least 32 bytes (UTF-8); or a list, newest first, after
   * a rotation: new challenges use the first, and any of them verifies
   * (draft-httpauth-payment-01).
   */
  secretKey: string | readonly string[];
  realm: string;
  /**
   * This server's identity within its realm. Servers that share a Store, a secret and a
   * realm (one deployment hosting several merchants) MUST each set a distinct one: it is
   * bound into every challenge (`opaque`) and scopes every Store key. Default "".
   */
  serverId?: string;
  methods: LightningServerMethod[];
  /**
   * draft-httpauth-payment-01: ask for the credential in `Payment-Authorization`, so it
   * coexists with the API's own `Authorization`; it is then accepted only from there.
   */
  credentialHeader?: "Payment-Authorization";
  /** Challenge lifetime, default 300 s. */
  expiresInSecs?: number;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
  /**
   * Keep delivered answers for `Idempotency-Key` retries (draft-httpauth-payment-01
   * §idempotency); answered through `respond`. Off when absent.
   */
  idempotency?: IdempotencyOptions;
};

/** The outcome of `handle`: a 402 (or 400) to send, or a paid request to serve. */
export type HandleResult =
  | { status: 402; challenge: Response }
  | {
      status: 200;
      receipt: Receipt.Receipt;
      /**
       * An answer to send as is: a session management answer (topUp, close) or, for an
       * `Idempotency-Key` retry of a request already served, the stored answer. null:
       * serve the route.
       */
      management: Response | null;
      /** The route's answer with the receipt attached. */
      withReceipt(response: Response): Response;
      /** As `withReceipt`, and kept for `Idempotency-Key` retries when the handler stores them. */
      respond(response: Response): Promise<Response>;
    };

/** A handler that guards routes with Payment challenges. */
export type PaymentHandler = {
  handle(request: Request, route: PaymentRoute): Promise<HandleResult>;
};

const MIN_SECRET_BYTES = 32;

/** Builds the MPP server core; throws when the secret key is shorter than 32 bytes. */
export function createPaymentHandler(options: PaymentHandlerOptions): PaymentHandler {
  const { realm, methods } = options;
  const secrets = typeof options.secretKey === "string" ? [options.secretKey] : options.secretKey;
  const secretKey: string = secrets[0] ?? "";
  if (
    secrets.length === 0 ||
    secrets.some((s) => new TextEncoder().encode(s).length < MIN_SECRET_BYTES)
  ) {
    throw new RangeError(
      `secretKey must be at least ${MIN_SECRET_BYTES} bytes; generate one with \`openssl rand -base64 32\``,
    );
  }
  const credentialHeader = options.credentialHeader;
  if (methods.length === 0) throw new RangeError("createPaymentHandler needs at least one method");
  const serverId = options.serverId ?? "";
  const scope = scopeOf(realm, serverId);
  for (const method of methods) method.bind?.(scope);
  // The server's id travels in the HMAC-bound `opaque` (as mppx's `meta`), so a challenge
  // issued by another server with the same secret and realm never verifies here.
  const opaque = serverId ? encodeText(canonicalize({ server: serverId })) : undefined;
  const now = options.now ?? Date.now;
  const lifetimeMs = (options.expiresInSecs ?? 300) * 1000;

  async function issue(route: PaymentRoute): Promise<Challenge.Challenge[]> {
    const expires = new Date(now() + lifetimeMs).toISOString();
    const { intent: _intent, currency, ...terms } = route;
    const offered = methods.filter((m) => m.intent === route.intent);
    return Promise.all(
      offered.map(async (method) => {
        const request = await method.createRequest({ ...terms, currency: currency ?? "sat" });
        return Challenge.from({
          secretKey,
          realm,
          method: method.name,
          intent: method.intent,
          request,
          expires,
          ...(route.description !== undefined && { description: route.description }),
          ...(opaque !== undefined && { opaque }),
          ...(credentialHeader !== undefined && { header: credentialHeader }),
        });
      }),
    );
  }

  /** Every non-2xx answer carries fresh challenges (§errors) and must not be cached. */
  async function reject(route: PaymentRoute, problem: PaymentProblem): Promise<HandleResult> {
    const challenges = await issue(route);
    const headers = new Headers({
      "Cache-Control": "no-store",
      "Content-Type": "application/problem+json",
    });
    for (const c of challenges) headers.append("WWW-Authenticate", Challenge.serialize(c));
    const body = { ...problem.toJSON(), challengeId: challenges[0]?.id };
    const response = new Response(JSON.stringify(body), { status: problem.status, headers });
    return { status: 402, challenge: response };
  }

  return {
    async handle(request, route) {
      validateRoute(route);
      // draft-httpauth-payment-01: a credential may come in Payment-Authorization instead.
      const inPaymentHeader = request.headers.get("Payment-Authorization");
      const authorization = inPaymentHeader ?? request.headers.get("Authorization");
      if (!authorization || !/(^|,)\s*payment\s/i.test(authorization)) {
        const detail = `Payment is required${route.description ? ` (${route.description})` : ""}: pay one of the challenges in WWW-Authenticate and retry with its credential.`;
        return reject(route, Problems.paymentRequired(detail));
      }
      let credential: Credential.Credential;
      try {
        credential = Credential.parse(authorization);
      } catch (err) {
        if (err instanceof Problems.PaymentProblem) return reject(route, err);
        throw err;
      }
      // A retry of a request already served (its answer was lost): the stored answer,
      // without verifying (the credential is consumed) or running the route again.
      const idempotent = await IdempotentRequest.of(
        options.idempotency,
        scope,
        request,
        authorization,
      );
      const replay = await idempotent?.recall();
      if (replay) {
        const receiptHeader = replay.headers.get("Payment-Receipt");
        if (receiptHeader) {
          const receipt = Receipt.parse(receiptHeader);
          return {
            status: 200,
            receipt,
            management: replay,
            withReceipt: (response) => withReceipt(response, receipt),
            respond: async (response) => withReceipt(response, receipt),
          };
        }
      }
      const echo = credential.challenge;
      const method = methods.find((m) => m.name === echo.method && m.intent === echo.intent);
      if (!method || echo.intent !== route.intent) {
        const detail = `Payment method "${echo.method}/${echo.intent}" is not offered here; pay one of the challenges in WWW-Authenticate.`;
        return reject(route, Problems.methodUnsupported(detail));
      }
      // §challenge id binding: the HMAC proves we issued exactly this challenge.
      const issued = secrets.some((secret) => Challenge.verify(echo, secret));
      if (echo.realm !== realm || echo.opaque !== opaque || !issued) {
        return reject(
          route,
          Problems.invalidChallenge(
            "The echoed challenge was not issued by this server (its id does not match its contents); pay the fresh challenge.",
          ),
        );
      }
      // -01: accepted only from the header the challenge named (it is HMAC-bound).
      if ((echo.header !== undefined) !== (inPaymentHeader !== null)) {
        return reject(
          route,
          Problems.invalidChallenge(
            `Send this credential in the ${echo.header ?? "Authorization"} header, as its challenge says.`,
          ),
        );
      }
      // Issued by us, but perhaps for a cheaper route: the echoed price must be this route's.
      const currency = route.currency ?? "sat";
      if (echo.request.amount !== route.amount || echo.request.currency !== currency) {
        return reject(
          route,
          Problems.invalidChallenge(
            `The echoed challenge is for ${String(echo.request.amount)} ${String(echo.request.currency)}, but this route costs ${route.amount} ${currency}; pay the fresh challenge.`,
          ),
        );
      }
      // Fail closed without `expires` (as mppx): an unbounded challenge could be paid forever.
      if (echo.expires === undefined) {
        return reject(route, Problems.invalidChallenge("The echoed challenge has no expires."));
      }
      const verdict = await method.verify({ credential, nowMs: now() });
      if (!verdict.ok) return reject(route, verdict.problem);
      const receipt = verdict.receipt;
      // draft-lightning-session-00 §topUp/§close: management actions answer JSON, not the route.
      const management = verdict.body
        ? withReceipt(
            Response.json(verdict.body, { headers: { "Cache-Control": "no-store" } }),
            receipt,
          )
        : null;
      return {
        status: 200,
        receipt,
        management,
        withReceipt: (response) => withReceipt(response, receipt),
        respond: async (response) => {
          const paid = withReceipt(response, receipt);
          return idempotent ? idempotent.keep(paid) : paid;
        },
      };
    },
  };
}

/** Copies `response` with the `Payment-Receipt` header; a paid answer is private to its payer. */
export function withReceipt(response: Response, receipt: Receipt.Receipt): Response {
  const headers = new Headers(response.headers);
  headers.set("Payment-Receipt", Receipt.serialize(receipt));
  const cache = headers.get("Cache-Control");
  if (!cache) headers.set("Cache-Control", "private");
  else if (!/\b(private|no-store)\b/i.test(cache))
    headers.set("Cache-Control", `${cache}, private`);
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

function validateRoute(route: PaymentRoute): void {
  if (!/^[1-9]\d{0,15}$/.test(route.amount)) {
    throw new RangeError(
      `route amount must be a positive whole number of sats; got "${route.amount}"`,
    );
  }
  if (route.intent === "session" && route.depositAmount !== undefined) {
    if (!/^[1-9]\d{0,15}$/.test(route.depositAmount))
      throw new RangeError(`route depositAmount must be a positive whole number of sats`);
  }
}
