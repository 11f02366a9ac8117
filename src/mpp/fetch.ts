/**
 * ln402's paying fetch for MPP (draft-httpauth-payment-00): on a 402 it reads the
 * Payment challenges, lets the first method that can pay one build a credential, and
 * retries once with it. Anything else (a second 402, a 400) is returned as is.
 */
import * as Challenge from "../protocol/mpp/Challenge.ts";

/** A client method: pays a challenge and returns the `Authorization` value. */
export interface PaymentClientMethod {
  readonly name: string;
  readonly intent: string;
  createCredential(args: { challenge: Challenge.Challenge }): Promise<string>;
}

/** Options of `createPaymentFetch`. */
export type PaymentFetchOptions = {
  methods: PaymentClientMethod[];
  /** The fetch to wrap, default `globalThis.fetch`. */
  fetch?: (input: Request) => Promise<Response>;
};

/** A fetch that pays Payment challenges with the given methods. */
export function createPaymentFetch(
  options: PaymentFetchOptions,
): (input: Request | string | URL, init?: RequestInit) => Promise<Response> {
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  return async (input, init) => {
    const request = new Request(input, init);
    // Keep an unread copy: the first attempt consumes the body.
    const retry = request.clone();
    const response = await send(request);
    if (response.status !== 402) return response;
    const challenges = Challenge.parseAll(
      response.headers.has("WWW-Authenticate")
        ? [response.headers.get("WWW-Authenticate") ?? ""]
        : [],
    );
    for (const challenge of challenges) {
      const method = options.methods.find(
        (m) => m.name === challenge.method && m.intent === challenge.intent,
      );
      if (!method) continue;
      const authorization = await method.createCredential({ challenge });
      retry.headers.set("Authorization", authorization);
      await response.body?.cancel();
      return send(retry);
    }
    return response;
  };
}
