/**
 * The `lightning`/`session` method, server side (draft-lightning-session-00): the
 * challenge carries a deposit invoice; `open` proves the deposit and records the
 * client's return invoice, `bearer` authorizes a request, `topUp` credits a new deposit,
 * `close` refunds the rest. The engine is `Sessions` (msat); this layer speaks sats.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import {
  type Bolt11Network,
  type DecodedInvoice,
  decodeInvoice,
} from "../../protocol/bolt11/Bolt11.ts";
import type * as Credential from "../../protocol/mpp/Credential.ts";
import * as Problems from "../../protocol/mpp/Problems.ts";
import { paymentHashOf } from "../../protocol/Preimage.ts";
import { SchemaIssue } from "../../protocol/Schema.ts";
import type { LightningProvider } from "../../providers/LightningProvider.ts";
import { MemoryStore } from "../../store/MemoryStore.ts";
import type { Store } from "../../store/Store.ts";
import { keysOf } from "../keys.ts";
import { networkOf } from "../network.ts";
import type { LightningServerMethod, RouteTerms, VerifyResult } from "../server.ts";
import { Answers, closeAnswer, receiptFor, refusal } from "./answers.ts";
import { IdleTimer } from "./idleTimer.ts";
import { Sessions } from "./Sessions.ts";
import { serve as serveStream } from "./sse.ts";
import { parsePayload, type SessionPayload, SessionRequest } from "./wire.ts";

/** Options of `lightningSessionServer`; amounts are sats. */
export type LightningSessionServerOptions = {
  provider: LightningProvider;
  /** Sessions, consumed hashes and cached answers; default a MemoryStore (one process only). */
  store?: Store;
  /** Deposit in sats; default 20 × the route's amount (§request). */
  depositAmount?: number;
  /** Seconds without activity before the session is closed and refunded; default 300. */
  idleTimeout?: number;
  unitType?: string;
  /** Default: `provider.getNetwork()`, else mainnet. */
  network?: Bolt11Network;
  /** Lifetime of minted deposit invoices, default 300 s. */
  invoiceExpirySecs?: number;
  /** Clock (unix ms), injectable for tests. */
  now?: () => number;
  /** How often a paused stream re-reads the store for another instance's top-up (ms). */
  pollIntervalMs?: number;
  /**
   * Refuse sessions without a bearer token (mpp-specs #311). Off by default so clients
   * that know only the draft keep working; a session that registered a token always
   * needs it, whatever this says.
   */
  requireBearerToken?: boolean;
  /**
   * Close idle sessions with an in-process timer armed from the store's deadlines
   * (default true). Set false where something else schedules `sessions.closeIdle()`,
   * e.g. a Durable Object alarm at `sessions.nextIdleDeadline()`.
   */
  idleTimer?: boolean;
};

/** Options of `serve`, in sats. */
export type SessionServeOptions = {
  sessionId: string;
  /** Sats per event, at most the price the payer agreed to (default that price). */
  satsPerChunk?: number;
  generate: AsyncIterable<string> | ((signal: AbortSignal) => AsyncIterable<string>);
  /** How long a stream paused for a top-up waits (default 60 s). */
  timeoutMs?: number;
};

/** The lightning/session method plus what a route needs to bill against a session. */
export type LightningSessionServer = LightningServerMethod & {
  readonly name: "lightning";
  readonly intent: "session";
  /** The engine, for scheduling `closeIdle` / `nextIdleDeadline` (a timer, a DO alarm). */
  readonly sessions: Sessions;
  /**
   * Bills one unit of `sats` (at most the agreed per-unit price: more throws RangeError and
   * takes nothing); false when the balance is short or the session is not open.
   */
  deduct(sessionId: string, sats: number): Promise<boolean>;
  /** Resolves true once the balance grows (a top-up), false on timeout or close. */
  waitForTopUp(sessionId: string, timeoutMs?: number): Promise<boolean>;
  /** An SSE response billing the agreed price per event (draft-lightning-session-00 §Streaming). */
  serve(options: SessionServeOptions): Response;
};

/** The lightning/session server method over a LightningProvider. */
export function lightningSessionServer(
  options: LightningSessionServerOptions,
): LightningSessionServer {
  const { provider } = options;
  const store = options.store ?? new MemoryStore();
  const now = options.now ?? Date.now;
  const engine = (scope: string) =>
    new Sessions({
      store,
      provider,
      now,
      scope,
      ...(options.pollIntervalMs !== undefined && { pollIntervalMs: options.pollIntervalMs }),
    });
  let sessions = engine("");
  let keys = keysOf("");
  let bound: string | null = null;
  const getNetwork = networkOf(provider, options.network);
  const answers = new Answers(store);
  const idle = options.idleTimer === false ? null : new IdleTimer(() => sessions);
  const fail = (problem: Problems.PaymentProblem): VerifyResult => ({ ok: false, problem });

  async function createRequest(route: RouteTerms): Promise<Record<string, unknown>> {
    const depositAmount =
      route.depositAmount ?? String(options.depositAmount ?? 20 * Number(route.amount));
    const depositMsat = Number(depositAmount) * 1000;
    const issued = await provider.createInvoice({
      amountMsat: depositMsat,
      description: route.description ?? "ln402 session deposit",
      expirySecs: options.invoiceExpirySecs ?? 300,
    });
    const decoded = decodeInvoice(issued.invoice);
    const expected = await getNetwork();
    if (decoded.amountMsat !== depositMsat || decoded.network !== expected) {
      throw new Error(
        `the provider issued a ${decoded.network} invoice for ${decoded.amountMsat} msat; expected ${expected}, ${depositMsat} msat`,
      );
    }
    const unitType = route.unitType ?? options.unitType;
    const request: SessionRequest = {
      amount: route.amount,
      currency: route.currency,
      depositInvoice: issued.invoice,
      paymentHash: decoded.paymentHash,
      depositAmount,
      idleTimeout: String(route.idleTimeout ?? options.idleTimeout ?? 300),
      bearerToken: options.requireBearerToken ? "required" : "offered",
      ...(unitType !== undefined && { unitType }),
      ...(route.description !== undefined && { description: route.description }),
    };
    return request;
  }

  /** The deposit invoice of a challenge, checked against its request; a problem when it disagrees. */
  async function depositOf(request: SessionRequest, nowMs: number, expires: string | undefined) {
    let invoice: DecodedInvoice;
    try {
      invoice = decodeInvoice(request.depositInvoice);
    } catch {
      return Problems.unknownChallenge("The challenge's deposit invoice does not decode.");
    }
    const depositMsat =
      request.depositAmount === undefined
        ? invoice.amountMsat
        : Number(request.depositAmount) * 1000;
    if (
      invoice.paymentHash !== request.paymentHash ||
      invoice.amountMsat === null ||
      invoice.amountMsat !== depositMsat ||
      invoice.amountMsat < Number(request.amount) * 1000 ||
      invoice.network !== (await getNetwork())
    ) {
      return Problems.verificationFailed(
        "The challenge's deposit invoice does not agree with its depositAmount, paymentHash or network.",
      );
    }
    // Effective expiry = min(expires, invoice expiry), as for charge.
    if (!(nowMs < Date.parse(expires ?? ""))) {
      return Problems.paymentExpired(
        `The challenge expired at ${expires}; pay the fresh challenge.`,
      );
    }
    if (nowMs >= invoice.expiresAt * 1000) {
      return Problems.expiredInvoice("The deposit invoice has expired; pay the fresh challenge.");
    }
    return invoice;
  }

  /**
   * mpp-specs #311: every forwarding node learns the deposit preimage, so a session that
   * registered a bearer token at open needs it on every bearer and close; a problem when
   * it is missing or wrong (or required by this server and never registered).
   */
  async function ownerCheck(sessionId: string, token: string | undefined) {
    const session = await sessions.get(sessionId);
    if (!session) return refusal("session-not-found");
    const registered = session.bearerTokenHash;
    if (registered === undefined) {
      return options.requireBearerToken
        ? Problems.invalidPayload(
            "This server requires a bearer token; open a new session with one.",
          )
        : null;
    }
    if (token === undefined || paymentHashOf(token) !== registered) {
      return Problems.invalidPayload(
        "This session is bound to a bearer token: send the bearerToken registered at open.",
      );
    }
    return null;
  }

  async function verify(args: {
    credential: Credential.Credential;
    nowMs: number;
  }): Promise<VerifyResult> {
    const { credential, nowMs } = args;
    const challengeId = credential.challenge.id;
    let payload: SessionPayload;
    let request: SessionRequest;
    try {
      payload = parsePayload(credential.payload, "payload");
      request = SessionRequest(credential.challenge.request, "challenge.request");
    } catch (err) {
      if (!(err instanceof SchemaIssue)) throw err;
      return fail(Problems.lightningMalformedCredential(`${err.message}.`));
    }
    // Per challenge and exact payload: the same credential again gets the same answer,
    // while the same challenge with another payload (another session) does not.
    const payloadHash = bytesToHex(sha256(new TextEncoder().encode(JSON.stringify(payload))));
    const cacheKey = keys.answer(challengeId, payloadHash);
    if (payload.action !== "bearer") {
      const cached = await answers.recall(cacheKey);
      // A resent open (its answer was lost) is served again while the session is open.
      if (cached?.ok && !cached.body) {
        const s = await sessions.get(cached.receipt.reference);
        return s?.status === "open" ? cached : fail(refusal("session-closed"));
      }
      if (cached) return cached;
    }
    const proof = payload.action === "topUp" ? payload.topUpPreimage : payload.preimage;
    const provenHash = paymentHashOf(proof);

    if (payload.action === "bearer" || payload.action === "close") {
      // §bearer, §close: the deposit preimage is the session's secret (sessionId = its hash).
      if (provenHash !== payload.sessionId) {
        return fail(Problems.invalidPreimage("sha256(preimage) is not the sessionId."));
      }
      // core -01: bearer and close echo the most recent unexpired challenge.
      if (!(nowMs < Date.parse(credential.challenge.expires ?? ""))) {
        return fail(
          Problems.paymentExpired(
            `The echoed challenge expired at ${credential.challenge.expires}; echo the fresh challenge.`,
          ),
        );
      }
      const owner = await ownerCheck(payload.sessionId, payload.bearerToken);
      if (owner) return fail(owner);
      if (payload.action === "bearer") {
        const touched = await sessions.touch(payload.sessionId);
        if (!touched.ok) return fail(refusal(touched.reason));
        return { ok: true, receipt: receiptFor(payload.sessionId, challengeId, nowMs) };
      }
      const session = await sessions.get(payload.sessionId);
      if (!session) return fail(refusal("session-not-found"));
      if (session.status !== "open") return fail(refusal("session-closed"));
      const closed = await sessions.close(payload.sessionId, "client");
      // A concurrent close of the same credential may have won: its answer, else a refusal.
      if (!closed.ok || closed.alreadyClosed)
        return (await answers.recall(cacheKey)) ?? fail(refusal("session-closed"));
      const body = closeAnswer(closed);
      return answers.give(cacheKey, receiptFor(payload.sessionId, challengeId, nowMs, body), body);
    }

    const deposit = await depositOf(request, nowMs, credential.challenge.expires);
    if (deposit instanceof Problems.PaymentProblem) return fail(deposit);
    if (provenHash !== deposit.paymentHash) {
      return fail(
        Problems.invalidPreimage(
          "sha256(preimage) is not the deposit invoice's payment hash; send the preimage your wallet returned for it.",
        ),
      );
    }
    // The deposit is what the invoice (checked against depositAmount when given) is for.
    const depositMsat = deposit.amountMsat ?? 0;

    if (payload.action === "topUp") {
      const credited = await sessions.topUp(payload.sessionId, deposit.paymentHash, depositMsat);
      if (!credited.ok) {
        if (credited.reason !== "payment-consumed") return fail(refusal(credited.reason));
        return (
          (await answers.recall(cacheKey)) ??
          fail(Problems.verificationFailed("This top-up payment was already credited."))
        );
      }
      // §TopUp Action: HTTP 200 with {"status":"ok"} (the balance is extra).
      const body = {
        status: "ok",
        sessionId: payload.sessionId,
        balanceSats: credited.balanceMsat / 1000,
        topUpSats: depositMsat / 1000,
      };
      return answers.give(cacheKey, receiptFor(payload.sessionId, challengeId, nowMs), body);
    }

    // §open: the return invoice must be a no-amount invoice of ours, payable later.
    let returnInvoice: DecodedInvoice;
    try {
      returnInvoice = decodeInvoice(payload.returnInvoice);
    } catch {
      return fail(Problems.invalidReturnInvoice("returnInvoice is not a BOLT11 invoice."));
    }
    if (
      returnInvoice.amountMsat !== null ||
      returnInvoice.network !== deposit.network ||
      nowMs >= returnInvoice.expiresAt * 1000
    ) {
      return fail(
        Problems.invalidReturnInvoice(
          `returnInvoice must be an unexpired no-amount ${deposit.network} invoice; send a fresh one.`,
        ),
      );
    }
    if (options.requireBearerToken && payload.bearerTokenHash === undefined) {
      return fail(
        Problems.invalidPayload(
          "This server requires a bearer token: send bearerTokenHash (sha256 of a random 32-byte token) with open.",
        ),
      );
    }
    const sessionId = deposit.paymentHash;
    const opened = await sessions.open({
      ...(payload.bearerTokenHash !== undefined && { bearerTokenHash: payload.bearerTokenHash }),
      sessionId,
      depositMsat,
      returnInvoice: payload.returnInvoice,
      amountPerUnitMsat: Number(request.amount) * 1000,
      idleTimeoutSecs: Number(request.idleTimeout ?? options.idleTimeout ?? 300),
    });
    if (!opened.ok) {
      return (
        (await answers.recall(cacheKey)) ??
        fail(
          Problems.verificationFailed(
            "This deposit already opened a session; use its bearer credential, or pay the fresh challenge.",
          ),
        )
      );
    }
    // Armed on open (inside a request), never at start-up: some runtimes refuse timers there.
    await idle?.poke();
    // §open: no management body; the opening request is served its content.
    return answers.give(cacheKey, receiptFor(sessionId, challengeId, nowMs));
  }

  return {
    name: "lightning",
    intent: "session",
    get sessions() {
      return sessions;
    },
    bind(scope) {
      if (bound === scope) return;
      if (bound !== null)
        throw new Error("this lightning/session method already serves another server");
      bound = scope;
      keys = keysOf(scope);
      sessions = engine(scope);
    },
    createRequest,
    verify,
    async deduct(sessionId, sats) {
      const msat = satsToMsat(sats);
      // §request: `amount` is the price per unit the payer accepted, fixed at open; one
      // call bills one unit, so more than that is the route's mistake, never the payer's.
      const agreedMsat = (await sessions.get(sessionId))?.amountPerUnitMsat;
      if (agreedMsat !== undefined && msat > agreedMsat) {
        throw new RangeError(
          `deduct(${sats}) is above the ${agreedMsat / 1000} sats per unit the payer agreed to; nothing was deducted`,
        );
      }
      return (await sessions.deduct(sessionId, msat)).ok;
    },
    waitForTopUp: (sessionId, timeoutMs = 60_000) => sessions.waitForTopUp(sessionId, timeoutMs),
    serve: (o) =>
      serveStream({
        sessions,
        sessionId: o.sessionId,
        ...(o.satsPerChunk !== undefined && { amountPerUnitMsat: satsToMsat(o.satsPerChunk) }),
        generate: o.generate,
        ...(o.timeoutMs !== undefined && { topUpTimeoutMs: o.timeoutMs }),
      }),
  };
}

function satsToMsat(sats: number): number {
  if (!Number.isSafeInteger(sats) || sats <= 0)
    throw new RangeError("sats must be a positive integer");
  return sats * 1000;
}
