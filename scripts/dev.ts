/**
 * `npm run dev [-- <wrangler dev flags>]`: the Worker under `wrangler dev` on 127.0.0.1
 * with `ws://` relays and `http://` or local gateway upstreams allowed (for the devnet
 * and a local API) and the development key. The port is 8787 unless `--port N` or
 * `$PORT` says otherwise; every other flag goes to wrangler. It runs offline: no
 * `cf.json` download and no telemetry, unless the environment says otherwise.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const given = (flag: string) => args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));

const defaults = [
  ...(given("--ip") ? [] : ["--ip", "127.0.0.1"]),
  ...(given("--port") ? [] : ["--port", process.env.PORT ?? "8787"]),
  "--var",
  "ALLOW_INSECURE_RELAYS:true",
  "--var",
  "ALLOW_INSECURE_UPSTREAMS:true",
  "--var",
  "LN402_ENV:development",
];
// wrangler's own entry on this Node (the project's Node 22), as `npm run` would.
const child = spawn(
  process.execPath,
  [join(ROOT, "node_modules/wrangler/bin/wrangler.js"), "dev", ...defaults, ...args],
  {
    stdio: "inherit",
    cwd: ROOT,
    // Offline by default: no request.cf download, no telemetry; the user's settings win.
    env: { CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false", ...process.env },
  },
);
// Ctrl-C reaches wrangler through the terminal; stay alive until it has shut down.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => child.kill(signal));
}
child.once("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 1 : 0);
});
