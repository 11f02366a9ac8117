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
import { registerHooks } from "node:module";
import { pathToFileURL } from "node:url";
import { packageEntryUrls } from "../../../scripts/readme-snippets.ts";
import { serve } from "./serve.ts";

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
  if (url.origin === routes.inProcess) return firstAnswer(inProcess, request);
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

/** The answer of the first app that has the route (answers other than 404). */
async function firstAnswer(apps: App[], request: Request): Promise<Response> {
  let response = new Response("no example serves this", { status: 404 });
  for (const app of apps) {
    response = await app.fetch(request.clone());
    if (response.status !== 404) break;
  }
  return response;
}

/** The app an example file exports: its default (a Hono app) or `handler`. */
function appOf(module: Record<string, unknown>, file: string): App {
  const main = module.default as Partial<App> | undefined;
  if (main && typeof main.fetch === "function") return main as App;
  if (typeof module.handler === "function")
    return { fetch: module.handler as (request: Request) => Promise<Response> };
  throw new Error(`${file} exports neither a default app nor a handler`);
}

async function serveFiles(files: string[]): Promise<void> {
  const apps: App[] = [];
  for (const file of files) apps.push(appOf(await import(pathToFileURL(file).href), file));
  const served = await serve(
    {
      async fetch(request) {
        try {
          return await firstAnswer(apps, request);
        } catch (err) {
          process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
          return new Response("the example threw", { status: 500 });
        }
      },
    },
    routes.origin ? { publicOrigin: routes.origin } : {},
  );
  process.stdout.write(`${JSON.stringify({ url: served.url })}\n`);
}

async function run(files: string[]): Promise<void> {
  for (const file of files) {
    const module = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    if (routes.inProcess && ("default" in module || "handler" in module))
      inProcess.push(appOf(module, file));
  }
}

const [mode, ...files] = process.argv.slice(2);
if (mode === "serve") await serveFiles(files);
else if (mode === "run") await run(files);
else throw new Error(`usage: readmeRunner.ts serve|run <file…>, not ${mode}`);
