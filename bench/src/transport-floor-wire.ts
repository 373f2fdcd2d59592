// SPDX-License-Identifier: Apache-2.0
/**
 * What the transport-floor bench's client and servers share (transport-floor.ts,
 * transport-floor-server.ts): the echo method's path, the kinds of transport, and the splitting
 * of a byte stream into length-prefixed messages (gRPC's 5-byte prefix, big-endian length; the
 * plain socket's 4-byte little-endian one).
 */
export const FLOOR_METHOD = "/hmx.bench.TransportFloor/Echo";
export const TRANSPORT_KINDS = ["grpc", "h2", "tcp"] as const;
export type TransportKind = (typeof TRANSPORT_KINDS)[number];

/**
 * Calls `onMessage` with each whole message (prefix included) of a byte stream whose messages
 * start with a `prefix`-byte header, `lengthOf` reading the body length from it.
 */
export function messageSplitter(
  prefix: number,
  lengthOf: (buf: Buffer, at: number) => number,
  onMessage: (message: Buffer) => void,
): (chunk: Buffer) => void {
  let pending: Buffer | null = null;
  return (chunk) => {
    const buf = pending === null ? chunk : Buffer.concat([pending, chunk]);
    pending = null;
    let at = 0;
    while (buf.length - at >= prefix) {
      const end = at + prefix + lengthOf(buf, at);
      if (end > buf.length) break;
      onMessage(buf.subarray(at, end));
      at = end;
    }
    if (at < buf.length) pending = buf.subarray(at);
  };
}

export const grpcLength = (buf: Buffer, at: number): number => buf.readUInt32BE(at + 1);
export const tcpLength = (buf: Buffer, at: number): number => buf.readUInt32LE(at);
