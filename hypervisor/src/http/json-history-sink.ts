// SPDX-License-Identifier: Apache-2.0
/**
 * The WebSocket sink of `GET /v1/history` (the default JSON format): one event per text frame.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { ByteBatch } from "../observability/byte-batch.js";
import type { HistorySink } from "../observability/history.js";
import { closeWithGrace, writeFrames } from "./history-socket.js";

/** The longest header of an unmasked frame (one with a 64-bit length). */
const MAX_FRAME_HEADER = 10;

/** Writes a final unmasked text frame's header for `n` bytes at `at`; returns its length. */
function writeFrameHeader(buf: Buffer, at: number, n: number): number {
  buf[at] = 0x81; // FIN, text
  if (n < 126) {
    buf[at + 1] = n;
    return 2;
  }
  if (n < 65536) {
    buf[at + 1] = 126;
    buf.writeUInt16BE(n, at + 2);
    return 4;
  }
  buf[at + 1] = 127;
  buf.writeUInt32BE(0, at + 2);
  buf.writeUInt32BE(n, at + 6);
  return 10;
}

/**
 * A WebSocket as the history sees it. The frames of one pump are built here (unmasked text
 * frames, RFC 6455 §5.2) into one buffer and written to the upgraded socket as one chunk:
 * `ws.send` per event costs a frame object and two writes each. A binary record's line is
 * written straight into that buffer. `ws` still owns the
 * connection (handshake, close, ping/pong); with compression off its sender never holds data
 * back, so frames written to the socket here stay in order with its own, and
 * `ws.bufferedAmount` counts them too.
 */
export function jsonHistorySink(ws: WebSocket, socket: Duplex, closeGraceMs: number): HistorySink {
  const batch = new ByteBatch();
  return {
    get bufferedAmount() {
      return ws.bufferedAmount + batch.length;
    },
    send(event) {
      const at = batch.reserve(MAX_FRAME_HEADER + event.length);
      const header = writeFrameHeader(batch.buffer, at, event.length);
      batch.buffer.set(event, at + header);
      batch.advance(header + event.length);
    },
    sendLine(line) {
      // Written after the longest header it can need, then moved up if its header is shorter.
      const room = line.maxBytes < 65536 ? 4 : MAX_FRAME_HEADER;
      const at = batch.reserve(room + line.maxBytes);
      const buf = batch.buffer;
      const n = line.writeTo(buf, at + room);
      const header = writeFrameHeader(buf, at, n);
      if (header !== room) buf.copyWithin(at + header, at + room, at + room + n);
      batch.advance(header + n);
    },
    flush() {
      writeFrames(ws, socket, batch);
    },
    close(code, reason) {
      closeWithGrace(ws, code, reason, closeGraceMs);
    },
  };
}
