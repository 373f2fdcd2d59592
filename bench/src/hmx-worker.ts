// SPDX-License-Identifier: Apache-2.0
/**
 * A guest on the hmx path, as a worker process of the benchmark: it connects to the hypervisor
 * with its domain credential over the Session stream (`SessionClient`), creates its libargo
 * endpoint and binds one datagram socket. As the receiver it binds the ring (aport, partner =
 * the sender's domid) and hands every datagram to the tally; as the sender it sends with
 * `sendTo` and lets the socket batch, stage and retry on -EAGAIN. The sender keeps a bounded
 * number of sends outstanding (a message count and a byte budget) so that a saturated phase
 * queues neither unbounded memory nor unbounded latency.
 */
import type { TransportInit } from "./ipc.js";
import { ArgoEndpoint, SessionClient, type DgramSocket } from "./guest-lib.js";
import { BatchTimings, timedClient } from "./timed-client.js";
import { runWorker, type ReceiverTransport, type SenderTransport } from "./worker-runtime.js";

/** Sends outstanding at most: enough to keep several 64-message batches queued. */
const MAX_OUTSTANDING_MESSAGES = 1024;
/** Payload bytes outstanding at most. */
const MAX_OUTSTANDING_BYTES = 4 * 1024 * 1024;

function hmxInit(init: TransportInit): Extract<TransportInit, { kind: "hmx" }> {
  if (init.kind !== "hmx") throw new Error(`hmx worker given a ${init.kind} transport`);
  return init;
}

/** Every multicall of this guest, timed (see timed-client.ts). */
const timings = new BatchTimings();

async function open(
  init: Extract<TransportInit, { kind: "hmx" }>,
): Promise<{ client: SessionClient; endpoint: ArgoEndpoint }> {
  const client = await SessionClient.connect({
    address: init.address,
    credential: init.credential,
  });
  const endpoint = await ArgoEndpoint.create(timedClient(client, timings), {
    memoryBytes: init.memoryBytes,
  });
  return { client, endpoint };
}

function socketCounters(
  socket: DgramSocket,
  endpoint: ArgoEndpoint,
  client: SessionClient,
): Record<string, number> {
  return {
    ...timings.counters(),
    ...socket.stats,
    virqs: endpoint.stats.virqs,
    drainPasses: endpoint.stats.drainPasses,
    drainErrors: endpoint.stats.drainErrors,
    callsSent: client.callsSent,
    reconnects: client.reconnects,
  };
}

class HmxSender implements SenderTransport {
  #outstanding = 0;
  #outstandingBytes = 0;
  #failure: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(
    private readonly client: SessionClient,
    private readonly endpoint: ArgoEndpoint,
    private readonly socket: DgramSocket,
    private readonly dst: { aport: number; domainId: number },
  ) {}

  send(data: Buffer): Promise<void> | undefined {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    this.#outstanding++;
    this.#outstandingBytes += data.length;
    this.socket.sendTo(this.dst, data).then(
      () => {
        this.#settled(data.length);
      },
      (err: unknown) => {
        this.#failure ??= err instanceof Error ? err : new Error(String(err));
        this.#settled(data.length);
      },
    );
    if (
      this.#outstanding >= MAX_OUTSTANDING_MESSAGES ||
      this.#outstandingBytes >= MAX_OUTSTANDING_BYTES
    ) {
      return this.#waitBelow(MAX_OUTSTANDING_MESSAGES, MAX_OUTSTANDING_BYTES);
    }
    return undefined;
  }

  async flush(): Promise<void> {
    await this.#waitBelow(1, 1);
  }

  #settled(bytes: number): void {
    this.#outstanding--;
    this.#outstandingBytes -= bytes;
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async #waitBelow(messages: number, bytes: number): Promise<void> {
    while (
      this.#failure === null &&
      (this.#outstanding >= messages || this.#outstandingBytes >= bytes)
    ) {
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
    if (this.#failure !== null) throw this.#failure;
  }

  counters(): Record<string, number> {
    return socketCounters(this.socket, this.endpoint, this.client);
  }

  async close(): Promise<void> {
    await this.endpoint.close();
    await this.client.close();
  }
}

runWorker({
  async sender(raw) {
    const init = hmxInit(raw);
    const { client, endpoint } = await open(init);
    // The sender's own ring is never used; the default one will do.
    const socket = await endpoint.bind({
      partner: init.peerDomid,
      ...(init.maxBatchMessages === undefined ? {} : { maxBatchMessages: init.maxBatchMessages }),
      ...(init.maxBatchBytes === undefined ? {} : { maxBatchBytes: init.maxBatchBytes }),
    });
    const transport = new HmxSender(client, endpoint, socket, {
      aport: init.aport,
      domainId: init.peerDomid,
    });
    return { transport, info: { domid: client.domid } };
  },

  async receiver(raw, onMessage) {
    const init = hmxInit(raw);
    const { client, endpoint } = await open(init);
    const socket = await endpoint.bind({
      aport: init.aport,
      partner: init.peerDomid,
      ringLen: init.ringLen,
    });
    // Bounded by the socket: receive() resolves null once it is closed.
    void (async () => {
      for (;;) {
        const m = await socket.receive();
        if (m === null) return;
        onMessage(m.data);
      }
    })();
    const transport: ReceiverTransport = {
      counters: () => socketCounters(socket, endpoint, client),
      close: async () => {
        await endpoint.close();
        await client.close();
      },
    };
    return { transport, info: { domid: client.domid } };
  },
});
