// SPDX-License-Identifier: Apache-2.0
/**
 * `node bench/dist/transport-floor.js [--messages N] [--size B] [--in-flight K] [--rounds R]
 * [--cpu-prof DIR]` (`npm run bench:transport`): what one message costs each side on the transports a Session
 * could ride, with no hmx code at all. An echo server per transport in a process of its own
 * (transport-floor-server.ts), this process the client: one long-lived stream, `K` messages of
 * `B` bytes kept in flight, `N` echoed per round; the kinds take turns round by round. Reported
 * per kind (medians of the rounds): messages per second, and the server's and the client's CPU
 * time per message; and each kind's CPU against grpc-js's, the transport the hypervisor serves
 * the Session on.
 *
 * Why it exists: hmx batches hypercalls into Session frames, and past that the frames
 * themselves are the cost (docs/performance.md, "The transport's floor"): this bench is the
 * profile behind that statement, reproducible on any machine.
 */
import * as grpc from "@grpc/grpc-js";
import { connect as connectH2, constants as h2 } from "node:http2";
import { once } from "node:events";
import { createConnection } from "node:net";
import type { Duplex } from "node:stream";
import { parseArgs } from "node:util";
import { distScript, killAll, spawnUntilReady } from "./children.js";
import { cpuSeconds } from "./proc-stat.js";
import { median } from "./stats.js";
import {
  FLOOR_METHOD,
  GRPC_FRAMING,
  messageSplitter,
  TCP_FRAMING,
  TRANSPORT_KINDS,
  type Framing,
  type TransportKind,
} from "./transport-floor-wire.js";

/** A stream to an echo server: `send` one message, `onEcho` for each that comes back. */
interface EchoClient {
  send(): void;
  onEcho(listener: () => void): void;
  close(): void;
}

/** Longest a round may take before the bench gives up on it (a hung server, not a slow one). */
const ROUND_TIMEOUT_MS = 60_000;
const WARMUP_MESSAGES = 2000;

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

/** Node flags that profile each server into `dir` (the client is this process). */
function profileFlags(dir: string | undefined): string[] {
  return dir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${dir}`];
}

function grpcClient(port: number, body: Buffer): Promise<EchoClient> {
  const identity = (b: Buffer): Buffer => b;
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const call = client.makeBidiStreamRequest<Buffer, Buffer>(FLOOR_METHOD, identity, identity);
  call.on("error", () => undefined);
  return Promise.resolve({
    send: () => call.write(body),
    onEcho: (listener) => call.on("data", listener),
    close: () => {
      call.end();
      client.close();
    },
  });
}

/**
 * An EchoClient over a byte stream of `framing`'s messages: each send writes `body` framed, each
 * whole message read back is an echo. Resolves once `connected` does.
 */
async function framedClient(
  stream: Duplex,
  framing: Framing,
  body: Buffer,
  connected: Promise<unknown>,
  close: () => void,
): Promise<EchoClient> {
  const framed = framing.frame(body);
  const listeners: (() => void)[] = [];
  stream.on(
    "data",
    messageSplitter(framing, () => {
      for (const l of listeners) l();
    }),
  );
  await connected;
  return {
    send: () => stream.write(framed),
    onEcho: (listener) => listeners.push(listener),
    close,
  };
}

function h2Client(port: number, body: Buffer): Promise<EchoClient> {
  const session = connectH2(`http://127.0.0.1:${port}`);
  const stream = session.request({
    [h2.HTTP2_HEADER_METHOD]: "POST",
    [h2.HTTP2_HEADER_PATH]: FLOOR_METHOD,
    [h2.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
    [h2.HTTP2_HEADER_TE]: "trailers",
  });
  stream.on("error", () => undefined);
  return framedClient(stream, GRPC_FRAMING, body, once(session, "connect"), () => {
    stream.end();
    session.close();
  });
}

function tcpClient(port: number, body: Buffer): Promise<EchoClient> {
  const socket = createConnection({ port, host: "127.0.0.1", noDelay: true });
  return framedClient(socket, TCP_FRAMING, body, once(socket, "connect"), () => {
    socket.destroy();
  });
}

const CLIENTS: Record<TransportKind, (port: number, body: Buffer) => Promise<EchoClient>> = {
  grpc: grpcClient,
  h2: h2Client,
  tcp: tcpClient,
};

/** A transport's server process and the one stream this client keeps to it. */
interface Row {
  readonly kind: TransportKind;
  readonly pid: number;
  readonly client: EchoClient;
  /** Set by `echoes` for the round in progress. */
  onEcho: () => void;
}

/** Sends `count` messages, `inFlight` at a time; resolves when every echo is back. */
function echoes(row: Row, count: number, inFlight: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let back = 0;
    const timer = setTimeout(() => {
      reject(new Error(`${row.kind}: ${back} of ${count} echoes in ${ROUND_TIMEOUT_MS} ms`));
    }, ROUND_TIMEOUT_MS);
    row.onEcho = () => {
      back++;
      if (sent < count) {
        sent++;
        row.client.send();
      }
      if (back === count) {
        clearTimeout(timer);
        resolve();
      }
    };
    for (; sent < Math.min(inFlight, count);) {
      sent++;
      row.client.send();
    }
  });
}

interface RoundFigures {
  readonly msgsPerSec: number;
  readonly serverUs: number;
  readonly clientUs: number;
}

async function round(row: Row, count: number, inFlight: number): Promise<RoundFigures> {
  const server0 = cpuSeconds(row.pid) ?? NaN;
  const client0 = process.cpuUsage();
  const t0 = performance.now();
  await echoes(row, count, inFlight);
  const seconds = (performance.now() - t0) / 1000;
  const client = process.cpuUsage(client0);
  return {
    msgsPerSec: count / seconds,
    serverUs: (((cpuSeconds(row.pid) ?? NaN) - server0) * 1e6) / count,
    clientUs: (client.user + client.system) / count,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      messages: { type: "string", default: "40000" },
      size: { type: "string", default: "2048" },
      "in-flight": { type: "string", default: "4" },
      rounds: { type: "string", default: "3" },
      "cpu-prof": { type: "string" },
    },
  });
  const messages = positiveInt("messages", values.messages);
  const size = positiveInt("size", values.size);
  const inFlight = positiveInt("in-flight", values["in-flight"]);
  const rounds = positiveInt("rounds", values.rounds);
  const body = Buffer.alloc(size, 0x5a);
  const rows: Row[] = [];
  for (const kind of TRANSPORT_KINDS) {
    const { child, ready } = await spawnUntilReady(
      process.execPath,
      [...profileFlags(values["cpu-prof"]), distScript("transport-floor-server.js"), kind],
      { env: process.env, cwd: process.cwd(), readyMsg: "listening", timeoutMs: 15_000 },
    );
    const client = await CLIENTS[kind](Number(ready["port"]), body);
    const row: Row = { kind, pid: child.pid ?? 0, client, onEcho: () => undefined };
    client.onEcho(() => {
      row.onEcho();
    });
    rows.push(row);
    child.once("exit", () => {
      client.close();
    });
  }
  console.log(
    `transport floor: ${messages} echoes of ${size} B per round, ${inFlight} in flight, ` +
      `${rounds} rounds, kinds in turn`,
  );
  const figures = new Map<TransportKind, RoundFigures[]>(TRANSPORT_KINDS.map((k) => [k, []]));
  for (const row of rows) await echoes(row, WARMUP_MESSAGES, inFlight);
  for (let r = 0; r < rounds; r++) {
    // Rotate the order so drift and warm-up favour no kind.
    for (const row of [...rows.slice(r % rows.length), ...rows.slice(0, r % rows.length)]) {
      const f = await round(row, messages, inFlight);
      figures.get(row.kind)?.push(f);
      console.log(
        `  round ${r + 1} ${row.kind.padEnd(4)} ${Math.round(f.msgsPerSec).toLocaleString("en-US")} msgs/s, ` +
          `server ${f.serverUs.toFixed(2)} µs/msg, client ${f.clientUs.toFixed(2)} µs/msg`,
      );
    }
  }
  const med = (kind: TransportKind, pick: (f: RoundFigures) => number): number =>
    median((figures.get(kind) ?? []).map(pick));
  const grpcServer = med("grpc", (f) => f.serverUs);
  const grpcClientUs = med("grpc", (f) => f.clientUs);
  console.log(
    "\n| transport | msgs/s | server µs/msg | client µs/msg | server CPU ÷ grpc-js | client CPU ÷ grpc-js |",
  );
  console.log("|---|--:|--:|--:|--:|--:|");
  for (const kind of TRANSPORT_KINDS) {
    const server = med(kind, (f) => f.serverUs);
    const client = med(kind, (f) => f.clientUs);
    console.log(
      `| ${kind} | ${Math.round(med(kind, (f) => f.msgsPerSec)).toLocaleString("en-US")} | ` +
        `${server.toFixed(2)} | ${client.toFixed(2)} | ${(server / grpcServer).toFixed(2)} | ` +
        `${(client / grpcClientUs).toFixed(2)} |`,
    );
  }
  for (const row of rows) row.client.close();
}

try {
  await main();
} finally {
  await killAll();
}
