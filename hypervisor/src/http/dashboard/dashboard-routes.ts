// SPDX-License-Identifier: Apache-2.0
/**
 * The web dashboard's routes on the harness HTTP listener (docs/harness.md, "The dashboard"):
 *
 * - `GET /dashboard/`: the login form, or the dashboard once logged in;
 * - `POST /dashboard/login`: the admin token in a form body (never in a URL: DESIGN §3.4) buys
 *   an HttpOnly, SameSite=Strict session cookie; `POST /dashboard/logout` ends it;
 * - `GET /dashboard/assets/…`: the page's own ES modules and style sheet (nothing from a CDN);
 * - `GET /v1/state`: the JSON snapshot of `state.ts`, for a session or an admin bearer token.
 *
 * The session cookie is also accepted on the `/v1/history` WebSocket upgrade (`allows`). A
 * cookie-authenticated request must come from this origin (browsers always send `Origin` on
 * a POST and a WebSocket upgrade): SameSite=Strict already keeps the cookie off cross-site
 * requests, the Origin check keeps it so where a browser is lax.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { dashboardPage, loginPage, STYLE_SHEET } from "./pages.js";
import { DashboardSessions } from "./sessions.js";
import type { DashboardState } from "./web/state-types.js";

export interface DashboardOptions {
  /** Whether `token` is the admin token (constant time). */
  readonly isAdminToken: (token: string) => boolean;
  /** Whether the request carries `Authorization: Bearer <admin token>`. */
  readonly isAdminRequest: (req: IncomingMessage) => boolean;
  readonly readState: () => Promise<DashboardState>;
  readonly log: Logger;
  readonly sessions?: DashboardSessions;
}

/** A login form is a token and little else; anything longer is not one. */
export const MAX_LOGIN_BODY_BYTES = 4096;

/** Sent with every dashboard response: only this origin's scripts, styles and sockets. */
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  // Not no-referrer: under it Chromium sends the login form's POST with `Origin: null`.
  "referrer-policy": "same-origin",
  "cache-control": "no-store",
} as const;

const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
};

/** The compiled page modules (`web/*.js` beside this file in dist), read once at start. */
function loadAssets(): Map<string, string> {
  const assets = new Map<string, string>([["style.css", STYLE_SHEET]]);
  const dir = new URL("./web/", import.meta.url);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return assets; // Run from sources without a build: the page answers 404 for its modules.
  }
  for (const name of names)
    if (name.endsWith(".js")) assets.set(name, readFileSync(new URL(name, dir), "utf8"));
  return assets;
}

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": contentType, ...headers });
  res.end(body);
}

function html(res: ServerResponse, status: number, body: string): void {
  send(res, status, "text/html; charset=utf-8", body);
}

function json(res: ServerResponse, status: number, body: object): void {
  send(res, status, "application/json", `${JSON.stringify(body)}\n`);
}

/** Reads a request body of at most `limit` bytes; undefined when it is longer. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}

export class DashboardRoutes {
  readonly #o: DashboardOptions;
  readonly #sessions: DashboardSessions;
  readonly #assets = loadAssets();

  constructor(options: DashboardOptions) {
    this.#o = options;
    this.#sessions = options.sessions ?? new DashboardSessions();
  }

  /** Whether a request is cookie-authenticated: a live session, from this origin. */
  allows(req: IncomingMessage): boolean {
    return sameOrigin(req) && this.#sessions.valid(req.headers.cookie);
  }

  /** Serves the request if it is one of the dashboard's routes; false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
    if (pathname === "/v1/state") {
      this.#state(req, res);
      return true;
    }
    if (pathname === "/dashboard") {
      res.writeHead(308, { ...SECURITY_HEADERS, location: "/dashboard/" });
      res.end();
      return true;
    }
    if (!pathname.startsWith("/dashboard/")) return false;
    const method = req.method ?? "GET";
    const post = pathname === "/dashboard/login" || pathname === "/dashboard/logout";
    const allowed = post ? "POST" : "GET, HEAD";
    if (!allowed.split(", ").includes(method)) {
      send(
        res,
        405,
        "application/json",
        `${JSON.stringify({ error: `method ${method} not allowed on ${pathname}: use ${allowed}` })}\n`,
        { allow: allowed },
      );
      return true;
    }
    if (pathname === "/dashboard/login") void this.#login(req, res);
    else if (pathname === "/dashboard/logout") this.#logout(req, res);
    else if (pathname === "/dashboard/") {
      html(res, 200, this.allows(req) ? dashboardPage() : loginPage());
    } else if (pathname.startsWith("/dashboard/assets/")) {
      this.#asset(res, pathname.slice("/dashboard/assets/".length));
    } else {
      json(res, 404, { error: `no dashboard route ${pathname}: the dashboard is at /dashboard/` });
    }
    return true;
  }

  #asset(res: ServerResponse, name: string): void {
    const body = this.#assets.get(name);
    const type = CONTENT_TYPES[name.slice(name.lastIndexOf("."))];
    if (body === undefined || type === undefined) {
      json(res, 404, { error: `no dashboard asset ${JSON.stringify(name)}` });
      return;
    }
    send(res, 200, type, body);
  }

  #state(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== "GET" && req.method !== "HEAD") {
      send(res, 405, "application/json", `${JSON.stringify({ error: "/v1/state is GET" })}\n`, {
        allow: "GET, HEAD",
      });
      return;
    }
    if (!this.#o.isAdminRequest(req) && !this.allows(req)) {
      send(
        res,
        401,
        "application/json",
        `${JSON.stringify({ error: "log in at /dashboard/ or send 'Authorization: Bearer <admin token>'" })}\n`,
        { "www-authenticate": 'Bearer realm="hmx"' },
      );
      return;
    }
    this.#o.readState().then(
      (state) => {
        json(res, 200, state);
      },
      (err: unknown) => {
        this.#o.log.error({ err }, "dashboard state failed");
        json(res, 500, { error: "reading the state failed" });
      },
    );
  }

  async #login(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!sameOrigin(req)) {
      html(
        res,
        403,
        loginPage(`a login must come from this page's origin, not ${req.headers.origin ?? "?"}`),
      );
      return;
    }
    const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim();
    if (type !== "application/x-www-form-urlencoded") {
      html(
        res,
        415,
        loginPage(
          `a login is a form (application/x-www-form-urlencoded), not ${type === undefined || type === "" ? "no body" : type}`,
        ),
      );
      return;
    }
    const body = await readBody(req, MAX_LOGIN_BODY_BYTES);
    if (body === undefined) {
      html(res, 413, loginPage(`a login form is at most ${MAX_LOGIN_BODY_BYTES} bytes`));
      return;
    }
    const token = new URLSearchParams(body).get("token") ?? "";
    if (token === "" || !this.#o.isAdminToken(token)) {
      this.#o.log.warn({ remote: req.socket.remoteAddress }, "dashboard login refused");
      html(res, 401, loginPage("wrong admin token"));
      return;
    }
    const id = this.#sessions.create();
    this.#o.log.info(
      { remote: req.socket.remoteAddress, sessions: this.#sessions.size },
      "dashboard login",
    );
    res.writeHead(303, {
      ...SECURITY_HEADERS,
      location: "/dashboard/",
      "set-cookie": DashboardSessions.setCookie(id),
    });
    res.end();
  }

  #logout(req: IncomingMessage, res: ServerResponse): void {
    if (sameOrigin(req)) this.#sessions.end(req.headers.cookie);
    res.writeHead(303, {
      ...SECURITY_HEADERS,
      location: "/dashboard/",
      "set-cookie": DashboardSessions.clearCookie(),
    });
    res.end();
  }
}

/** No `Origin` (not a browser, or a same-origin GET) or this listener's own origin. */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  return origin === undefined || origin === `http://${req.headers.host ?? ""}`;
}
