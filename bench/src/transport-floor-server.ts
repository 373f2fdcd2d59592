// SPDX-License-Identifier: Apache-2.0
/**
 * `node bench/dist/transport-floor-server.js KIND`: the echo server of one transport-floor row
 * (transport-floor.ts), on a loopback port it prints as `{"msg":"listening","port":N}`. Every
 * kind echoes each message it gets on one long-lived stream, back on that stream:
 * - `grpc`: a grpc-js bidi-streaming method (identity serializers, so no protobuf work), which
 *   is how the hypervisor serves the Session stream;
 * - `h2`: node's http2 with the same gRPC framing (5-byte prefix, trailers) and nothing else;
 * - `tcp`: a plain socket with a 4-byte length prefix per message.
 * The rows differ only in what carries the bytes, so their CPU per message is the floor each
 * transport puts under any protocol built on it.
 */
import * as grpc from "@grpc/grpc-js";
import { createServer as createH2Server } from "node:http2";
import { createServer as createTcpServer, type AddressInfo, type Server } from "node:net";
import {
  FLOOR_METHOD,
  GRPC_FRAMING,
  messageSplitter,
  TCP_FRAMING,
  type TransportKind,
} from "./transport-floor-wire.js";

function serveGrpc(): Promise<number> {
  const identity = (b: Buffer): Buffer => b;
  const server = new grpc.Server();
  server.addService(
    {
      Echo: {
        path: FLOOR_METHOD,
        requestStream: true,
        responseStream: true,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Echo: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        call.on("data", (m: Buffer) => call.write(m));
        call.on("end", () => call.end());
      },
    },
  );
  return new Promise((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) => {
      if (err === null) resolve(port);
      else reject(err);
    });
  });
}

function listening(server: Server | ReturnType<typeof createH2Server>): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function serveH2(): Promise<number> {
  const server = createH2Server();
  server.on("stream", (stream) => {
    stream.respond(
      { ":status": 200, "content-type": "application/grpc" },
      { waitForTrailers: true },
    );
    stream.on(
      "data",
      messageSplitter(GRPC_FRAMING, (m) => stream.write(m)),
    );
    stream.on("wantTrailers", () => {
      stream.sendTrailers({ "grpc-status": "0" });
    });
    stream.on("end", () => stream.end());
  });
  return listening(server);
}

function serveTcp(): Promise<number> {
  const server = createTcpServer({ noDelay: true }, (socket) => {
    socket.on(
      "data",
      messageSplitter(TCP_FRAMING, (m) => socket.write(m)),
    );
    socket.on("error", () => socket.destroy());
  });
  return listening(server);
}

const SERVE: Record<TransportKind, () => Promise<number>> = {
  grpc: serveGrpc,
  h2: serveH2,
  tcp: serveTcp,
};

const kind = process.argv[2] as TransportKind;
const serve = SERVE[kind] as (() => Promise<number>) | undefined;
if (serve === undefined) {
  console.error(`transport-floor-server: unknown kind ${JSON.stringify(kind)}`);
  process.exit(2);
}
console.log(JSON.stringify({ msg: "listening", port: await serve() }));
// A clean exit on the bench's SIGTERM, so that `--cpu-prof` writes its profile.
process.once("SIGTERM", () => process.exit(0));
