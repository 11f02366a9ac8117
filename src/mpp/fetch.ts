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
  createCredential(args: { challenge: Challenge.Challenge; request?: Request }): Promise<string>;
  /**
   * A credential to send up front, before any 402 (e.g. a session's bearer credential,
   * draft-lightning-session-00 §bearer), with the header its challenge named
   * (draft-httpauth-payment-01); null when the method has none for `url`.
   */
  authorization?(url: string): { header: string; value: string } | null;
}

/** Options of `createPaymentFetch`. */
export type PaymentFetchOptions = {
  methods: PaymentClientMethod[];
  /** The fetch to wrap, default `globalThis.fetch`. */
  fetch?: (input: Request) => Promise<Response>;
};

/** The paying fetch; `unpaid` is the fetch it wraps (session management requests go there). */
export type PaymentFetch = ((
  input: Request | string | URL,
  init?: RequestInit,
) => Promise<Response>) & {
  readonly unpaid: (input: Request) => Promise<Response>;
};

/** A fetch that pays Payment challenges with the given methods. */
export function createPaymentFetch(options: PaymentFetchOptions): PaymentFetch {
  const send = options.fetch ?? ((request: Request) => globalThis.fetch(request));
  const paying = async (input: Request | string | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.headers.has("Authorization") && !request.headers.has("Payment-Authorization")) {
      for (const method of options.methods) {
        const upFront = method.authorization?.(request.url);
        if (upFront) {
          request.headers.set(upFront.header, upFront.value);
          break;
        }
      }
    }
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
      const authorization = await method.createCredential({ challenge, request: retry });
      // draft-httpauth-payment-01: the challenge may name the header the credential goes in.
      retry.headers.set(challenge.header ?? "Authorization", authorization);
      await response.body?.cancel();
      return send(retry);
    }
    return response;
  };
  return Object.assign(paying, { unpaid: send });
}
