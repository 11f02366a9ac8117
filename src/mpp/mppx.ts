/**
 * `ln402/mpp/mppx`: ln402's Lightning methods as mppx (0.11) methods. Two ways in:
 * - a drop-in for users of the existing Lightning MPP SDK: `lightningChargeServer`,
 *   `lightningChargeClient`, `lightningSessionServer` and `lightningSessionClient` plug
 *   into `Mppx.create({ methods })` exactly as that SDK's do (only the imports change);
 * - adapters of ln402's own methods (`toMppxServerMethod`, `toMppxClientMethod`).
 * The only ln402 entry that imports mppx: the server core stays free of it (mppx/server
 * does not fit a Worker).
 */
import { Method, z } from "mppx";
import type { LightningProvider } from "../providers/LightningProvider.ts";
import {
  type LightningChargeServer,
  type LightningChargeServerOptions,
  lightningChargeServer as ln402ChargeServer,
} from "./charge.ts";
import {
  type LightningChargeClientOptions,
  lightningChargeClient as ln402ChargeClient,
} from "./chargeClient.ts";
import type { PaymentClientMethod } from "./fetch.ts";
import {
  fromMppx,
  type MppxChallenge,
  MppxProblem,
  type MppxServerOptions,
  scopeGuard,
  serverField,
} from "./mppx/shared.ts";

export {
  lightningSessionClient,
  lightningSessionServer,
  type MppxLightningSessionClient,
  type MppxLightningSessionServer,
  mppxLightningSession,
  toMppxSessionClientMethod,
  toMppxSessionServerMethod,
} from "./mppx/session.ts";
export type { MppxServerOptions } from "./mppx/shared.ts";

/**
 * lightning/charge for mppx. `methodDetails` is optional because mppx parses the route
 * options (amount, currency) with this schema before the request hook adds the invoice;
 * `serverId` is ln402's extension binding a challenge to its server.
 */
export const mppxLightningCharge = Method.from({
  name: "lightning",
  intent: "charge",
  schema: {
    request: z.object({
      amount: z.string(),
      currency: z.string(),
      description: z.optional(z.string()),
      methodDetails: z.optional(
        z.object({
          invoice: z.string(),
          paymentHash: z.optional(z.string()),
          network: z.optional(z.string()),
        }),
      ),
      serverId: z.optional(z.string()),
    }),
    credential: { payload: z.object({ preimage: z.string() }) },
  },
});

/**
 * ln402's lightning/charge server method as an mppx server method (`Mppx.create({ methods })`).
 * Its consumed payments are scoped to this server (the realm and `options.serverId`), and a
 * credential is accepted once, however many copies arrive at once (core -01 §concurrency).
 */
export function toMppxServerMethod(method: LightningChargeServer, options: MppxServerOptions = {}) {
  const serverId = options.serverId ?? "";
  const guard = scopeGuard(method, serverId);
  return Method.toServer(mppxLightningCharge, {
    // mppx runs this hook on every call, the paid one included: mint only for a new challenge,
    // and on a paid call rebuild the request the credential echoes (the route's price stays,
    // so mppx's pinned-field check refuses a cheaper route's challenge).
    async request({ credential, request }) {
      if (credential) {
        const echoed = credential.challenge.request as typeof request;
        return {
          ...request,
          methodDetails: echoed.methodDetails,
          ...(echoed.serverId !== undefined && { serverId: echoed.serverId }),
        };
      }
      if (request.currency !== "sat") throw new TypeError(`currency must be "sat"`);
      const minted = await method.createRequest({
        amount: request.amount,
        currency: "sat",
        ...(request.description !== undefined && { description: request.description }),
      });
      const methodDetails = minted.methodDetails as typeof request.methodDetails;
      return { ...request, methodDetails, ...serverField(serverId) };
    },
    async verify({ credential }) {
      const challenge = fromMppx(credential.challenge as MppxChallenge);
      guard(challenge);
      const verdict = await method.verify({
        credential: { challenge, payload: credential.payload },
        nowMs: Date.now(),
      });
      if (!verdict.ok) throw new MppxProblem(verdict.problem);
      const { status, method: name, timestamp, reference, ...rest } = verdict.receipt;
      return { ...rest, status, method: name, timestamp, reference };
    },
  });
}

/** ln402's lightning/charge client method as an mppx client method (`Mppx.create({ methods })`). */
export function toMppxClientMethod(method: PaymentClientMethod) {
  return Method.toClient(mppxLightningCharge, {
    createCredential: ({ challenge }) =>
      method.createCredential({ challenge: fromMppx(challenge as MppxChallenge) }),
  });
}

/** Drop-in `lightningChargeServer(options)` for `Mppx.create({ methods })` (the existing SDK's shape). */
export function lightningChargeServer(options: LightningChargeServerOptions & MppxServerOptions) {
  const { serverId, ...rest } = options;
  return toMppxServerMethod(ln402ChargeServer(rest), serverId === undefined ? {} : { serverId });
}

/** Drop-in `lightningChargeClient(provider, options)` for mppx's client (the existing SDK's shape). */
export function lightningChargeClient(
  provider: LightningProvider,
  options: LightningChargeClientOptions = {},
) {
  return toMppxClientMethod(ln402ChargeClient(provider, options));
}
