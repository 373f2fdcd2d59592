// SPDX-License-Identifier: Apache-2.0
/**
 * A party of the baseline, as a worker process of the benchmark: a grpc-js client with one
 * bidirectional `Pipe` stream to the relay. The sender writes each message as one gRPC message
 * and, when `write` returns false, waits for 'drain' before the next; the receiver hands every
 * frame it reads to the tally. No Argo semantics, no batching beyond what grpc-js and HTTP/2
 * do by themselves.
 */
import * as grpc from "@grpc/grpc-js";
import { once } from "node:events";
import { GRPC_MESSAGE_LIMITS } from "@hmx/proto";
import type { TransportInit } from "./ipc.js";
import {
  loadRelayService,
  ROLE_METADATA_KEY,
  type Frame,
  type RelayClient,
} from "./relay-proto.js";
import { runWorker, type ReceiverTransport, type SenderTransport } from "./worker-runtime.js";

function connect(
  init: TransportInit,
  role: "sender" | "receiver",
): { client: RelayClient; call: grpc.ClientDuplexStream<Frame, Frame> } {
  if (init.kind !== "relay") throw new Error(`relay worker given a ${init.kind} transport`);
  const Relay = loadRelayService();
  const client = new Relay(
    init.address,
    grpc.credentials.createInsecure(),
    GRPC_MESSAGE_LIMITS,
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
    let failure: Error | null = null;
    let writes = 0;
    let drains = 0;
    call.on("error", (err: Error) => (failure ??= err));
    call.on("data", () => undefined);
    const transport: SenderTransport = {
      send(data) {
        if (failure !== null) return Promise.reject(failure);
        writes++;
        if (call.write({ payload: data })) return undefined;
        drains++;
        return once(call, "drain").then(() => undefined);
      },
      async flush() {
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
      if (frame.payload.length === 0) {
        registered();
        return;
      }
      frames++;
      onMessage(frame.payload);
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
