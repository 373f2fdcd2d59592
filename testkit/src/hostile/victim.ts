// SPDX-License-Identifier: Apache-2.0
/**
 * A victim pair: two well-behaved guests (in this process, each with its own Session and Argo
 * endpoint) passing small messages one at a time, sender to receiver. Each delivery is recorded
 * with its latency, so a test can count how many happened while an attack was running and a
 * bench can compare the rate before and during it.
 */
import { ArgoEndpoint, SessionClient, type DgramSocket } from "@hmx/guest-agent";
import { performance } from "node:perf_hooks";
import type { AttackTarget } from "./attack.js";

const PAYLOAD_BYTES = 64;

export class VictimPair {
  /** performance.now() of each delivery. */
  readonly deliveredAt: number[] = [];
  /** One-way latency of each delivery, ms. */
  readonly latenciesMs: number[] = [];
  private running = true;
  private loop: Promise<void> = Promise.resolve();
  private failure: unknown;

  private constructor(
    private readonly clients: readonly SessionClient[],
    private readonly endpoints: readonly ArgoEndpoint[],
    private readonly tx: DgramSocket,
    private readonly rx: DgramSocket,
  ) {}

  static async start(target: AttackTarget, name = "victim"): Promise<VictimPair> {
    const [a, b] = await Promise.all(
      ["tx", "rx"].map((side) =>
        target.toolstack.createDomain({
          name: `${name}-${side}`,
          label: `${name}_t`,
          memoryBytes: 8 * 1024 * 1024,
        }),
      ),
    );
    if (a === undefined || b === undefined) throw new Error("victim domains not created");
    const clients = await Promise.all(
      [a, b].map((d) =>
        SessionClient.connect({ address: target.listen, credential: d.credential }),
      ),
    );
    const [txClient, rxClient] = clients as [SessionClient, SessionClient];
    const txEnd = await ArgoEndpoint.create(txClient);
    const rxEnd = await ArgoEndpoint.create(rxClient);
    const rx = await rxEnd.bind({ partner: a.domid });
    const tx = await txEnd.bind({ partner: b.domid });
    const pair = new VictimPair(clients, [txEnd, rxEnd], tx, rx);
    pair.loop = pair.run();
    return pair;
  }

  get delivered(): number {
    return this.deliveredAt.length;
  }

  /** Waits until `count` more messages were delivered (rejects after `timeoutMs`: a hang). */
  async waitForDeliveries(count: number, timeoutMs = 60_000): Promise<void> {
    const goal = this.delivered + count;
    const deadline = Date.now() + timeoutMs;
    while (this.delivered < goal) {
      if (this.failure !== undefined)
        throw this.failure instanceof Error
          ? this.failure
          : new Error("victim failed", { cause: this.failure });
      if (Date.now() > deadline)
        throw new Error(`victim delivered ${this.delivered}, not ${goal}, within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async run(): Promise<void> {
    const payload = Buffer.alloc(PAYLOAD_BYTES, 0x5a);
    try {
      while (this.running) {
        const sentAt = performance.now();
        const received = this.rx.receive();
        await this.tx.sendTo(this.rx.address, payload);
        if ((await received) === null) return;
        const now = performance.now();
        this.deliveredAt.push(now);
        this.latenciesMs.push(now - sentAt);
      }
    } catch (err) {
      if (this.running) this.failure = err;
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.endpoints.map((e) => e.close().catch(() => undefined)));
    await this.loop;
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }
}
