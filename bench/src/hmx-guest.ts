// SPDX-License-Identifier: Apache-2.0
/**
 * One hmx guest as the benchmark drives it, shared by the one-pair worker (`hmx-worker.ts`) and
 * the many-pairs worker (`pairs-worker.ts`): it connects to the hypervisor with its domain
 * credential over the Session stream (`SessionClient`) and creates its libargo endpoint with
 * every multicall timed; `HmxSender` sends with `sendTo` and lets the socket batch, stage and
 * retry on -EAGAIN, keeping a bounded number of sends outstanding (a message count and a byte
 * budget) so that a saturated phase queues neither unbounded memory nor unbounded latency.
 */
import { ArgoEndpoint, SessionClient, type DgramSocket } from "./guest-lib.js";
import { BatchTimings, timedClient } from "./timed-client.js";
import type { SenderTransport } from "./worker-runtime.js";

/** How much one sender may have outstanding: messages and payload bytes. */
export interface OutstandingLimits {
  readonly messages: number;
  readonly bytes: number;
}

/** One pair alone: enough to keep several 64-message batches queued. */
export const ONE_PAIR_LIMITS: OutstandingLimits = { messages: 1024, bytes: 4 * 1024 * 1024 };

/** A connected guest: its Session, its endpoint, and the timings of its multicalls. */
export interface HmxGuest {
  readonly client: SessionClient;
  readonly endpoint: ArgoEndpoint;
  readonly timings: BatchTimings;
}

export async function openGuest(init: {
  readonly address: string;
  readonly credential: string;
  readonly memoryBytes: number;
  readonly virqRingBytes?: number;
}): Promise<HmxGuest> {
  const client = await SessionClient.connect({
    address: init.address,
    credential: init.credential,
    ...(init.virqRingBytes === undefined ? {} : { virqRingBytes: init.virqRingBytes }),
  });
  const timings = new BatchTimings();
  const endpoint = await ArgoEndpoint.create(timedClient(client, timings), {
    memoryBytes: init.memoryBytes,
  });
  return { client, endpoint, timings };
}

export async function closeGuest(guest: HmxGuest): Promise<void> {
  await guest.endpoint.close();
  await guest.client.close();
}

export function socketCounters(socket: DgramSocket, guest: HmxGuest): Record<string, number> {
  const { client, endpoint, timings } = guest;
  return {
    ...timings.counters(),
    ...socket.stats,
    virqs: endpoint.stats.virqs,
    drainPasses: endpoint.stats.drainPasses,
    virqRingPasses: endpoint.stats.virqRingPasses,
    drainErrors: endpoint.stats.drainErrors,
    callsSent: client.callsSent,
    reconnects: client.reconnects,
  };
}

/** The sending half of a guest's socket, with bounded outstanding sends. */
export class HmxSender implements SenderTransport {
  #outstanding = 0;
  #outstandingBytes = 0;
  #failure: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(
    private readonly guest: HmxGuest,
    private readonly socket: DgramSocket,
    private readonly dst: { aport: number; domainId: number },
    private readonly limits: OutstandingLimits = ONE_PAIR_LIMITS,
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
    const { messages, bytes } = this.limits;
    if (this.#outstanding >= messages || this.#outstandingBytes >= bytes) {
      return this.#waitBelow(messages, bytes);
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
    return socketCounters(this.socket, this.guest);
  }

  close(): Promise<void> {
    return closeGuest(this.guest);
  }
}
