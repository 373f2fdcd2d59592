// SPDX-License-Identifier: Apache-2.0
/**
 * What the hypervisor does to the HTTP/2 stream under a grpc-js server call, for which grpc-js
 * has no public API: reset it, and widen its connection's flow-control windows.
 *
 * The stream is found by walking grpc-js's call objects (`call` → `nextCall` → `stream`, as in
 * grpc-js 1.10–1.14) to the Node `Http2Stream`; when that layout is not found, nothing is done:
 * a stream that was not reset goes when its connection does, and windows that were not widened
 * only cost throughput.
 */
import { constants, type Http2Session } from "node:http2";

interface CallStream {
  close(code: number): void;
  readonly closed: boolean;
  readonly destroyed: boolean;
  readonly session?: Http2Session;
}

function isCallStream(value: unknown): value is CallStream {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as { close?: unknown }).close === "function" &&
    "rstCode" in value &&
    "closed" in value
  );
}

/** The Node HTTP/2 stream under a grpc-js server call, if grpc-js's layout is the known one. */
function http2StreamOf(call: object): CallStream | undefined {
  let node: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 8 && typeof node === "object" && node !== null; depth++) {
    const stream = (node as { stream?: unknown }).stream;
    if (isCallStream(stream)) return stream;
    node = (node as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * Resets the stream (RST_STREAM CANCEL), which discards what it still buffers. Ending a call
 * with a status cannot do that: the status queues behind the messages the client never read, and
 * they stay in memory as long as the connection lives. Returns true when a stream was found.
 */
export function resetHttp2Stream(call: object): boolean {
  const stream = http2StreamOf(call);
  if (stream === undefined) return false;
  if (!stream.closed && !stream.destroyed) stream.close(constants.NGHTTP2_CANCEL);
  return true;
}

/** Connections whose windows were widened already: each is widened once. */
const widened = new WeakSet<Http2Session>();

/**
 * Lets the peer of the call's connection send `windowBytes` on each stream (SETTINGS
 * INITIAL_WINDOW_SIZE, which also grows the streams already open, this one included) and
 * twice that on the connection, before it must wait for the hypervisor's WINDOW_UPDATE. Node's
 * default, 64 KiB each, makes a 256 KiB batch wait for three window round trips on its way in
 * (docs/performance.md, "Flow-control windows"). grpc-js's server has no option for it.
 *
 * What a peer can then make the hypervisor hold unread is bounded by the connection's window:
 * the hypervisor reads every stream eagerly except a Session whose queued batches are over
 * their budget (docs/budgets.md). Called for an authenticated Session only, so connections
 * from unauthenticated peers keep Node's defaults (docs/security.md). Returns true when the
 * connection's windows are (now) widened.
 */
export function widenFlowControl(call: object, windowBytes: number): boolean {
  const session = http2StreamOf(call)?.session;
  if (session === undefined || session.destroyed) return false;
  if (widened.has(session)) return true;
  try {
    session.setLocalWindowSize(2 * windowBytes);
    session.settings({ initialWindowSize: windowBytes });
  } catch {
    // A session closing under us (or too many SETTINGS unacknowledged): the windows only
    // cost throughput, so the call goes on with Node's defaults rather than failing, and the
    // connection's next Session tries again.
    return false;
  }
  widened.add(session);
  return true;
}
