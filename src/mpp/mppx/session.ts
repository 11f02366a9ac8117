/**
 * lightning/session (draft-lightning-session-00) for mppx: ln402's session server and client
 * as mppx methods, with the controls the existing Lightning MPP SDK's users call
 * (`serve`, `deduct`, `waitForTopUp`; `topUp`, `close`, `getSession`, `resetSession`).
 */
import { Method, z } from "mppx";
import * as Credential from "../../protocol/mpp/Credential.ts";
import type { LightningProvider } from "../../providers/LightningProvider.ts";
import {
  type LightningSessionClient,
  type LightningSessionClientOptions,
  lightningSessionClient as ln402SessionClient,
} from "../session/client.ts";
import {
  type LightningSessionServer,
  type LightningSessionServerOptions,
  lightningSessionServer as ln402SessionServer,
} from "../session/server.ts";
import {
  fromMppx,
  type MppxChallenge,
  MppxProblem,
  type MppxServerOptions,
  scopeGuard,
  serverField,
} from "./shared.ts";

/**
 * lightning/session for mppx: every field but the route's price is optional, because mppx
 * parses the route options with this schema before the request hook mints the deposit
 * invoice. `bearerToken` and `serverId` are ln402's extensions (they must be listed: mppx
 * drops unknown request fields).
 */
export const mppxLightningSession = Method.from({
  name: "lightning",
  intent: "session",
  schema: {
    request: z.object({
      amount: z.string(),
      currency: z.string(),
      description: z.optional(z.string()),
      unitType: z.optional(z.string()),
      depositInvoice: z.optional(z.string()),
      paymentHash: z.optional(z.string()),
      depositAmount: z.optional(z.string()),
      idleTimeout: z.optional(z.string()),
      bearerToken: z.optional(z.string()),
      serverId: z.optional(z.string()),
    }),
    credential: { payload: z.record(z.string(), z.unknown()) },
  },
});

/** The controls a route uses besides the method itself. */
type SessionControls = Pick<LightningSessionServer, "deduct" | "waitForTopUp" | "serve"> & {
  /** The engine, for scheduling `closeIdle` / `nextIdleDeadline`. */
  readonly sessions: LightningSessionServer["sessions"];
  /** The session a paid request (open or bearer) is for, read from its credential; null when none. */
  sessionIdOf(request: Request): string | null;
};

/** The mppx session server method returned by `lightningSessionServer`. */
export type MppxLightningSessionServer = ReturnType<typeof toMppxSessionServerMethod>;

/**
 * ln402's lightning/session server method as an mppx server method, with its controls.
 * Sessions and consumed payments are scoped to this server (the realm and `serverId`);
 * topUp and close are answered by the method (mppx's `respond` hook), open and bearer
 * requests are served by the route.
 */
export function toMppxSessionServerMethod(
  method: LightningSessionServer,
  options: MppxServerOptions = {},
) {
  const serverId = options.serverId ?? "";
  const guard = scopeGuard(method, serverId);
  // The management body of a verified credential, read back by `respond` (same object).
  const answers = new WeakMap<object, Record<string, unknown>>();
  const mppxMethod = Method.toServer(mppxLightningSession, {
    async request({ credential, request }) {
      // A paid call echoes the challenge it paid; the route's price stays, so mppx's
      // pinned-field check refuses a cheaper route's challenge.
      if (credential) {
        const echoed = credential.challenge.request as typeof request;
        return { ...echoed, amount: request.amount, currency: request.currency };
      }
      if (request.currency !== "sat") throw new TypeError(`currency must be "sat"`);
      const minted = await method.createRequest({
        amount: request.amount,
        currency: "sat",
        ...(request.description !== undefined && { description: request.description }),
        ...(request.unitType !== undefined && { unitType: request.unitType }),
        ...(request.depositAmount !== undefined && { depositAmount: request.depositAmount }),
      });
      return { ...request, ...minted, ...serverField(serverId) } as typeof request;
    },
    async verify({ credential }) {
      const challenge = fromMppx(credential.challenge as MppxChallenge);
      guard(challenge);
      const verdict = await method.verify({
        credential: { challenge, payload: credential.payload },
        nowMs: Date.now(),
      });
      if (!verdict.ok) throw new MppxProblem(verdict.problem);
      if (verdict.body) answers.set(credential, verdict.body);
      const { status, method: name, timestamp, reference, ...rest } = verdict.receipt;
      return { ...rest, status, method: name, timestamp, reference };
    },
    async respond({ credential }) {
      const body = answers.get(credential);
      return body ? Response.json(body, { headers: { "Cache-Control": "no-store" } }) : undefined;
    },
  });
  const controls: SessionControls = {
    get sessions() {
      return method.sessions;
    },
    deduct: (sessionId, sats) => method.deduct(sessionId, sats),
    waitForTopUp: (sessionId, timeoutMs) => method.waitForTopUp(sessionId, timeoutMs),
    serve: (o) => method.serve(o),
    sessionIdOf,
  };
  return Object.defineProperties(
    mppxMethod,
    Object.getOwnPropertyDescriptors(controls),
  ) as typeof mppxMethod & SessionControls;
}

/** The session of an open or bearer credential (`sessionId` = the deposit's payment hash). */
function sessionIdOf(request: Request): string | null {
  const header =
    request.headers.get("Payment-Authorization") ?? request.headers.get("Authorization");
  if (!header) return null;
  try {
    const { challenge, payload } = Credential.parse(header);
    const id = payload.action === "open" ? challenge.request.paymentHash : payload.sessionId;
    return typeof id === "string" ? id : null;
  } catch {
    return null;
  }
}

/** Drop-in `lightningSessionServer(options)` for `Mppx.create({ methods })` (the existing SDK's shape). */
export function lightningSessionServer(
  options: LightningSessionServerOptions & MppxServerOptions,
): MppxLightningSessionServer {
  const { serverId, ...rest } = options;
  const method = ln402SessionServer(rest);
  return toMppxSessionServerMethod(method, serverId === undefined ? {} : { serverId });
}

/** A paying fetch as mppx's client gives it (`mppx.fetch`). */
type MppxFetch = (input: string, init?: RequestInit) => Promise<Response>;

/** The session controls of the mppx client method (the existing SDK's). */
type SessionClientControls = {
  /** Pays a fresh deposit invoice of `url` through `fetch` (§topUp); the server's answer. */
  topUp(fetch: MppxFetch, url: string): Promise<Response>;
  /** Closes the session through `fetch` (§close); the answer carries `refundSats`, `refundStatus`. */
  close(fetch: MppxFetch, url: string): Promise<Response>;
  getSession: LightningSessionClient["getSession"];
  resetSession: LightningSessionClient["resetSession"];
};

/** The mppx session client method returned by `lightningSessionClient`. */
export type MppxLightningSessionClient = ReturnType<typeof toMppxSessionClientMethod>;

/**
 * ln402's lightning/session client as an mppx client method. mppx answers every 402 by
 * asking the method for a credential, so `topUp` and `close` mark what the next one is
 * for, then fetch: the server's fresh challenge is what they echo (core -01).
 */
export function toMppxSessionClientMethod(client: LightningSessionClient) {
  let next: "topUp" | "close" | null = null;
  const mppxMethod = Method.toClient(mppxLightningSession, {
    async createCredential({ challenge }) {
      const ours = fromMppx(challenge as MppxChallenge);
      const action = next;
      next = null;
      if (action === "topUp") return client.topUpCredential(ours);
      if (action === "close") return client.closeCredential(ours);
      return client.createCredential({ challenge: ours });
    },
  });
  async function marked(action: "topUp" | "close", fetch: MppxFetch, url: string) {
    if (!client.getSession()) throw new Error(`No open session to ${action}.`);
    next = action;
    try {
      return await fetch(url);
    } finally {
      next = null;
    }
  }
  const controls: SessionClientControls = {
    topUp: (fetch, url) => marked("topUp", fetch, url),
    async close(fetch, url) {
      const res = await marked("close", fetch, url);
      // Forgotten only once the server closed it, so a failed close can be retried.
      if (res.ok) client.resetSession();
      return res;
    },
    getSession: () => client.getSession(),
    resetSession: () => client.resetSession(),
  };
  return Object.assign(mppxMethod, controls);
}

/** Drop-in `lightningSessionClient(provider, options)` for mppx's client (the existing SDK's shape). */
export function lightningSessionClient(
  provider: LightningProvider,
  options: LightningSessionClientOptions = {},
) {
  return toMppxSessionClientMethod(ln402SessionClient(provider, options));
}
