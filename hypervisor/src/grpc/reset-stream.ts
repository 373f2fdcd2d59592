// SPDX-License-Identifier: Apache-2.0
/**
 * Resets the HTTP/2 stream under a grpc-js server call (RST_STREAM CANCEL), which discards what
 * the stream still buffers. Ending a call with a status cannot do that: the status queues behind
 * the messages the client never read, and they stay in memory as long as the connection lives.
 *
 * grpc-js has no public API for it, so this walks its call objects (`call` → `nextCall` →
 * `stream`, as in grpc-js 1.10–1.14) to the Node `Http2Stream`; when the layout is not found it
 * does nothing and the buffers go when the connection does.
 */
import { constants } from "node:http2";

interface ResettableStream {
  close(code: number): void;
  readonly closed: boolean;
  readonly destroyed: boolean;
}

function isResettable(value: unknown): value is ResettableStream {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { close?: unknown }).close === "function" &&
    "rstCode" in value &&
    "closed" in value
  );
}

/** Returns true when a stream was found and reset. */
export function resetHttp2Stream(call: object): boolean {
  let node: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 8 && typeof node === "object" && node !== null; depth++) {
    const stream = (node as { stream?: unknown }).stream;
    if (isResettable(stream)) {
      if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
      return true;
    }
    node = (node as { nextCall?: unknown }).nextCall;
  }
  return false;
}
