// SPDX-License-Identifier: Apache-2.0
/**
 * Toxiproxy 2.x's HTTP API (api.go there: its paths, JSON shapes, status codes and error body
 * `{"error": ..., "status": ...}`) over the link-fault engine, so unmodified Toxiproxy clients
 * drive hmx's links. The proxies are the guest domains' links: they cannot be created or
 * deleted here (POST /proxies answers Toxiproxy's error shape; DELETE clears a link's faults).
 * Like Toxiproxy it has no authentication: it listens on loopback unless told otherwise.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { LinkFaults, LinkView } from "./link-faults.js";
import { FaultRequestError, toxicJson } from "./toxic-spec.js";

/** The Toxiproxy release whose API this serves. */
export const TOXIPROXY_API_VERSION = "2.12.0";

/** Largest request body accepted (a populate of many proxies fits easily). */
const MAX_BODY_BYTES = 1024 * 1024;

interface Reply {
  status: number;
  body?: unknown;
}

function proxyJson(link: LinkView): Record<string, unknown> {
  return {
    name: link.name,
    listen: link.listen,
    upstream: link.upstream,
    enabled: link.enabled,
    toxics: link.toxics.map(toxicJson),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readBody(request: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    request.on("data", (part: Buffer) => {
      size += part.length;
      if (size > MAX_BODY_BYTES) {
        reject(new FaultRequestError(`bad request body: larger than ${MAX_BODY_BYTES} bytes`, 413));
        request.destroy();
      } else parts.push(part);
    });
    request.on("error", reject);
    request.on("end", () => {
      const text = Buffer.concat(parts).toString("utf8");
      if (text.trim() === "") {
        resolve(undefined);
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new FaultRequestError(`bad request body: ${(err as Error).message}`, 400));
      }
    });
  });
}

export class ToxiproxyApi {
  private readonly server: Server;

  constructor(private readonly faults: LinkFaults) {
    this.server = createServer((request, response) => {
      void this.handle(request, response);
    });
  }

  /** Listens on "host:port"; resolves with the bound address. */
  listen(address: string): Promise<string> {
    const i = address.lastIndexOf(":");
    const host = address.slice(0, i);
    return new Promise((resolve, reject) => {
      this.server.once("error", (err) => {
        reject(new Error(`cannot listen on ${address}: ${err.message}`, { cause: err }));
      });
      this.server.listen(Number(address.slice(i + 1)), host.replace(/^\[(.*)\]$/, "$1"), () => {
        const bound = this.server.address();
        resolve(typeof bound === "object" && bound !== null ? `${host}:${bound.port}` : address);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) =>
      this.server.close(() => {
        resolve();
      }),
    );
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let reply: Reply;
    try {
      const body =
        request.method === "POST" || request.method === "PATCH"
          ? await readBody(request)
          : undefined;
      reply = this.route(
        request.method ?? "GET",
        new URL(request.url ?? "/", "http://x").pathname,
        body,
      );
    } catch (err) {
      // Toxiproxy answers an unexpected failure 500 in the same shape; the service stays up.
      const status = err instanceof FaultRequestError ? err.status : 500;
      reply = { status, body: { error: (err as Error).message, status } };
    }
    if (reply.body === undefined) {
      response.writeHead(reply.status).end();
      return;
    }
    response
      .writeHead(reply.status, { "Content-Type": "application/json" })
      .end(`${JSON.stringify(reply.body)}\n`);
  }

  private route(method: string, path: string, body: unknown): Reply {
    const parts = path
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
    const [root, name, sub, toxicName, extra] = parts;
    const update = method === "POST" || method === "PATCH";
    if (extra === undefined) {
      if (root === "version" && parts.length === 1 && method === "GET")
        return { status: 200, body: { version: TOXIPROXY_API_VERSION } };
      if (root === "reset" && parts.length === 1 && method === "POST") {
        this.faults.reset();
        return { status: 204 };
      }
      if (root === "populate" && parts.length === 1 && method === "POST")
        return { status: 201, body: { proxies: this.populate(body) } };
      if (root === "proxies" && name === undefined) {
        if (method === "GET")
          return {
            status: 200,
            body: Object.fromEntries(this.faults.list().map((l) => [l.name, proxyJson(l)])),
          };
        if (method === "POST") this.refuseCreate(body);
      }
      if (root === "proxies" && name !== undefined && sub === undefined) {
        if (method === "GET") return { status: 200, body: proxyJson(this.faults.view(name)) };
        if (update) return { status: 200, body: proxyJson(this.updateProxy(name, body)) };
        if (method === "DELETE") {
          this.faults.clear(name);
          return { status: 204 };
        }
      }
      if (root === "proxies" && name !== undefined && sub === "toxics") {
        if (toxicName === undefined) {
          if (method === "GET")
            return { status: 200, body: this.faults.view(name).toxics.map(toxicJson) };
          if (method === "POST")
            return { status: 200, body: toxicJson(this.faults.addToxic(name, body)) };
        } else {
          if (method === "GET")
            return { status: 200, body: toxicJson(this.faults.toxic(name, toxicName)) };
          if (update)
            return {
              status: 200,
              body: toxicJson(this.faults.updateToxic(name, toxicName, body)),
            };
          if (method === "DELETE") {
            this.faults.removeToxic(name, toxicName);
            return { status: 204 };
          }
        }
      }
    }
    throw new FaultRequestError(`no route for ${method} ${path}`, 404);
  }

  /** Proxies cannot be created: each is a domain's link. Toxiproxy's answers, then ours. */
  private refuseCreate(body: unknown): never {
    if (!isRecord(body))
      throw new FaultRequestError("bad request body: expected a JSON object", 400);
    for (const field of ["name", "upstream"]) {
      if (typeof body[field] !== "string" || body[field] === "")
        throw new FaultRequestError(`missing required field: ${field}`, 400);
    }
    const name = String(body["name"]);
    if (this.faults.list().some((l) => l.name === name))
      throw new FaultRequestError(`proxy already exists: ${JSON.stringify(name)}`, 409);
    throw new FaultRequestError(
      `proxy ${JSON.stringify(name)} is not a guest domain's link: hmx's proxies are its domains' links (GET /proxies lists them) and no other can be created`,
      400,
    );
  }

  /** POST /proxies/{name}: `enabled` switches the link; `listen`/`upstream` cannot move. */
  private updateProxy(name: string, body: unknown): LinkView {
    if (!isRecord(body))
      throw new FaultRequestError("bad request body: expected a JSON object", 400);
    const current = this.faults.view(name);
    for (const field of ["listen", "upstream"] as const) {
      const value = body[field];
      if (value !== undefined && value !== current[field])
        throw new FaultRequestError(
          `bad request body: ${field} ${JSON.stringify(value)}: a link's ${field} is fixed by the hypervisor (${JSON.stringify(current[field])})`,
          400,
        );
    }
    const enabled = body["enabled"];
    if (enabled !== undefined && typeof enabled !== "boolean")
      throw new FaultRequestError(
        `bad request body: enabled ${JSON.stringify(enabled)}: expected true or false`,
        400,
      );
    if (enabled !== undefined) this.faults.setEnabled(name, enabled);
    return this.faults.view(name);
  }

  /** POST /populate: every entry checked first, then applied; an entry's `enabled` is set. */
  private populate(body: unknown): Record<string, unknown>[] {
    if (!Array.isArray(body))
      throw new FaultRequestError("bad request body: expected a JSON array of proxies", 400);
    for (const entry of body) {
      if (!isRecord(entry) || typeof entry["name"] !== "string")
        throw new FaultRequestError("missing required field: name", 400);
      this.faults.view(entry["name"]);
      if (entry["enabled"] !== undefined && typeof entry["enabled"] !== "boolean")
        throw new FaultRequestError(
          `bad request body: enabled ${JSON.stringify(entry["enabled"])}: expected true or false`,
          400,
        );
    }
    return (body as Record<string, unknown>[]).map((entry) => {
      const name = String(entry["name"]);
      if (typeof entry["enabled"] === "boolean") this.faults.setEnabled(name, entry["enabled"]);
      return proxyJson(this.faults.view(name));
    });
  }
}
