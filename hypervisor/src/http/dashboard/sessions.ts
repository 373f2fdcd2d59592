// SPDX-License-Identifier: Apache-2.0
/**
 * Dashboard login sessions (DESIGN §3.4: the browser never carries the admin token in a URL).
 * A successful login gets a random 256-bit session id in an HttpOnly, SameSite=Strict cookie;
 * the service keeps only the id's SHA-256, so a memory dump does not hand out live sessions.
 * Sessions are few and short-lived: at most `maxSessions` (the oldest is forgotten first) and
 * each ends `ttlMs` after login, or at logout.
 */
import { createHash, randomBytes } from "node:crypto";

export const SESSION_COOKIE = "hmx_session";
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const DEFAULT_MAX_SESSIONS = 64;

export interface SessionOptions {
  readonly ttlMs?: number;
  readonly maxSessions?: number;
  /** Milliseconds now (tests pass their own clock). */
  readonly now?: () => number;
}

function idHash(id: string): string {
  return createHash("sha256").update(id).digest("base64url");
}

/** The value of cookie `name` in a `Cookie` header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export class DashboardSessions {
  /** Session id hash → expiry (ms); a Map keeps insertion order, oldest first. */
  readonly #expiries = new Map<string, number>();
  readonly #ttlMs: number;
  readonly #maxSessions: number;
  readonly #now: () => number;

  constructor(options: SessionOptions = {}) {
    this.#ttlMs = options.ttlMs ?? DEFAULT_SESSION_TTL_MS;
    this.#maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#expiries.size;
  }

  /** A new session; returns its id (the cookie value). */
  create(): string {
    const id = randomBytes(32).toString("base64url");
    while (this.#expiries.size >= this.#maxSessions) {
      const oldest = this.#expiries.keys().next().value;
      if (oldest === undefined) break;
      this.#expiries.delete(oldest);
    }
    this.#expiries.set(idHash(id), this.#now() + this.#ttlMs);
    return id;
  }

  /** Whether the request's `Cookie` header carries a live session. */
  valid(cookieHeader: string | undefined): boolean {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (id === undefined || id === "") return false;
    const key = idHash(id);
    const expiry = this.#expiries.get(key);
    if (expiry === undefined) return false;
    if (expiry <= this.#now()) {
      this.#expiries.delete(key);
      return false;
    }
    return true;
  }

  /** Ends the session the `Cookie` header names, if any. */
  end(cookieHeader: string | undefined): void {
    const id = cookieValue(cookieHeader, SESSION_COOKIE);
    if (id !== undefined) this.#expiries.delete(idHash(id));
  }

  /** The `Set-Cookie` value that installs a session id in the browser. */
  static setCookie(id: string): string {
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** The `Set-Cookie` value that removes it. */
  static clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}
