// SPDX-License-Identifier: Apache-2.0
/**
 * A worker process of the scale phase (`pairs-bench.ts`): it hosts several whole
 * sender/receiver pairs, each guest with its own Session to the hypervisor, so that 50 pairs
 * (100 guests) need a handful of processes rather than 100. On `pairs-run` every pair sends as
 * fast as its socket allows from the same instant (`startAt`, a wall-clock time comparable
 * across processes) for the same window, and each receiver counts what arrived inside the
 * window (the pair's throughput) and checks that sequence numbers follow each other (a socket
 * keeps order, so anything else is a loss, a duplicate or a reorder).
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { DgramSocket } from "./guest-lib.js";
import { closeGuest, HmxSender, openGuest, type HmxGuest } from "./hmx-guest.js";
import type { PairInit, PairReport, PairsCommand } from "./ipc.js";
import { now, payloadTemplate, readPayload, stampPayload } from "./payload.js";
import { serveCommands } from "./worker-runtime.js";

/** How often a waiting run looks at its receivers' counts. */
const POLL_MS = 20;

/**
 * Each of many senders keeps two full batches outstanding: enough to keep its socket busy,
 * while 50 senders × the one-pair bound (1,024) would queue 51,200 messages, seconds of
 * backlog that the window would measure instead of the steady state.
 */
const PAIR_LIMITS = { messages: 128, bytes: 512 * 1024 };

class Pair {
  #tag = 0;
  #windowEnd = 0;
  #nextSeq = 0;
  sent = 0;
  received = 0;
  inWindow = 0;
  outOfSequence = 0;

  constructor(
    readonly index: number,
    readonly guests: readonly HmxGuest[],
    readonly sender: HmxSender,
    receiver: DgramSocket,
  ) {
    // Bounded by the socket: receive() resolves null once it is closed.
    void (async () => {
      for (;;) {
        const m = await receiver.receive();
        if (m === null) return;
        this.#observe(m.data);
      }
    })();
  }

  /** Starts counting a new run's messages (tag) and its window. */
  arm(tag: number, windowEnd: number): void {
    this.#tag = tag;
    this.#windowEnd = windowEnd;
    this.#nextSeq = 0;
    this.sent = 0;
    this.received = 0;
    this.inWindow = 0;
    this.outOfSequence = 0;
  }

  #observe(data: Uint8Array): void {
    const header = readPayload(data);
    if (header?.tag !== this.#tag) return; // a message of an earlier run (or no header)
    this.received++;
    if (now() <= this.#windowEnd) this.inWindow++;
    if (header.seq !== this.#nextSeq) this.outOfSequence++;
    this.#nextSeq = header.seq + 1;
  }

  /** Sends until `end`, then waits until every send was accepted. */
  async send(template: Buffer, tag: number, end: number): Promise<void> {
    while (now() < end) {
      const wait = this.sender.send(stampPayload(template, this.sent++, tag));
      if (wait !== undefined) await wait;
    }
    await this.sender.flush();
  }

  report(): PairReport {
    const { index, sent, received, inWindow, outOfSequence } = this;
    return { index, sent, received, inWindow, outOfSequence };
  }
}

const pairs: Pair[] = [];

async function openPair(
  init: Extract<PairsCommand, { cmd: "pairs-init" }>,
  pair: PairInit,
): Promise<Pair> {
  const { address, memoryBytes, aport } = init;
  const rx = await openGuest({ address, memoryBytes, credential: pair.receiverCredential });
  const tx = await openGuest({ address, memoryBytes, credential: pair.senderCredential });
  const receiver = await rx.endpoint.bind({ aport, partner: pair.senderDomid });
  // The sender's own ring is never used; the default one will do.
  const socket = await tx.endpoint.bind({ partner: pair.receiverDomid });
  const sender = new HmxSender(tx, socket, { aport, domainId: pair.receiverDomid }, PAIR_LIMITS);
  return new Pair(pair.index, [rx, tx], sender, receiver);
}

async function run(c: Extract<PairsCommand, { cmd: "pairs-run" }>): Promise<PairReport[]> {
  const end = c.startAt + c.durationMs;
  for (const p of pairs) p.arm(c.tag, end);
  const template = payloadTemplate(c.size);
  const ahead = c.startAt - now();
  if (ahead > 0) await sleep(ahead);
  await Promise.all(pairs.map((p) => p.send(template, c.tag, end)));
  const deadline = now() + c.timeoutMs;
  while (pairs.some((p) => p.received < p.sent) && now() < deadline) await sleep(POLL_MS);
  return pairs.map((p) => p.report());
}

async function handle(c: PairsCommand): Promise<unknown> {
  switch (c.cmd) {
    case "pairs-init":
      if (pairs.length > 0) throw new Error("pairs worker initialised twice");
      for (const p of c.pairs) pairs.push(await openPair(c, p));
      return { pid: process.pid };
    case "pairs-run":
      return run(c);
    case "close":
      for (const p of pairs.splice(0)) await Promise.all(p.guests.map(closeGuest));
      return null;
  }
}

// The orchestrator sends this worker pairs commands only.
serveCommands((c) => handle(c as PairsCommand));
