// SPDX-License-Identifier: Apache-2.0
/**
 * gRPC calls written by hand over node:http2, for attacks a well-behaved client library will not
 * make: compressed bodies of any size, calls that never half-close, connections that never call,
 * and calls whose replies are never read (Node's HTTP/2 client returns flow-control credit only
 * for data that is read, so a paused stream makes the server keep what it wrote).
 */
import { loadHypervisorProto } from "@hmx/proto";
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";
import { gzipSync } from "node:zlib";

/** One hand-made call and what the server said about it so far. */
export interface RawCall {
  readonly stream: ClientHttp2Stream;
  /** grpc-status the server answered, undefined while it has not. */
  status: number | undefined;
  /** The stream is closed (answered, reset, or its connection went away). */
  closed: Promise<void>;
}

/** A gRPC length-prefixed message; gzip-compressed (flag 1) when `gzip` is true. */
export function grpcFrame(message: Uint8Array, gzip = false): Buffer {
  const body = gzip ? gzipSync(message, { level: 9 }) : message;
  const header = Buffer.alloc(5);
  header.writeUInt8(gzip ? 1 : 0, 0);
  header.writeUInt32BE(body.length, 1);
  return Buffer.concat([header, body]);
}

/**
 * A `WriteMemoryRequest { gpa = 1; bytes data = 2 }` encoded by hand (no proto library, so a
 * test can make one of any size): gpa as a varint, data as a length-delimited field.
 */
export function writeMemoryRequest(gpa: number, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([0x08]),
    varint(gpa),
    Buffer.from([0x12]),
    varint(data.length),
    data,
  ]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v >= 0x80) {
    bytes.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** Opens an HTTP/2 connection to "host:port" and waits until it is up (or fails). */
export function openSession(address: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connect(`http://${address}`);
    session.once("connect", () => {
      session.off("error", reject);
      // The server may close the connection under the attack: that is not the driver's error.
      session.on("error", () => undefined);
      resolve(session);
    });
    session.once("error", reject);
  });
}

/**
 * Starts a call to `path` with `authorization` and, if given, one message frame; the stream is
 * never ended, so the call stays unfinished until the server answers it.
 */
export function startCall(
  session: ClientHttp2Session,
  path: string,
  authorization: string,
  frame?: Buffer,
): RawCall {
  const stream = session.request(
    {
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
      "grpc-encoding": "gzip",
      "grpc-accept-encoding": "identity",
      authorization,
    },
    { endStream: false },
  );
  const closed = new Promise<void>((resolve) => stream.once("close", resolve));
  const call: RawCall = { stream, status: undefined, closed };
  const record = (headers: Record<string, unknown>): void => {
    const status = headers["grpc-status"];
    if (status !== undefined) call.status = Number(status);
  };
  stream.on("response", record);
  stream.on("trailers", record);
  stream.on("error", () => undefined);
  // Read whatever comes so that flow control never holds up the server's answer.
  stream.resume();
  if (frame !== undefined) stream.write(frame);
  return call;
}

type Method = keyof ReturnType<
  typeof loadHypervisorProto
>["hmx"]["argo"]["v1"]["Hypervisor"]["service"];

/** Serializes a request of `method` as grpc-js would. */
export function serializeRequest(method: Method, request: unknown): Buffer {
  const definition = loadHypervisorProto().hmx.argo.v1.Hypervisor.service[method] as unknown as {
    requestSerialize: (value: unknown) => Buffer;
  };
  return definition.requestSerialize(request);
}

export class RawGrpcConnection {
  readonly session: ClientHttp2Session;
  private readonly streams: ClientHttp2Stream[] = [];

  constructor(address: string) {
    this.session = connect(`http://${address}`);
    this.session.on("error", () => undefined);
  }

  /**
   * Opens a call to `method` and writes `messages`; the stream is paused and never read unless
   * `read` is set. Resolves with the stream once its response headers arrived or it closed.
   */
  open(
    method: Method,
    credential: string | undefined,
    messages: readonly unknown[],
    options: { readonly halfClose?: boolean } = {},
  ): ClientHttp2Stream {
    const headers: Record<string, string> = {
      [constants.HTTP2_HEADER_METHOD]: "POST",
      [constants.HTTP2_HEADER_PATH]: `/hmx.argo.v1.Hypervisor/${method}`,
      [constants.HTTP2_HEADER_CONTENT_TYPE]: "application/grpc",
      te: "trailers",
    };
    if (credential !== undefined) headers["authorization"] = `Bearer ${credential}`;
    const stream = this.session.request(headers, { endStream: false });
    stream.on("error", () => undefined);
    stream.pause();
    for (const message of messages) stream.write(grpcFrame(serializeRequest(method, message)));
    if (options.halfClose !== false) stream.end();
    this.streams.push(stream);
    return stream;
  }

  /** Resolves with the stream's response headers (a trailers-only error carries grpc-status). */
  static headers(stream: ClientHttp2Stream): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      stream.once("response", (h) => {
        resolve(h);
      });
      stream.once("close", () => {
        resolve({});
      });
    });
  }

  close(): Promise<void> {
    for (const stream of this.streams) stream.close(constants.NGHTTP2_CANCEL);
    return new Promise((resolve) => {
      if (this.session.closed || this.session.destroyed) {
        resolve();
        return;
      }
      this.session.close(() => {
        resolve();
      });
      setTimeout(() => {
        this.session.destroy();
        resolve();
      }, 2000).unref();
    });
  }
}
