// SPDX-License-Identifier: Apache-2.0
/**
 * The tunnel workload's flags, checked: `--listen ADDR --to PEER:APORT` (the entry side: local
 * connections go out over Argo) or `--serve APORT --connect ADDR` (the exit side: Argo
 * connections go on to a local server). ADDR is `tcp:HOST:PORT` or `unix:/PATH`; PEER is a
 * domid or a domain name (resolved when the tunnel starts). Every problem is one line naming
 * the flag and the value.
 */
import { DOMID_MAX } from "@hmx/proto/abi";

export type LocalAddress =
  | { readonly kind: "tcp"; readonly host: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

export type TunnelSpec =
  | {
      readonly mode: "entry";
      readonly listen: LocalAddress;
      readonly to: { readonly peer: number | string; readonly aport: number };
      readonly maxConnections: number;
    }
  | {
      readonly mode: "exit";
      readonly serve: number;
      readonly connect: LocalAddress;
      readonly maxConnections: number;
    };

export interface TunnelFlags {
  readonly listen?: string | undefined;
  readonly to?: string | undefined;
  readonly serve?: string | undefined;
  readonly connect?: string | undefined;
  readonly maxConnections?: string | undefined;
}

export const TUNNEL_FLAGS = ["listen", "to", "serve", "connect", "max-connections"] as const;

export const DEFAULT_MAX_CONNECTIONS = 64;
/** Each entry-side connection binds a ring; a domain has at most 128 (argo-spec §3.2). */
const MAX_CONNECTIONS_LIMIT = 100;

/** `tcp:127.0.0.1:6379`, `tcp:[::1]:80`, `unix:/run/x.sock`; a string naming the problem if bad. */
export function parseLocalAddress(flag: string, value: string): LocalAddress | string {
  const unix = /^unix:(\/[^\0]*)$/.exec(value);
  if (unix?.[1] !== undefined) return { kind: "unix", path: unix[1] };
  const tcp = /^tcp:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const port = Number(tcp?.[2]);
  if (tcp?.[1] === undefined || !(port >= 1 && port <= 65535)) {
    return `--${flag}: "${value}" is not tcp:HOST:PORT (port 1..65535) nor unix:/PATH`;
  }
  return { kind: "tcp", host: tcp[1].replace(/^\[|\]$/g, ""), port };
}

function parseAport(flag: string, value: string): number | string {
  const n = /^(0x[0-9a-fA-F]{1,8}|\d{1,10})$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > 0xffffffff) {
    return `--${flag}: "${value}" is not an Argo port in [1, 4294967295]`;
  }
  return n;
}

/** Parses the tunnel flags; pushes one line per problem and returns undefined if any. */
export function parseTunnelFlags(flags: TunnelFlags, problems: string[]): TunnelSpec | undefined {
  const before = problems.length;
  let maxConnections = DEFAULT_MAX_CONNECTIONS;
  if (flags.maxConnections !== undefined) {
    const n = /^\d+$/.test(flags.maxConnections) ? Number(flags.maxConnections) : Number.NaN;
    if (!(n >= 1 && n <= MAX_CONNECTIONS_LIMIT)) {
      problems.push(
        `--max-connections: "${flags.maxConnections}" is not an integer in [1, ${MAX_CONNECTIONS_LIMIT}]`,
      );
    } else maxConnections = n;
  }
  const entry = flags.listen !== undefined || flags.to !== undefined;
  const exit = flags.serve !== undefined || flags.connect !== undefined;
  if (entry && exit) {
    problems.push(
      "the tunnel is either --listen ADDR --to PEER:APORT or --serve APORT --connect ADDR, not both",
    );
    return undefined;
  }
  if (entry) {
    if (flags.listen === undefined)
      problems.push("--listen tcp:HOST:PORT|unix:/PATH is required with --to");
    if (flags.to === undefined) problems.push("--to PEER:APORT is required with --listen");
    if (flags.listen === undefined || flags.to === undefined) return undefined;
    const listen = parseLocalAddress("listen", flags.listen);
    if (typeof listen === "string") problems.push(listen);
    const m = /^([^:]+):([^:]+)$/.exec(flags.to);
    let to: { peer: number | string; aport: number } | undefined;
    if (m?.[1] === undefined || m[2] === undefined) {
      problems.push(
        `--to: "${flags.to}" is not PEER:APORT (a domid or domain name, then an Argo port)`,
      );
    } else {
      const aport = parseAport("to", m[2]);
      const peer = /^\d+$/.test(m[1]) ? Number(m[1]) : m[1];
      if (typeof peer === "number" && !(peer >= 1 && peer <= DOMID_MAX)) {
        problems.push(`--to: domid ${m[1]} in "${flags.to}" is not in [1, ${DOMID_MAX}]`);
      } else if (typeof aport === "string") problems.push(aport);
      else to = { peer, aport };
    }
    if (problems.length > before || typeof listen === "string" || to === undefined)
      return undefined;
    return { mode: "entry", listen, to, maxConnections };
  }
  if (exit) {
    if (flags.serve === undefined) problems.push("--serve APORT is required with --connect");
    if (flags.connect === undefined)
      problems.push("--connect tcp:HOST:PORT|unix:/PATH is required with --serve");
    if (flags.serve === undefined || flags.connect === undefined) return undefined;
    const serve = parseAport("serve", flags.serve);
    if (typeof serve === "string") problems.push(serve);
    const connect = parseLocalAddress("connect", flags.connect);
    if (typeof connect === "string") problems.push(connect);
    if (typeof serve === "string" || typeof connect === "string") return undefined;
    return { mode: "exit", serve, connect, maxConnections };
  }
  problems.push(
    "the tunnel workload needs --listen ADDR --to PEER:APORT, or --serve APORT --connect ADDR",
  );
  return undefined;
}
