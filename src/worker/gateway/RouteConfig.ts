import { isNonPublicHost } from "../../protocol/Hosts.ts";
import { isRecord } from "../../protocol/Schema.ts";

/**
 * A merchant's gateway routes as `PUT /merchants/:id/routes` takes them: parsed strictly
 * (unknown fields refused), every problem collected with the field it is about, so one
 * answer tells the merchant everything to fix. Pure: the caller says whether insecure
 * upstreams are allowed.
 *
 * Path patterns: `/` followed by segments. A literal segment matches itself exactly;
 * `:name` matches any one non-empty segment; a final `*` matches the rest of the path
 * (zero or more segments). Matching is on the raw (still percent-encoded) path.
 */

/** The protocols a route can offer: `x402` is lnbtc, `x402-legacy` is bip122, `mpp` is MPP lightning. */
export const PROTOCOLS = ["x402", "x402-legacy", "mpp"] as const;
/** A protocol a route offers. */
export type Protocol = (typeof PROTOCOLS)[number];

/** Methods a route can name; `*` is any method. */
export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "*"] as const;

/** A metered price: sats per upstream SSE event (a unit), from a prepaid deposit. */
export type SessionPrice = {
  type: "session";
  satsPerUnit: number;
  depositSats: number;
  idleTimeoutSecs: number;
};

/** What a route costs: per request, or per upstream SSE event within a prepaid session. */
export type RoutePrice = { type: "charge"; sats: number } | SessionPrice;

/** One validated gateway route. */
export type GatewayRoute = {
  method: (typeof METHODS)[number];
  path: string;
  /** Base URL: the request's path under `/gw/:merchantId` (and its query) is appended. */
  upstream: string;
  description: string;
  protocols: Protocol[];
  price: RoutePrice;
  mode: "enforce" | "dry-run";
};

/** A problem with one field of the submitted routes. */
export type RouteIssue = { field: string; detail: string };

/** The outcome of parsing a route list. */
export type ParsedRoutes =
  | { ok: true; routes: GatewayRoute[] }
  | { ok: false; issues: RouteIssue[] };

/** At most this many routes per merchant: each request scans them in order. */
export const MAX_ROUTES = 100;
const MAX_SATS = 10_000_000;
const ROUTE_KEYS = ["method", "path", "upstream", "description", "protocols", "price", "mode"];
const SEGMENT = /^(?::[A-Za-z_][A-Za-z0-9_]{0,31}|[A-Za-z0-9\-._~!$&'()+,;=@%]+)$/;

/** Parses `{ routes: [...] }`; the body must have no other member. */
export function parseRoutes(body: Record<string, unknown>, allowInsecure: boolean): ParsedRoutes {
  const issues: RouteIssue[] = [];
  for (const key of Object.keys(body))
    if (key !== "routes")
      issues.push({ field: key, detail: 'Unknown member; send { "routes": [...] }.' });
  const list = body.routes;
  if (!Array.isArray(list)) {
    issues.push({ field: "routes", detail: "Send an array of routes (it may be empty)." });
    return { ok: false, issues };
  }
  if (list.length > MAX_ROUTES)
    issues.push({ field: "routes", detail: `At most ${MAX_ROUTES} routes.` });
  const routes: GatewayRoute[] = [];
  const seen = new Set<string>();
  list.forEach((raw, i) => {
    const route = parseRoute(raw, `routes[${i}]`, allowInsecure, issues);
    if (!route) return;
    const key = routeKey(route);
    if (seen.has(key))
      issues.push({ field: `routes[${i}]`, detail: `A second route for ${key}; merge them.` });
    seen.add(key);
    routes.push(route);
  });
  return issues.length > 0 ? { ok: false, issues } : { ok: true, routes };
}

/** The name a route is known by in stats and logs: `METHOD /path`. */
export function routeKey(route: Pick<GatewayRoute, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}

function parseRoute(
  raw: unknown,
  at: string,
  allowInsecure: boolean,
  issues: RouteIssue[],
): GatewayRoute | null {
  if (!isRecord(raw)) {
    issues.push({ field: at, detail: "Each route must be an object." });
    return null;
  }
  const before = issues.length;
  const issue = (field: string, detail: string) => issues.push({ field: `${at}.${field}`, detail });
  for (const key of Object.keys(raw))
    if (!ROUTE_KEYS.includes(key))
      issue(key, `Unknown field; a route has ${ROUTE_KEYS.join(", ")}.`);
  const method = typeof raw.method === "string" ? raw.method.toUpperCase() : "";
  if (!(METHODS as readonly string[]).includes(method))
    issue("method", `Send one of ${METHODS.join(", ")}.`);
  const path = raw.path;
  if (typeof path !== "string" || !validPattern(path))
    issue(
      "path",
      'Send a pattern like "/v1/items/:id" or "/v1/*": "/" then segments, ":name" for one segment, a final "*" for the rest.',
    );
  const upstream =
    typeof raw.upstream === "string"
      ? upstreamProblem(raw.upstream, allowInsecure)
      : "Send the upstream base URL as a string.";
  if (upstream !== null) issue("upstream", upstream);
  const description = raw.description ?? "";
  if (
    typeof description !== "string" ||
    description.length > 200 ||
    [...description].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)
  )
    issue("description", "Send at most 200 characters of text, without control characters.");
  const protocols = raw.protocols ?? ["x402", "mpp"];
  const protocolsOk =
    Array.isArray(protocols) &&
    protocols.length > 0 &&
    new Set(protocols).size === protocols.length &&
    protocols.every((p) => (PROTOCOLS as readonly unknown[]).includes(p));
  if (!protocolsOk)
    issue(
      "protocols",
      `Send a non-empty list without repeats, drawn from ${PROTOCOLS.join(", ")}.`,
    );
  const price = parsePrice(raw.price, (field, detail) => issue(`price${field}`, detail));
  // Sessions are an MPP intent (draft-lightning-session-00): x402 has no session.
  if (price?.type === "session" && protocolsOk && !(protocols as unknown[]).includes("mpp"))
    issue("protocols", 'A session price is paid through MPP: include "mpp".');
  const mode = raw.mode ?? "enforce";
  if (mode !== "enforce" && mode !== "dry-run") issue("mode", 'Send "enforce" or "dry-run".');
  if (issues.length > before || price === null) return null;
  return {
    method: method as GatewayRoute["method"],
    path: path as string,
    upstream: (raw.upstream as string).replace(/\/+$/, ""),
    description: description as string,
    protocols: protocols as Protocol[],
    price,
    mode: mode as GatewayRoute["mode"],
  };
}

function parsePrice(
  raw: unknown,
  issue: (field: string, detail: string) => void,
): RoutePrice | null {
  const sats = (value: unknown) =>
    Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= MAX_SATS;
  if (!isRecord(raw)) {
    issue(
      "",
      'Send { "type": "charge", "sats": 21 } or { "type": "session", "satsPerUnit", "depositSats", "idleTimeoutSecs" }.',
    );
    return null;
  }
  const only = (keys: string[]) => {
    for (const key of Object.keys(raw))
      if (!keys.includes(key))
        issue(`.${key}`, `Unknown field; a ${String(raw.type)} price has ${keys.join(", ")}.`);
  };
  if (raw.type === "charge") {
    only(["type", "sats"]);
    if (!sats(raw.sats)) issue(".sats", `Send a whole number of sats from 1 to ${MAX_SATS}.`);
    return sats(raw.sats) ? { type: "charge", sats: raw.sats as number } : null;
  }
  if (raw.type === "session") {
    only(["type", "satsPerUnit", "depositSats", "idleTimeoutSecs"]);
    const idle = raw.idleTimeoutSecs;
    const idleOk =
      Number.isSafeInteger(idle) && (idle as number) >= 10 && (idle as number) <= 86_400;
    if (!sats(raw.satsPerUnit))
      issue(".satsPerUnit", `Send a whole number of sats from 1 to ${MAX_SATS}.`);
    if (!sats(raw.depositSats) || (raw.depositSats as number) < (raw.satsPerUnit as number))
      issue(".depositSats", "Send a whole number of sats, at least satsPerUnit.");
    if (!idleOk) issue(".idleTimeoutSecs", "Send a whole number of seconds from 10 to 86400.");
    if (!sats(raw.satsPerUnit) || !sats(raw.depositSats) || !idleOk) return null;
    return {
      type: "session",
      satsPerUnit: raw.satsPerUnit as number,
      depositSats: raw.depositSats as number,
      idleTimeoutSecs: idle as number,
    };
  }
  issue(".type", 'Send "charge" or "session".');
  return null;
}

function validPattern(path: string): boolean {
  if (!path.startsWith("/") || path.length > 256) return false;
  if (path === "/" || path === "/*") return true;
  const segments = path.slice(1).split("/");
  return segments.every((s, i) => (s === "*" ? i === segments.length - 1 : SEGMENT.test(s)));
}

/** Why an upstream base URL is refused, or null. */
export function upstreamProblem(raw: string, allowInsecure: boolean): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "Send an absolute URL such as https://api.example.com.";
  }
  if (url.protocol !== "https:" && !(allowInsecure && url.protocol === "http:"))
    return allowInsecure
      ? "Send an http(s) URL."
      : "Send an https URL (http is for development deployments only).";
  if (url.username || url.password)
    return "Send a URL without credentials; the upstream authenticates ln402 by the gateway secret header.";
  if (url.search || url.hash || raw.includes("?") || raw.includes("#"))
    return "Send a base URL without query or fragment; the request's own path and query are appended.";
  if (!allowInsecure && isNonPublicHost(url.hostname))
    return "Send a public host: loopback, private and local names are refused.";
  return null;
}

/** A route that matched a request, with the path to append to its upstream. */
export type RouteMatch = { route: GatewayRoute; index: number };

/** The first route whose method and pattern match `path` (raw, percent-encoded), or null. */
export function matchRoute(
  routes: readonly GatewayRoute[],
  method: string,
  path: string,
): RouteMatch | null {
  const segments = path === "/" ? [] : path.slice(1).split("/");
  for (const [index, route] of routes.entries()) {
    if (route.method !== "*" && route.method !== method.toUpperCase()) continue;
    if (patternMatches(route.path, segments)) return { route, index };
  }
  return null;
}

function patternMatches(pattern: string, segments: readonly string[]): boolean {
  const parts = pattern === "/" ? [] : pattern.slice(1).split("/");
  for (const [i, part] of parts.entries()) {
    if (part === "*") return true;
    const segment = segments[i];
    if (segment === undefined) return false;
    if (part.startsWith(":") ? segment === "" : part !== segment) return false;
  }
  return parts.length === segments.length;
}
