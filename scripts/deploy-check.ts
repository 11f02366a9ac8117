/**
 * `npm run deploy:check`: builds the Worker exactly as `wrangler deploy` would, offline
 * (`wrangler deploy --dry-run --outdir`), and reports the bundle's size against the
 * Workers limits. Nothing is uploaded and no Cloudflare account is needed.
 * Exit 1 when the build fails or the compressed bundle is over the paid-plan limit.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Workers script size limits, compressed (developers.cloudflare.com/workers/platform/limits). */
const FREE_LIMIT = 3 * 1024 * 1024;
const PAID_LIMIT = 10 * 1024 * 1024;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

const outdir = mkdtempSync(join(tmpdir(), "ln402-bundle-"));
try {
  const built = spawnSync(
    process.execPath,
    [
      join(ROOT, "node_modules/wrangler/bin/wrangler.js"),
      "deploy",
      "--dry-run",
      "--outdir",
      outdir,
      ...process.argv.slice(2),
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  if (built.status !== 0) {
    process.stderr.write(built.stdout + built.stderr);
    process.stderr.write("deploy:check: wrangler could not build the Worker (output above)\n");
    process.exit(1);
  }
  let raw = 0;
  let gzip = 0;
  for (const name of readdirSync(outdir)) {
    // Source maps and wrangler's README are not uploaded as code.
    if (name.endsWith(".map") || name === "README.md") continue;
    const bytes = readFileSync(join(outdir, name));
    raw += bytes.length;
    gzip += gzipSync(bytes, { level: 9 }).length;
    process.stdout.write(`${name.padEnd(16)} ${kib(bytes.length)}\n`);
  }
  process.stdout.write(
    `bundle           ${kib(raw)} (gzip ${kib(gzip)}); Workers limit: 3 MiB gzip on the free plan, 10 MiB on paid\n`,
  );
  if (gzip > PAID_LIMIT) {
    process.stderr.write("deploy:check: the bundle is over the Workers size limit\n");
    process.exit(1);
  }
  if (gzip > FREE_LIMIT) process.stderr.write("deploy:check: over the free plan's limit\n");
} finally {
  rmSync(outdir, { recursive: true, force: true });
}
