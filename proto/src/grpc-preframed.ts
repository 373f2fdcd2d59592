// SPDX-License-Identifier: Apache-2.0
/**
 * gRPC messages written with room for their own length prefix, so that grpc-js sends them
 * without copying them once more.
 *
 * On the wire every gRPC message is a 5-byte prefix (a compressed flag, then the length as a
 * big-endian u32) and the message (the gRPC HTTP/2 protocol's Length-Prefixed-Message). grpc-js
 * builds it by allocating a new Buffer of length + 5 and copying the serialized message behind
 * the prefix: on the server in `BaseServerInterceptingCall.serializeMessage`, on a client in the
 * identity (uncompressed) handler's `writeMessage`. For the Session's large frames — a send
 * batch of up to 512 KiB, a VIRQ event carrying 1 MiB of ring — that copy and that allocation
 * were about a fifth of the hypervisor's copying at 64 KiB (docs/performance.md, "Framing in
 * place").
 *
 * The Session's hand-written codecs allocate every frame with 5 spare bytes in front
 * (`preframedBuffer`); `installPreframedWrites` makes those two grpc-js methods write the prefix
 * into the spare bytes and send the frame where it lies. Any other message (a frame protobufjs
 * encoded, a toolstack reply) is framed by a copy as before: on a client by grpc-js's own
 * method, on the server by `framedMessage`, which does what grpc-js's did (the server never
 * compresses a response). grpc-js has no public API for this, so the methods are found on its
 * classes (grpc-js 1.10–1.14); when they are not where expected nothing is patched, and frames
 * are copied as before. grpc-preframed.test.ts checks against the installed grpc-js that both
 * kinds of frame arrive byte for byte, both ways.
 */
import { createRequire } from "node:module";

/** The gRPC length prefix: a compressed flag and a big-endian u32 length. */
export const GRPC_PREFIX_BYTES = 5;

/** Frames whose 5 bytes in front are theirs to be written (only `preframedBuffer`'s). */
const preframed = new WeakSet<Uint8Array>();

/** How the frames grpc-js sent since the process started were framed. */
const counts = { inPlace: 0, copied: 0 };

/**
 * An uninitialized Buffer of `size` bytes with `GRPC_PREFIX_BYTES` spare bytes in front, which
 * grpc-js may frame in place. The caller must not change it once it was handed to grpc-js.
 */
export function preframedBuffer(size: number): Buffer {
  const frame = Buffer.allocUnsafe(GRPC_PREFIX_BYTES + size).subarray(GRPC_PREFIX_BYTES);
  preframed.add(frame);
  return frame;
}

/** The gRPC message for `message`: in place when it is a `preframedBuffer`, else a copy. */
export function framedMessage(message: Buffer): Buffer {
  let out: Buffer;
  if (preframed.has(message)) {
    out = Buffer.from(
      message.buffer,
      message.byteOffset - GRPC_PREFIX_BYTES,
      message.length + GRPC_PREFIX_BYTES,
    );
    counts.inPlace++;
  } else {
    out = Buffer.allocUnsafe(message.length + GRPC_PREFIX_BYTES);
    message.copy(out, GRPC_PREFIX_BYTES);
    counts.copied++;
  }
  out[0] = 0; // not compressed
  out.writeUInt32BE(message.length, 1);
  return out;
}

/** Frames sent in place and by copy (`framedMessage`) since the process started. */
export function preframedCounts(): Readonly<typeof counts> {
  return { ...counts };
}

/** `BaseServerInterceptingCall.prototype`: `serializeMessage(value)` frames a response. */
interface ServerCallProto {
  serializeMessage: (
    this: { handler: { serialize(value: unknown): Buffer } },
    value: unknown,
  ) => Buffer;
}

/** The identity handler's prototype: `writeMessage(message, compress)` frames a request. */
interface IdentityHandlerProto {
  writeMessage: (this: unknown, message: Buffer, compress: boolean) => Promise<Buffer>;
}

interface GrpcInternals {
  readonly server: ServerCallProto | undefined;
  readonly client: IdentityHandlerProto | undefined;
}

function hasMethod(value: unknown, key: string): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as Record<string, unknown>)[key] === "function"
  );
}

/** grpc-js's two framing methods, found from the copy of grpc-js this package resolves. */
function grpcInternals(): GrpcInternals {
  const require = createRequire(import.meta.url);
  const base = require.resolve("@grpc/grpc-js");
  const load = (file: string): unknown => {
    try {
      return createRequire(base)(file);
    } catch {
      return undefined;
    }
  };
  const serverModule = load("./server-interceptors.js") as
    { BaseServerInterceptingCall?: { prototype?: unknown } } | undefined;
  const serverProto = serverModule?.BaseServerInterceptingCall?.prototype;
  const filterModule = load("./compression-filter.js") as
    | { CompressionFilter?: new (options: object, shared: object) => { sendCompression?: unknown } }
    | undefined;
  let clientProto: unknown;
  try {
    // The identity handler's class is not exported; a fresh filter holds one.
    const filter = filterModule?.CompressionFilter
      ? new filterModule.CompressionFilter({}, {})
      : undefined;
    clientProto =
      filter?.sendCompression === undefined
        ? undefined
        : Object.getPrototypeOf(filter.sendCompression);
  } catch {
    clientProto = undefined;
  }
  return {
    server: hasMethod(serverProto, "serializeMessage")
      ? (serverProto as ServerCallProto)
      : undefined,
    client: hasMethod(clientProto, "writeMessage")
      ? (clientProto as IdentityHandlerProto)
      : undefined,
  };
}

let installed: { server: boolean; client: boolean } | undefined;

/**
 * Makes grpc-js frame `preframedBuffer`s in place, on the server side and the client side;
 * idempotent. Returns which side was patched (false: grpc-js's layout was not the known one, or
 * `HMX_PREFRAMED_WRITES=0` asked for grpc-js's own copies; either way frames are copied as
 * before).
 */
export function installPreframedWrites(): { server: boolean; client: boolean } {
  if (installed !== undefined) return installed;
  // HMX_PREFRAMED_WRITES=0 keeps grpc-js's copies (an A/B switch for benchmarks).
  if (process.env["HMX_PREFRAMED_WRITES"] === "0") {
    return (installed = { server: false, client: false });
  }
  const { server, client } = grpcInternals();
  if (server !== undefined) {
    server.serializeMessage = function (value) {
      return framedMessage(this.handler.serialize(value));
    };
  }
  if (client !== undefined) {
    const original = client.writeMessage;
    client.writeMessage = function (message, compress) {
      // The identity handler never compresses: its frames are the message behind the prefix.
      if (preframed.has(message)) return Promise.resolve(framedMessage(message));
      counts.copied++;
      return original.call(this, message, compress);
    };
  }
  installed = { server: server !== undefined, client: client !== undefined };
  return installed;
}
