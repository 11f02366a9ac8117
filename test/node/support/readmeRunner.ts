/**
 * Runs README examples as a user would run the files, in a process of their own:
 *
 *   node readmeRunner.ts serve <file…>   serves each file's app over HTTP, prints {"url"}
 *   node readmeRunner.ts run <file…>     imports the files in order and lets them finish
 *
 * The examples are unchanged; only the network under them is rerouted, from the JSON in
 * `README_ROUTES`, because they name public hosts that stand for the user's own:
 * - `fetch` to an origin in `http` goes to the local server standing in for it
 *   (`https://ln402.example` → `wrangler dev`), path and query kept;
 * - `fetch` to the `inProcess` origin is answered by the apps of the example files
 *   imported earlier in `run` (for examples whose two halves share a process);
 * - a WebSocket to a URL starting with a key of `sockets` goes to the local relay.
 * `ln402/*` imports resolve to this checkout's sources (package.json's exports).
 *
 * `serve` builds each request's URL on the public origin it stands for (`origin`), as
 * a TLS-terminating proxy would, so the app sees the URL its clients used.
 */
import { createServer, type IncomingMessage } from "node:http";
import { registerHooks } from "node:module";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { packageEntryUrls } from "../../../scripts/readme-snippets.ts";

type Routes = {
  http?: Record<string, string>;
  /** `run`: the origin the apps of the files imported so far answer. */
  inProcess?: string;
  sockets?: Record<string, string>;
  /** `serve`: the public origin its requests are addressed to. */
  origin?: string;
};

type App = { fetch(request: Request): Response | Promise<Response> };

const routes = JSON.parse(process.env.README_ROUTES ?? "{}") as Routes;

const entries = packageEntryUrls();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const url = entries[specifier];
    return url ? { url, shortCircuit: true } : nextResolve(specifier, context);
  },
});

/** The apps of files imported so far by `run`, answering `routes.inProcess`. */
const inProcess: App[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const request = new Request(input, init);
  const url = new URL(request.url);
  if (url.origin === routes.inProcess) {
    let response: Response | undefined;
    for (const app of inProcess) {
      response = await app.fetch(request.clone());
      if (response.status !== 404) break;
    }
    return response ?? new Response("no app", { status: 502 });
  }
  const target = routes.http?.[url.origin];
  if (!target) return realFetch(request);
  const body =
    request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer();
  return realFetch(`${target}${url.pathname}${url.search}`, {
    method: request.method,
    headers: request.headers,
    body,
    redirect: request.redirect,
    signal: request.signal,
  });
};

const RealWebSocket = globalThis.WebSocket;
globalThis.WebSocket = class extends RealWebSocket {
  constructor(url: string | URL, protocols?: ConstructorParameters<typeof RealWebSocket>[1]) {
    let href = String(url);
    for (const [from, to] of Object.entries(routes.sockets ?? {}))
      if (href.startsWith(from)) href = to + href.slice(from.length);
    super(href, protocols);
  }
};

/** The app an example file exports: its default (a Hono app) or `handler`. */
function appOf(module: Record<string, unknown>, file: string): App {
  const main = module.default as Partial<App> | undefined;
  if (main && typeof main.fetch === "function") return main as App;
  if (typeof module.handler === "function")
    return { fetch: module.handler as (request: Request) => Promise<Response> };
  throw new Error(`${file} exports neither a default app nor a handler`);
}

function toRequest(req: IncomingMessage, origin: string, body: Buffer): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers))
    for (const one of Array.isArray(value) ? value : value === undefined ? [] : [value])
      headers.append(name, one);
  const method = req.method ?? "GET";
  return new Request(`${origin}${req.url ?? "/"}`, {
    method,
    headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body: new Uint8Array(body) }),
  });
}

async function serve(files: string[]): Promise<void> {
  const apps: App[] = [];
  for (const file of files) apps.push(appOf(await import(pathToFileURL(file).href), file));
  const origin = routes.origin ?? "http://127.0.0.1";
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let response: Response | undefined;
    try {
      for (const app of apps) {
        response = await app.fetch(toRequest(req, origin, Buffer.concat(chunks)));
        if (response.status !== 404) break;
      }
    } catch (err) {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      response = new Response("the example threw", { status: 500 });
    }
    if (!response) return void res.writeHead(404).end();
    res.writeHead(response.status, [...response.headers].flat());
    if (response.body) for await (const chunk of response.body) res.write(chunk);
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
}

async function run(files: string[]): Promise<void> {
  for (const file of files) {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    if (routes.inProcess && ("default" in module || "handler" in module))
      inProcess.push(appOf(module, file));
  }
}

const [mode, ...files] = process.argv.slice(2);
if (mode === "serve") await serve(files);
else if (mode === "run") await run(files);
else throw new Error(`usage: readmeRunner.ts serve|run <file…>, not ${mode}`);
