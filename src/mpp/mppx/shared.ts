/**
 * What the mppx adapters share: ln402 problems as mppx errors, mppx challenges as ln402's,
 * and the guard that scopes a method to the one server (realm and `serverId`) it serves.
 */
import { Errors } from "mppx";
import type * as Challenge from "../../protocol/mpp/Challenge.ts";
import * as Problems from "../../protocol/mpp/Problems.ts";
import { scopeOf } from "../keys.ts";

/** An ln402 problem as an mppx PaymentError, so mppx renders the same problem body. */
export class MppxProblem extends Errors.PaymentError {
  override readonly name = "MppxProblem";
  readonly type: string;
  readonly title: string;
  override readonly status: number;
  constructor(problem: Problems.PaymentProblem) {
    super(problem.detail);
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
  }
}

/** The challenge fields mppx hands a method (it adds `meta`, the decoded `opaque`). */
export type MppxChallenge = {
  id: string;
  realm: string;
  method: string;
  intent: string;
  request: Record<string, unknown>;
  expires?: string | undefined;
  description?: string | undefined;
  digest?: string | undefined;
  opaque?: string | undefined;
  header?: string | undefined;
};

/**
 * mppx's challenge as ln402's. `header` is kept: it is HMAC-bound (draft-httpauth-payment-01),
 * so a credential that dropped it would never verify at a server that asked for it.
 */
export function fromMppx(c: MppxChallenge): Challenge.Challenge {
  const out: Challenge.Challenge = {
    id: c.id,
    realm: c.realm,
    method: c.method,
    intent: c.intent,
    request: c.request,
  };
  for (const key of ["expires", "description", "digest", "opaque", "header"] as const) {
    const v = c[key];
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Options every mppx server method of ln402 takes. */
export type MppxServerOptions = {
  /**
   * This server's identity within its realm. mppx servers that share a Store, a secret and
   * a realm MUST each set a distinct one: it is bound into every challenge request
   * (`serverId`, HMAC-covered) and scopes every Store key. Default "".
   */
  serverId?: string;
};

/**
 * The guard a verify runs first: the challenge names this server (its `serverId`), and the
 * method's Store keys are scoped to its realm and id. mppx has already checked the HMAC
 * and pinned the realm to this request's, so the realm is this server's own. A method serves
 * one realm: set `realm` in `Mppx.create` when the server answers under several hostnames.
 */
export function scopeGuard(method: { bind?(scope: string): void }, serverId: string) {
  return (challenge: { realm: string; request: Record<string, unknown> }): void => {
    if ((challenge.request.serverId ?? "") !== serverId) {
      throw new MppxProblem(
        Problems.invalidChallenge(
          "The echoed challenge was issued by another server; pay the fresh challenge.",
        ),
      );
    }
    try {
      method.bind?.(scopeOf(challenge.realm, serverId));
    } catch {
      throw new MppxProblem(
        Problems.invalidChallenge(
          `This payment method already serves another realm than "${challenge.realm}"; the server should set one realm in Mppx.create.`,
        ),
      );
    }
  };
}

/** The request extension that binds a challenge to its server (absent for the default ""). */
export const serverField = (serverId: string) => (serverId ? { serverId } : {});
