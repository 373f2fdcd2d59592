// SPDX-License-Identifier: Apache-2.0
/**
 * gRPC calls over a bare HTTP/2 session, for attackers that do what no well-behaved client
 * does: open calls and never read their replies. Node's HTTP/2 client only returns flow-control
 * credit for data that is read, so a stream left paused makes the server keep what it wrote.
 */
import { loadHypervisorProto } from "@hmx/proto";
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream } from "node:http2";

type Method = keyof ReturnType<
  typeof loadHypervisorProto
>["hmx"]["argo"]["v1"]["Hypervisor"]["service"];

/** A gRPC length-prefixed message: flag 0 (not compressed), 4-byte big-endian length, body. */
export function grpcFrame(body: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  frame.set(body, 5);
  return frame;
}

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
