// SPDX-License-Identifier: Apache-2.0
/**
 * The connecting side of a stream (the Linux driver's connector). Each connection binds its own
 * receive ring whose only partner is the listener's domain, sends SYN with its connection id and
 * credit to the listener's port, and waits for ACK (open) or RST (refused). Everything the
 * listener sends comes from the listener's port into this ring; frames for another connection
 * id get an RST back, as in the Linux driver. MAC and the firewall are asked at the SYN's sendv:
 * a denial fails `connect` with EACCES naming the peer and port.
 */
import { randomInt } from "node:crypto";
import type { ArgoAddr } from "../../hypercall/hypercall-client.js";
import type { ArgoEndpoint } from "../argo-endpoint.js";
import type { DgramSocket } from "../dgram-socket.js";
import { StreamConnection } from "./connection.js";
import { decodeFrame, encodeFrame, FRAME_HEADER_SIZE, FrameType, ResetReason } from "./frame.js";
import { sendFailure } from "./stream-error.js";
import { maxPayloadForRing, resolveTuning, type StreamTuning } from "./tuning.js";

export interface ConnectOptions extends StreamTuning {
  /** How long to wait for the listener's ACK; default 5000 ms. */
  readonly connectTimeoutMs?: number;
  /** Aborting before the connection is open fails `connect` with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Opens a stream to `peer` (a listener's domain and port). Resolves once it is open. */
export async function connectStream(
  endpoint: ArgoEndpoint,
  peer: ArgoAddr,
  options: ConnectOptions = {},
): Promise<StreamConnection> {
  const t = resolveTuning(options);
  // A connection sends at most a window at a time: a staging buffer of one window (not the
  // datagram default of 256 KiB) keeps a connection at 48 guest pages with the default ring.
  const socket = await endpoint.bind({
    partner: peer.domainId,
    ringLen: t.ringLen,
    maxBatchBytes: Math.max(t.window, t.maxSegment) + FRAME_HEADER_SIZE,
  });
  const connId = randomInt(1, 0xffffffff);
  let released: Promise<void> = Promise.resolve();
  const conn = new StreamConnection(
    {
      connId,
      local: socket.address,
      peer,
      send: (frame) => socket.sendTo(peer, frame),
      window: t.window,
      maxSegment: t.maxSegment,
      keepaliveMs: t.keepaliveMs,
      keepaliveProbes: t.keepaliveProbes,
      // The ring lives exactly as long as the connection needs it.
      onFinished: () => {
        released = socket.close();
      },
    },
    "connecting",
  );
  void receiveLoop(socket, conn, peer);
  const timeoutMs = options.connectTimeoutMs ?? 5000;
  const timer = setTimeout(() => {
    conn.timeout(`no answer to SYN within ${timeoutMs} ms`);
  }, timeoutMs);
  const onAbort = (): void => {
    conn.destroy();
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    await socket.sendTo(
      peer,
      encodeFrame({
        type: FrameType.SYN,
        connId,
        credit: conn.advertisedCredit,
        seq: maxPayloadForRing(t.ringLen),
      }),
    );
  } catch (err) {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    conn.destroy();
    await released;
    throw sendFailure(err, socket.address, peer, "connect");
  }
  try {
    await conn.established;
  } catch (err) {
    await released;
    if (options.signal?.aborted === true) throw options.signal.reason as Error;
    throw err;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
  return conn;
}

async function receiveLoop(
  socket: DgramSocket,
  conn: StreamConnection,
  peer: ArgoAddr,
): Promise<void> {
  for await (const m of socket) {
    // The ring's partner is the listener's domain (the hypervisor enforces it); the port is ours
    // to check.
    if (m.source.aport !== peer.aport) continue;
    const frame = decodeFrame(m.data);
    if (typeof frame === "string") continue;
    if (frame.connId !== conn.connId) {
      if (frame.type !== FrameType.RST) {
        void socket
          .sendTo(
            m.source,
            encodeFrame({
              type: FrameType.RST,
              connId: frame.connId,
              reason: ResetReason.UNKNOWN_CONNECTION,
            }),
          )
          .catch(() => undefined);
      }
      continue;
    }
    conn.handle(frame);
  }
}
