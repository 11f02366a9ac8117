// Adds package-lock.json entries for optional platform packages (e.g. @biomejs/cli-darwin-arm64,
// @cloudflare/workerd-windows-64) that the registry did not return when the lock was written.
// `npm ci` refuses a lock that lacks them even on platforms that skip them. Run after
// `npm install` changed dependencies:  node scripts/complete-lockfile.mjs
import { readFileSync, writeFileSync } from "node:fs";

const lock = JSON.parse(readFileSync("package-lock.json", "utf8"));
const packages = lock.packages;
const added = [];
for (const meta of Object.values(packages)) {
  for (const [dep, version] of Object.entries(meta.optionalDependencies ?? {})) {
    if (packages[`node_modules/${dep}`]) continue;
    const name = dep.split("/").pop();
    const os = /darwin/.test(name)
      ? "darwin"
      : /win32|windows/.test(name)
        ? "win32"
        : /android/.test(name)
          ? "android"
          : /linux/.test(name)
            ? "linux"
            : null;
    const cpu = /arm64/.test(name) ? "arm64" : /x64|-64$/.test(name) ? "x64" : null;
    if (!os || !cpu) {
      console.error(`cannot tell the platform of ${dep}; add it by hand`);
      continue;
    }
    const entry = {
      version,
      cpu: [cpu],
      ...(meta.dev ? { dev: true } : {}),
      license: meta.license,
      optional: true,
      os: [os],
    };
    if (/musl/.test(name)) entry.libc = ["musl"];
    packages[`node_modules/${dep}`] = entry;
    added.push(`${dep}@${version}`);
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
);
writeFileSync("package-lock.json", `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added ${added.join(", ")}` : "nothing to add");
