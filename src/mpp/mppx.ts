/**
 * Adapters between ln402's lightning/charge methods and the reference library mppx
 * (0.11), so either side can talk to the other. The only ln402 file that imports mppx:
 * the server core stays free of it (mppx/server does not fit a Worker).
 */
import { Errors, Method, z } from "mppx";
import type * as Challenge from "../protocol/mpp/Challenge.ts";
import type { PaymentProblem } from "../protocol/mpp/Problems.ts";
import type { LightningChargeServer } from "./charge.ts";
import type { PaymentClientMethod } from "./fetch.ts";

/**
 * lightning/charge for mppx. `methodDetails` is optional because mppx parses the route
 * options (amount, currency) with this schema before the request hook adds the invoice.
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
    }),
    credential: { payload: z.object({ preimage: z.string() }) },
  },
});

/** An ln402 problem as an mppx PaymentError, so mppx renders the same problem body. */
class MppxProblem extends Errors.PaymentError {
  override readonly name = "MppxProblem";
  readonly type: string;
  readonly title: string;
  override readonly status: number;
  constructor(problem: PaymentProblem) {
    super(problem.detail);
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
  }
}

type MppxChallenge = {
  id: string;
  realm: string;
  method: string;
  intent: string;
  request: Record<string, unknown>;
  expires?: string | undefined;
  description?: string | undefined;
  digest?: string | undefined;
  opaque?: string | undefined;
};

/** mppx's challenge as ln402's (mppx adds `meta`, a decoded `opaque`, which the wire never carries). */
function fromMppx(c: MppxChallenge): Challenge.Challenge {
  const out: Challenge.Challenge = {
    id: c.id,
    realm: c.realm,
    method: c.method,
    intent: c.intent,
    request: c.request,
  };
  for (const key of ["expires", "description", "digest", "opaque"] as const) {
    const v = c[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** ln402's lightning/charge server method as an mppx server method (`Mppx.create({ methods })`). */
export function toMppxServerMethod(method: LightningChargeServer) {
  return Method.toServer(mppxLightningCharge, {
    // mppx runs this hook on every call, the paid one included: mint only for a new challenge,
    // and on a paid call rebuild the request the credential echoes.
    async request({ credential, request }) {
      if (credential) {
        const echoed = credential.challenge.request as { methodDetails?: unknown };
        return { ...request, methodDetails: echoed.methodDetails as typeof request.methodDetails };
      }
      if (request.currency !== "sat") throw new TypeError(`currency must be "sat"`);
      const minted = await method.createRequest({
        amount: request.amount,
        currency: "sat",
        ...(request.description !== undefined && { description: request.description }),
      });
      return { ...request, methodDetails: minted.methodDetails as typeof request.methodDetails };
    },
    async verify({ credential }) {
      const verdict = await method.verify({
        credential: {
          challenge: fromMppx(credential.challenge as MppxChallenge),
          payload: credential.payload,
        },
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
