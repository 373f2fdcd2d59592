// SPDX-License-Identifier: Apache-2.0
/**
 * What the transport-floor bench's client and servers share (transport-floor.ts,
 * transport-floor-server.ts): the echo method's path, the kinds of transport, and the two
 * length-prefixed framings with the splitting of a byte stream into their messages.
 */
export const FLOOR_METHOD = "/hmx.bench.TransportFloor/Echo";
export const TRANSPORT_KINDS = ["grpc", "h2", "tcp"] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number];

/** How a byte stream carries messages: a `prefix`-byte header holding the body's length. */
export interface Framing {
  readonly prefix: number;
  lengthOf(buf: Buffer, at: number): number;
  /** `body` with its header in front. */
  frame(body: Buffer): Buffer;
}

/** gRPC's: a compressed-flag byte, then the length big-endian. */
export const GRPC_FRAMING: Framing = {
  prefix: 5,
  lengthOf: (buf, at) => buf.readUInt32BE(at + 1),
  frame: (body) => {
    const framed = Buffer.alloc(5 + body.length);
    framed.writeUInt32BE(body.length, 1);
    body.copy(framed, 5);
    return framed;
  },
};

/** The plain socket's: the length little-endian. */
export const TCP_FRAMING: Framing = {
  prefix: 4,
  lengthOf: (buf, at) => buf.readUInt32LE(at),
  frame: (body) => {
    const framed = Buffer.alloc(4 + body.length);
    framed.writeUInt32LE(body.length, 0);
    body.copy(framed, 4);
    return framed;
  },
};

/**
 * Calls `onMessage` with each whole message (header included) of a byte stream of `framing`'s
 * messages, however the reads cut them.
 */
export function messageSplitter(
  framing: Framing,
  onMessage: (message: Buffer) => void,
): (chunk: Buffer) => void {
  const { prefix } = framing;
  let pending: Buffer | null = null;
  return (chunk) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    let at = 0;
    while (buf.length - at >= prefix) {
      const end = at + prefix + framing.lengthOf(buf, at);
      if (end > buf.length) break;
      onMessage(buf.subarray(at, end));
      at = end;
    }
    if (at < buf.length) pending = buf.subarray(at);
  };
}
