// SPDX-License-Identifier: Apache-2.0
/**
 * What both history sinks (json-history-sink.ts, binary-history-sink.ts) do with the upgraded
 * socket: write a pump's frames as one chunk, and close a subscriber that may never read.
 */
import type { Duplex } from "node:stream";
import { WebSocket } from "ws";
import type { ByteBatch } from "../observability/byte-batch.js";

/**
 * Writes the batch's frames to the socket as one chunk; its buffer is reused once written. A
 * socket no longer open drops them (the subscriber is gone or closing).
 */
export function writeFrames(ws: WebSocket, socket: Duplex, batch: ByteBatch): void {
  if (batch.length === 0) return;
  if (ws.readyState !== WebSocket.OPEN) {
    batch.clear();
    return;
  }
  const frames = batch.take();
  socket.write(frames, () => {
    batch.recycle(frames);
  });
}

/** Sends the close frame; a peer that never reads never answers it either, so it is cut later. */
export function closeWithGrace(ws: WebSocket, code: number, reason: string, graceMs: number): void {
  ws.close(code, reason);
  setTimeout(() => {
    ws.terminate();
  }, graceMs).unref();
}
