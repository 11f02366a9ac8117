/**
 * MPP `lightning` / `session` for `ln402 pay` (draft-lightning-session-00): pay the
 * deposit and open, read the answer (topping up when a metered stream asks, within
 * the cap), then close so the unspent deposit is refunded. A one-shot command has no
 * later request to spend the balance on, so it always closes.
 */
import { createPaymentFetch } from "../mpp/fetch.ts";
import { lightningSessionClient } from "../mpp/session/client.ts";
import { decodeInvoice } from "../protocol/bolt11/Bolt11.ts";
import { type Io, short, step } from "./io.ts";
import {
  lightningChallenges,
  type Paid,
  type PayContext,
  type PayScheme,
  replaying,
} from "./offer.ts";

function depositNetwork(res: Response): string | null {
  const [challenge] = lightningChallenges(res, "session");
  const invoice = challenge?.request.depositInvoice;
  if (typeof invoice !== "string") return null;
  try {
    return decodeInvoice(invoice).network;
  } catch {
    return null;
  }
}

/**
 * The answer to the paid open. ln402 (§open) answers `{ sessionId, status: "open" }`
 * instead of the resource; the resource then comes with the bearer credential. A server
 * that serves the resource on open is answered as is.
 */
async function content(opened: Response, again: () => Promise<Response> | null): Promise<Response> {
  if (!opened.ok || !(opened.headers.get("Content-Type") ?? "").includes("application/json"))
    return opened;
  const text = await opened.text();
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  const isOpen =
    typeof body === "object" && body !== null && (body as { status?: unknown }).status === "open";
  const next = isOpen ? again() : null;
  return next
    ? await next
    : new Response(text, {
        status: opened.status,
        statusText: opened.statusText,
        headers: opened.headers,
      });
}

/** The session scheme: open, stream (with top-ups inside the cap), close with refund. */
export const mppSession: PayScheme = {
  name: "MPP lightning session",
  offered: (res) => lightningChallenges(res, "session").length > 0,
  async pay(res: Response, ctx: PayContext): Promise<Paid> {
    const io: Io = ctx.io;
    let spentSats = 0;
    let paymentHash = "";
    // Read at each deposit check: a top-up may spend only what the cap has left.
    const options = {
      maxDepositSats: ctx.maxSats,
      onProgress(event: Parameters<NonNullable<SessionOptions["onProgress"]>>[0]) {
        if (event.type === "deposit") {
          step(io, "402", `MPP lightning session: deposit ${event.amountSats} sats`);
          step(io, "pay", `${event.amountSats} sats, payment hash ${short(event.paymentHash)}`);
          spentSats += event.amountSats;
          paymentHash ||= event.paymentHash;
        } else if (event.type === "opened") {
          step(io, "open", `session ${short(event.sessionId)}`);
        } else if (event.type === "topUp") {
          step(io, "top-up", `${event.amountSats} sats`);
        } else {
          step(io, "close", `refund ${event.refundSats} sats (${event.refundStatus})`);
        }
      },
    };
    const client = lightningSessionClient(ctx.wallet, options);
    const network = depositNetwork(res);
    const fetchPaid = createPaymentFetch({ methods: [client], fetch: replaying(res, ctx.send) });
    const response = await content(await fetchPaid(ctx.request()), () =>
      client.getSession() ? fetchPaid(ctx.request()) : null,
    );
    const url = ctx.request().url;
    const paid: Paid = {
      response,
      payment: {
        protocol: "mpp",
        scheme: "session",
        network,
        amountSats: 0,
        paymentHash,
        receipt: response.headers.get("Payment-Receipt"),
      },
      async onEvent(event) {
        if (event.event !== "payment-need-topup") return "continue";
        const left = ctx.maxSats - spentSats;
        if (left <= 0) {
          step(io, "top-up", `refused: the cap of ${ctx.maxSats} sats is spent`);
          return "stop";
        }
        options.maxDepositSats = left;
        try {
          await client.topUp(ctx.send, url);
          return "continue";
        } catch (err) {
          step(io, "top-up", `refused: ${err instanceof Error ? err.message : String(err)}`);
          return "stop";
        }
      },
      async finish() {
        paid.payment.amountSats = spentSats;
        if (!client.getSession()) return;
        const closed = await client.close(ctx.send, url);
        paid.payment.refundSats = closed.refundSats;
        paid.payment.refundStatus = closed.refundStatus;
      },
    };
    paid.payment.amountSats = spentSats;
    return paid;
  },
};

type SessionOptions = NonNullable<Parameters<typeof lightningSessionClient>[1]>;
