import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The API a merchant puts behind the gateway, in plain `node:http` on 127.0.0.1: JSON and
 * SSE routes (`…/sse`: three events 20 ms apart; `…/events?n=N`: N events at once), a counter of calls, the headers of the last call, and `failNext` to make
 * the next calls answer 500.
 */
export type Upstream = {
  url: string;
  /** Calls per path (without the query). */
  calls: Map<string, number>;
  /** Headers of the most recent call. */
  lastHeaders: IncomingHttpHeaders;
  /** The next this-many calls answer 500. */
  failNext: number;
  total(): number;
  stop(): Promise<void>;
};

/** Starts the upstream on a free port. */
export async function startUpstream(): Promise<Upstream> {
  const state: Upstream = {
    url: "",
    calls: new Map(),
    lastHeaders: {},
    failNext: 0,
    total: () => [...state.calls.values()].reduce((a, b) => a + b, 0),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://upstream");
    state.calls.set(url.pathname, (state.calls.get(url.pathname) ?? 0) + 1);
    state.lastHeaders = req.headers;
    if (state.failNext > 0) {
      state.failNext--;
      res.writeHead(500, { "Content-Type": "text/plain" }).end("upstream broke");
      return;
    }
    if (url.pathname.endsWith("/events")) {
      // `?n=` events, at once: a metered session bills each one (the gateway reads as the client does).
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      const n = Number(url.searchParams.get("n") ?? "3");
      for (let i = 1; i <= n; i++) res.write(`data: {"i":${i}}\n\n`);
      res.end();
      return;
    }
    if (url.pathname.endsWith("/sse")) {
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      for (let i = 1; i <= 3; i++) {
        res.write(`data: {"n":${i}}\n\n`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      res.end();
      return;
    }
    const body = {
      path: url.pathname,
      query: url.search,
      method: req.method,
      body: Buffer.concat(chunks).toString("utf8"),
    };
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
