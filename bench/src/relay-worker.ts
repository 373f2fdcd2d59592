// SPDX-License-Identifier: Apache-2.0
/**
 * A party of the baseline, as a worker process of the benchmark: a grpc-js client with one
 * bidirectional `Pipe` stream to the relay. Unbatched, the sender writes each message as one
 * gRPC message; batched (`init.batch`), it packs messages into one gRPC message up to the same
 * bounds as a libargo multicall (`DEFAULT_SOCKET_TUNING`, or the bench's `--batch-*`) and writes
 * a partial batch at the end of the event-loop turn, as libargo sends what is queued when its
 * in-flight batch returns. When `write` returns false it waits for 'drain' before the next. The
 * receiver hands every payload it reads to the tally. No Argo semantics.
 */
import * as grpc from "@grpc/grpc-js";
import { once } from "node:events";
import { GRPC_MESSAGE_LIMITS, SESSION_FLOW_CONTROL_WINDOW } from "@hmx/proto";
import type { TransportInit } from "./ipc.js";
import {
  loadRelayService,
  ROLE_METADATA_KEY,
  type Frame,
  type RelayClient,
} from "./relay-proto.js";
import { runWorker, type ReceiverTransport, type SenderTransport } from "./worker-runtime.js";

const EMPTY = Buffer.alloc(0);

function connect(
  init: TransportInit,
  role: "sender" | "receiver",
): { client: RelayClient; call: grpc.ClientDuplexStream<Frame, Frame> } {
  if (init.kind !== "relay") throw new Error(`relay worker given a ${init.kind} transport`);
  const Relay = loadRelayService();
  const client = new Relay(
    init.address,
    grpc.credentials.createInsecure(),
    // The window hmx's guests ask for (SessionClient), so both systems ride the same settings.
    { ...GRPC_MESSAGE_LIMITS, "grpc-node.flow_control_window": SESSION_FLOW_CONTROL_WINDOW },
  ) as unknown as RelayClient;
  const md = new grpc.Metadata();
  md.set(ROLE_METADATA_KEY, role);
  const call = client.Pipe(md);
  return { client, call };
}

/** Resolves once the channel is connected, so that the first message does not pay for it. */
function ready(client: grpc.Client): Promise<void> {
  return new Promise((resolve, reject) => {
    client.waitForReady(Date.now() + 10_000, (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
}

runWorker({
  async sender(init) {
    const { client, call } = connect(init, "sender");
    await ready(client);
    const batch = init.kind === "relay" ? init.batch : undefined;
    let failure: Error | null = null;
    let writes = 0;
    let drains = 0;
    call.on("error", (err: Error) => (failure ??= err));
    call.on("data", () => undefined);
    const write = (frame: Frame): Promise<void> | undefined => {
      writes++;
      if (call.write(frame)) return undefined;
      drains++;
      return once(call, "drain").then(() => undefined);
    };
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let flushQueued = false;
    const writePending = (): Promise<void> | undefined => {
      if (pending.length === 0) return undefined;
      const frame = { payload: EMPTY, batch: pending };
      pending = [];
      pendingBytes = 0;
      return write(frame);
    };
    const transport: SenderTransport = {
      send(data) {
        if (failure !== null) return Promise.reject(failure);
        if (batch === undefined) return write({ payload: data });
        pending.push(data);
        pendingBytes += data.length;
        if (pending.length >= batch.maxMessages || pendingBytes >= batch.maxBytes) {
          return writePending();
        }
        if (!flushQueued) {
          flushQueued = true;
          setImmediate(() => {
            flushQueued = false;
            void writePending();
          });
        }
        return undefined;
      },
      async flush() {
        await writePending();
        // Everything written is in grpc-js's and the socket's hands once the buffer drained.
        if (call.writableNeedDrain) await once(call, "drain");
        if (failure !== null) throw failure;
      },
      counters: () => ({ writes, drains }),
      async close() {
        call.end();
        client.close();
        return Promise.resolve();
      },
    };
    return { transport };
  },

  async receiver(init, onMessage) {
    const { client, call } = connect(init, "receiver");
    await ready(client);
    let frames = 0;
    let registered: () => void = () => undefined;
    let refused: (err: Error) => void = () => undefined;
    const isRegistered = new Promise<void>((resolve, reject) => {
      registered = resolve;
      refused = reject;
    });
    call.on("data", (frame: Frame) => {
      // The relay's empty hello says this stream is registered as the receiver.
      const batch = frame.batch ?? [];
      if (frame.payload.length === 0 && batch.length === 0) {
        registered();
        return;
      }
      frames++;
      if (batch.length === 0) onMessage(frame.payload);
      for (const payload of batch) onMessage(payload);
    });
    call.on("error", (err: Error) => {
      refused(err);
    });
    const timer = setTimeout(() => {
      refused(new Error("the relay did not register the receiver within 10 s"));
    }, 10_000);
    try {
      await isRegistered;
    } finally {
      clearTimeout(timer);
    }
    const transport: ReceiverTransport = {
      counters: () => ({ frames }),
      async close() {
        call.end();
        client.close();
        return Promise.resolve();
      },
    };
    return { transport };
  },
});
