import { bytesToHex, randomBytes } from "@noble/hashes/utils.js";
import {
  type Bolt11Network,
  type DecodedInvoice,
  decodeInvoice,
} from "../../protocol/bolt11/Bolt11.ts";
import { ProblemError } from "../../protocol/Errors.ts";
import * as Challenge from "../../protocol/mpp/Challenge.ts";
import * as Credential from "../../protocol/mpp/Credential.ts";
import { paymentHashOf, proves } from "../../protocol/Preimage.ts";
import { SchemaIssue } from "../../protocol/Schema.ts";
import type { LightningProvider } from "../../providers/LightningProvider.ts";
import type { PaymentClientMethod } from "../fetch.ts";
import { type CloseAnswer, SessionRequest } from "./wire.ts";

/** What the session client reports. */
export type SessionProgress =
  | { type: "deposit"; paymentHash: string; amountSats: number; challengeId: string }
  | { type: "opened"; sessionId: string }
  | { type: "topUp"; sessionId: string; amountSats: number }
  | { type: "closed"; sessionId: string; refundSats: number; refundStatus: string };

/** Options of `lightningSessionClient`. */
export type LightningSessionClientOptions = {
  /** Refuse deposit (and top-up) invoices above this many sats. */
  maxDepositSats?: number;
  /** Routing fee cap per deposit payment, in sats. */
  maxFeeSats?: number;
  /** Only pay invoices of this network; default the provider's. */
  network?: Bolt11Network;
  /** Lifetime asked for the return invoice (s); it must outlive the session. Default 7 days. */
  returnInvoiceExpirySecs?: number;
  onProgress?: (event: SessionProgress) => void;
  /** Clock (ms), injectable for tests. */
  now?: () => number;
};

/** The client's open session: its id, its secret, and the challenge bearer/close echo. */
export type ClientSession = {
  sessionId: string;
  preimage: string;
  /** The most recent challenge seen for this session; bearer and close echo it while unexpired (core -01). */
  challenge: Challenge.Challenge;
  depositSats: number;
  /** The origin the session was opened with; bearer credentials are sent there only. */
  origin: string | null;
  /** The open credential, to resend as is if its answer was lost (the server answers it again). */
  openCredential: string;
  /** The bearer token registered at open (mpp-specs #311), when the server offered it. */
  bearerToken?: string;
};

/** A transport: the plain fetch that reaches the server, or a paying fetch (its `unpaid` transport is used). */
export type Send = ((input: Request) => Promise<Response>) & {
  readonly unpaid?: (input: Request) => Promise<Response>;
};

/** The plain transport of `send`: management requests must not be paid or given a bearer. */
const plain = (send: Send) => send.unpaid ?? send;

/** The client refused a session challenge, or the server refused a session action. */
export class SessionClientError extends ProblemError {
  constructor(detail: string, status = 422) {
    super(status, "mpp-session-client", "Lightning session refused", detail);
    this.name = "SessionClientError";
  }
}

/** The lightning/session client method with its session controls. */
export type LightningSessionClient = PaymentClientMethod & {
  /** A bearer credential for `url` and the header it goes in, when a session is open with its origin. */
  authorization(url: string): { header: string; value: string } | null;
  /** Pays a new deposit invoice from a fresh challenge of `url` and credits it (§topUp). */
  topUp(send: Send, url: string): Promise<{ balanceSats: number; topUpSats: number }>;
  /** Closes the session (§close) and reports the refund. */
  close(send: Send, url: string): Promise<{ refundSats: number; refundStatus: string }>;
  /** A topUp credential for `challenge` (a fresh one of the session's server): pays its invoice. */
  topUpCredential(challenge: Challenge.Challenge): Promise<string>;
  /** A close credential echoing `challenge`; the session is kept until the close is answered. */
  closeCredential(challenge: Challenge.Challenge): string;
  getSession(): ClientSession | null;
  /** Forgets the session (e.g. after the server closed it for idleness). */
  resetSession(): void;
};

/** The lightning/session client method over the payer's LightningProvider. */
export function lightningSessionClient(
  provider: LightningProvider,
  options: LightningSessionClientOptions = {},
): LightningSessionClient {
  const now = options.now ?? Date.now;
  let session: ClientSession | null = null;

  async function check(challenge: Challenge.Challenge) {
    let request: SessionRequest;
    let invoice: DecodedInvoice;
    try {
      request = SessionRequest(challenge.request, "request");
      invoice = decodeInvoice(request.depositInvoice);
    } catch (err) {
      const why = err instanceof SchemaIssue || err instanceof Error ? err.message : "unreadable";
      throw new SessionClientError(`The challenge is not a lightning session: ${why}`);
    }
    // §request: depositAmount is optional; the invoice's amount is the deposit then.
    const depositSats =
      request.depositAmount === undefined
        ? (invoice.amountMsat ?? 0) / 1000
        : Number(request.depositAmount);
    const network = options.network ?? (await provider.getNetwork?.());
    if (invoice.amountMsat === null || invoice.amountMsat !== depositSats * 1000)
      throw new SessionClientError("The deposit invoice's amount differs from depositAmount.");
    if (invoice.paymentHash !== request.paymentHash)
      throw new SessionClientError(
        "The deposit invoice's payment hash differs from the challenge's.",
      );
    if (network !== undefined && invoice.network !== network)
      throw new SessionClientError(`The deposit invoice is for ${invoice.network}.`);
    const expiresMs = Math.min(invoice.expiresAt * 1000, Date.parse(challenge.expires ?? ""));
    if (!(now() < expiresMs))
      throw new SessionClientError("The challenge or its deposit invoice has expired.");
    if (options.maxDepositSats !== undefined && depositSats > options.maxDepositSats)
      throw new SessionClientError(
        `The deposit of ${depositSats} sats is above the limit of ${options.maxDepositSats}.`,
      );
    return { invoice, depositSats };
  }

  /** Pays a checked deposit invoice; the preimage must hash to its payment hash. */
  async function pay(challenge: Challenge.Challenge) {
    const { invoice, depositSats } = await check(challenge);
    options.onProgress?.({
      type: "deposit",
      paymentHash: invoice.paymentHash,
      amountSats: depositSats,
      challengeId: challenge.id,
    });
    const paid = await provider.payInvoice({
      invoice: invoice.invoice,
      ...(options.maxFeeSats !== undefined && { maxFeeMsat: options.maxFeeSats * 1000 }),
    });
    const preimage = paid.preimage.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(preimage) || !proves(preimage, invoice.paymentHash))
      throw new SessionClientError(
        "The wallet returned a preimage that does not match the invoice.",
      );
    return { preimage, paymentHash: invoice.paymentHash, depositSats };
  }

  /** The proof of ownership bearer and close carry: the preimage, and the token when registered. */
  function owner(s: ClientSession) {
    return {
      sessionId: s.sessionId,
      preimage: s.preimage,
      ...(s.bearerToken !== undefined && { bearerToken: s.bearerToken }),
    };
  }

  function bearer(s: ClientSession): string {
    const payload = { action: "bearer", ...owner(s) };
    return Credential.serialize({ challenge: s.challenge, payload });
  }

  /** Whether a challenge can still be echoed (core -01: the most recent unexpired one). */
  const live = (c: Challenge.Challenge) => now() < Date.parse(c.expires ?? "");

  /** The challenge close echoes: the session's latest while unexpired, else a fresh one. */
  async function echoable(send: Send, url: string, s: ClientSession) {
    if (live(s.challenge)) return s.challenge;
    s.challenge = await freshChallenge(send, url);
    return s.challenge;
  }

  /** A fresh session challenge of `url` (an unpaid request answers 402 with one). */
  async function freshChallenge(send: Send, url: string): Promise<Challenge.Challenge> {
    const res = await plain(send)(new Request(url));
    await res.body?.cancel();
    const header = res.headers.get("WWW-Authenticate");
    const challenge = Challenge.parseAll(header ? [header] : []).find(
      (c) => c.method === "lightning" && c.intent === "session",
    );
    if (res.status !== 402 || !challenge)
      throw new SessionClientError(`${url} offered no lightning session challenge.`);
    return challenge;
  }

  /** A topUp credential: pays the fresh challenge's deposit invoice (§topUp). */
  async function topUpCredential(challenge: Challenge.Challenge): Promise<string> {
    const s = session;
    if (!s) throw new SessionClientError("No open session to top up.");
    const paid = await pay(challenge);
    const payload = { action: "topUp", sessionId: s.sessionId, topUpPreimage: paid.preimage };
    s.challenge = challenge;
    options.onProgress?.({ type: "topUp", sessionId: s.sessionId, amountSats: paid.depositSats });
    return Credential.serialize({ challenge, payload });
  }

  /** A close credential echoing `challenge` (§close); the session is forgotten once answered. */
  function closeCredential(challenge: Challenge.Challenge): string {
    const s = session;
    if (!s) throw new SessionClientError("No open session to close.");
    s.challenge = challenge;
    return Credential.serialize({ challenge, payload: { action: "close", ...owner(s) } });
  }

  /** Sends a management credential in the header its challenge named (draft-httpauth-payment-01). */
  async function managed<T>(
    send: Send,
    url: string,
    challenge: Challenge.Challenge,
    credential: string,
  ): Promise<T> {
    const headers = { [challenge.header ?? "Authorization"]: credential };
    const res = await plain(send)(new Request(url, { headers }));
    const body: unknown = await res.json().catch(() => null);
    if (res.status !== 200 || typeof body !== "object" || body === null) {
      const detail = (body as { detail?: unknown } | null)?.detail;
      throw new SessionClientError(
        `The server refused: ${typeof detail === "string" ? detail : res.status}`,
        res.status,
      );
    }
    return body as T;
  }

  return {
    name: "lightning",
    intent: "session",
    async createCredential({ challenge, request }) {
      if (session) {
        // A 402 while a session is open: its challenge is now the one to echo.
        session.challenge = challenge;
        return bearer(session);
      }
      const { preimage, paymentHash, depositSats } = await pay(challenge);
      const returned = await provider.createInvoice({
        amountMsat: 0,
        description: "ln402 session refund",
        expirySecs: options.returnInvoiceExpirySecs ?? 7 * 86_400,
      });
      // mpp-specs #311: a token routing nodes never see, registered by its hash.
      const offered = challenge.request.bearerToken;
      const bearerToken =
        offered === "offered" || offered === "required" ? bytesToHex(randomBytes(32)) : undefined;
      const payload = {
        action: "open",
        preimage,
        returnInvoice: returned.invoice,
        ...(bearerToken !== undefined && { bearerTokenHash: paymentHashOf(bearerToken) }),
      };
      const openCredential = Credential.serialize({ challenge, payload });
      // sessionId = the deposit's payment hash (§request); remembered before the open is
      // sent, so a deposit is never paid twice (a lost answer: resend `openCredential`).
      const origin = request ? new URL(request.url).origin : null;
      session = {
        sessionId: paymentHash,
        preimage,
        challenge,
        depositSats,
        origin,
        openCredential,
        ...(bearerToken !== undefined && { bearerToken }),
      };
      options.onProgress?.({ type: "opened", sessionId: paymentHash });
      return openCredential;
    },
    // The preimage is the session's bearer secret: never send it to another origin.
    // An expired challenge is not echoed: the request goes without, and its 402's fresh
    // challenge is echoed instead (createCredential).
    authorization: (url) =>
      session?.origin && new URL(url).origin === session.origin && live(session.challenge)
        ? { header: session.challenge.header ?? "Authorization", value: bearer(session) }
        : null,
    topUpCredential,
    closeCredential,
    async topUp(send, url) {
      if (!session) throw new SessionClientError("No open session to top up.");
      const challenge = await freshChallenge(send, url);
      const credential = await topUpCredential(challenge);
      const body = await managed<{ balanceSats: number; topUpSats: number }>(
        send,
        url,
        challenge,
        credential,
      );
      return { balanceSats: body.balanceSats, topUpSats: body.topUpSats };
    },
    async close(send, url) {
      const s = session;
      if (!s) throw new SessionClientError("No open session to close.");
      const challenge = await echoable(send, url, s);
      const body = await managed<CloseAnswer>(send, url, challenge, closeCredential(challenge));
      session = null;
      const { refundSats, refundStatus } = body;
      options.onProgress?.({ type: "closed", sessionId: s.sessionId, refundSats, refundStatus });
      return { refundSats, refundStatus };
    },
    getSession: () => session,
    resetSession() {
      session = null;
    },
  };
}
