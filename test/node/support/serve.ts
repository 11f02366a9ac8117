import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

/** A fetch-style app (Hono and friends) served over real HTTP on 127.0.0.1, a free port. */
export type Served = { url: string; stop(): Promise<void> };

function toRequest(req: IncomingMessage, origin: string, body: Buffer): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value])
      headers.append(name, one);
  }
  const method = req.method ?? "GET";
  return new Request(`${origin}${req.url ?? "/"}`, {
    method,
    headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body: new Uint8Array(body) }),
  });
}

/**
 * Serves `app` until `stop()`; responses are streamed as the app produces them (SSE works).
 * Requests are addressed to `publicOrigin` when given (as behind a TLS-terminating proxy
 * for that origin), else to the local URL.
 */
export async function serve(
  app: { fetch(request: Request): Response | Promise<Response> },
  options: { publicOrigin?: string } = {},
): Promise<Served> {
  let origin = "";
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const response = await app.fetch(
      toRequest(req, options.publicOrigin ?? origin, Buffer.concat(chunks)),
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: origin,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
