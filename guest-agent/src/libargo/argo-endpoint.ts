// SPDX-License-Identifier: Apache-2.0
/**
 * One guest's Argo endpoint: owns the page allocator, every receive ring, and the VIRQ_ARGO
 * handling. It is the counterpart of the OpenXT Linux driver's module state (argo-spec §7.1)
 * and of its interrupt path (§5.3): `argo_interrupt_rx` drains every ring with unread data,
 * then `argo_notify` retries blocked senders.
 *
 * Two kinds of ring consumer share it: its own datagram sockets (`bind`), and the channels of
 * virtio-argo (`attach`, virtio-argo/channel/). Both send through libargo's `ArgoSender`, which
 * parks here on -EAGAIN, and some rings defer their rx publish (deferred-publish.ts). So a guest
 * has one VIRQ listener and one drain pass per VIRQ, whatever runs in it.
 *
 * VIRQ handling. VIRQs are undifferentiated and coalescing ("something happened", §5.3), so on
 * each one the endpoint (a) wakes every parked sender, which retries its sendv (see
 * argo-sender.ts for why a retry instead of Linux's notify-with-entries), and (b) runs a drain
 * pass: one multicall carries the deferred rx stores (if any) and reads the tx_ptr of every
 * ring (and prefetches its data), then each ring with rx != tx is drained concurrently. A VIRQ
 * that arrives during a pass marks it "again", and the pass loops, so no event is lost and
 * passes never overlap (virtio-argo.md §4.7: "a receiver must always re-scan its rings"). Rings
 * whose consumer has no receive room left are skipped until the application takes messages
 * (receive back-pressure: the ring fills and the sender gets -EAGAIN, as with Linux's
 * `MAX_PENDING_RECVS`).
 */
import { randomInt } from "node:crypto";
import { ARGO_DOMID_ANY, Errno, npagesRing } from "@hmx/proto/abi";
import { pino, type Logger } from "pino";
import type {
  HypercallClient,
  HypercallOp,
  HypercallOutcome,
  VirqRing,
} from "../hypercall/hypercall-client.js";
import type { Wakeable } from "./argo-sender.js";
import type { BatchPrelude } from "./batch-prelude.js";
import { DeferredPublisher, type PublishStats } from "./deferred-publish.js";
import {
  DgramSocket,
  type InlineConsumer,
  type SocketHost,
  type SocketTuning,
} from "./dgram-socket.js";
import { ArgoSocketError } from "./errors.js";
import { retOf } from "./outcomes.js";
import { PageAllocator, runOf } from "./page-allocator.js";
import type { RingCorruption } from "./ring-reader.js";
import {
  DEFAULT_RING_LEN,
  RxRing,
  validateRingLen,
  type Prefetch,
  type RingSink,
} from "./rx-ring.js";
import {
  agentStateOp,
  readAgentState,
  writeAgentState,
  type AgentState,
  type RingRecord,
} from "./agent-state.js";

/** Options of `ArgoEndpoint.bind`. */
export interface BindOptions {
  /** Port to bind; 0 or absent picks a random port in [0x80000000, 0xF0000000) as Linux does. */
  readonly aport?: number;
  /**
   * The only domain that may send to this socket, or ARGO_DOMID_ANY (the default) for a
   * wildcard ring, which the hypervisor refuses with -EPERM unless it runs with
   * `--argo-mac-permissive` (argo-spec §3.2 step 4).
   */
  readonly partner?: number;
  /** Receive ring length (multiple of 16 in [48, 0xFFFFC0]); default 130,992 (32 pages). */
  readonly ringLen?: number;
  readonly maxBatchMessages?: number;
  readonly maxBatchBytes?: number;
  /** Send multicalls in flight at once (dgram-socket.ts `SocketTuning`); default 3. */
  readonly maxBatchesInFlight?: number;
  readonly rxQueueLimit?: number;
  /**
   * Take every message synchronously as the ring is drained, instead of queueing it for
   * `receive()`, and store the consumer's progress with each rx store (dgram-socket.ts
   * `InlineConsumer`): what a checker that must survive a crash needs.
   */
  readonly consumer?: InlineConsumer;
  /**
   * Consume each request only with its answer: the drain never publishes rx; a `sendTo` with
   * `answers` does, after its sendv (rx-ring.ts "Consume on answer"). For request/reply servers.
   */
  readonly consumeOnAnswer?: boolean;
  /**
   * When the ring is resumed: the rx_ptr the consumer's own progress record names (rx-ring.ts
   * `resumeRx`); ignored for a new ring.
   */
  readonly resumeRx?: number;
}

export interface EndpointOptions {
  /** Defaults to a silent logger. */
  readonly logger?: Logger;
  /** Guest memory size; fetched with GetDomainInfo when absent. */
  readonly memoryBytes?: number;
  /**
   * Survive agent restarts (agent-state.ts): read the state a previous run left in this
   * guest's memory (its rings come back on the same pages, contents and rx_ptr intact, when
   * bound again), record every ring in the multicall that registers it, and on close leave the
   * rings registered.
   */
  readonly resume?: boolean;
}

/** Endpoint-wide counters. */
export interface EndpointStats extends PublishStats {
  virqs: number;
  drainPasses: number;
  /** Drain passes that took the rings' tx and first bytes from the VIRQ, with no read of their own. */
  virqRingPasses: number;
  /** Drain passes and deferred rx publishes that failed. */
  drainErrors: number;
  ringCorruptions: number;
}

/** A ring and where its messages go: a socket, or a channel attached with `attach`. */
export interface RingConsumer extends RingSink {
  readonly ring: RxRing;
  readonly closed: boolean;
  close(): Promise<void>;
}

/**
 * A socket's batching and receive-queue defaults. `maxBatchBytes` is also the size of the
 * socket's staging pages in guest memory (taken at its first send). 512 KiB, up from 256 KiB:
 * each multicall has a fixed cost in every party (a Session frame each way, a VIRQ, the
 * receiver's rx_ptr publish), which 64 KiB messages paid once per four; with eight per
 * multicall the 64 KiB batched rate rose ~30 % (8.0k to 10.4k msgs/s) while the relay carrying
 * the same batches did not move, and 1 or 2 MiB added nothing more (docs/performance.md,
 * "Bigger multicalls for big messages"). Smaller messages stop at `maxBatchMessages` first.
 */
export const DEFAULT_SOCKET_TUNING = {
  maxBatchMessages: 64,
  maxBatchBytes: 512 * 1024,
  rxQueueLimit: 1024,
} as const satisfies SocketTuning;
/**
 * A socket's send multicalls in flight by default: more than one keeps the link busy while the
 * hypervisor runs a batch. Three measured best on the 2-core bench machine (64 B batched, quiet,
 * two interleaved runs: 1 about 108k msgs/s, 2 143k and 150k, 3 160k and 187k; docs/performance.md;
 * bench: `--batch-in-flight`).
 */
const DEFAULT_BATCHES_IN_FLIGHT = 3;

const RANDOM_PORT_MIN = 0x80000000;
const RANDOM_PORT_END = 0xf0000000;

/** A guest's Argo endpoint: create one per guest with `ArgoEndpoint.create`. */
export class ArgoEndpoint {
  readonly client: HypercallClient;
  readonly allocator: PageAllocator;
  readonly stats: EndpointStats = {
    virqs: 0,
    drainPasses: 0,
    virqRingPasses: 0,
    drainErrors: 0,
    ringCorruptions: 0,
    publishesCarried: 0,
    publishBackstops: 0,
  };
  readonly #log: Logger;
  /** Bound sockets by `aport:partner`; a key is reserved before the ring registers. */
  readonly #bound = new Map<string, DgramSocket | null>();
  /** Consumers other than sockets (virtio-argo channels), drained with the sockets. */
  readonly #attached = new Set<RingConsumer>();
  readonly #parked = new Set<Wakeable>();
  readonly #publisher: DeferredPublisher;
  readonly #unsubscribe: () => void;
  #virqCount = 0;
  #pass: Promise<void> | null = null;
  #again = false;
  /** Whether every VIRQ behind `#again` carried the rings (`#scheduleDrain`). */
  #againKnown = false;
  #closing: Promise<void> | null = null;
  readonly #host: SocketHost;
  readonly #resume: boolean;
  /** Rings a previous run left registered, by bind key, not yet bound again in this run. */
  readonly #resumable = new Map<string, RingRecord>();
  /**
   * Rings whose registerRing is out, by bind key: a concurrent bind's agent state must list
   * them too, since the multicalls run in the order they were issued.
   */
  readonly #registering = new Map<string, RingRecord>();
  /** What the workload asked to keep across a restart (written on close when resuming). */
  appState: unknown;
  /** What a previous run kept (undefined on a first start). */
  readonly restoredAppState: unknown;

  private constructor(
    client: HypercallClient,
    memoryBytes: number,
    logger: Logger,
    resume: boolean,
    state: AgentState | undefined,
  ) {
    this.client = client;
    this.allocator = new PageAllocator({ memoryBytes });
    this.#log = logger;
    this.#resume = resume;
    this.restoredAppState = state?.app;
    for (const r of state?.rings ?? []) {
      try {
        // The pages are still the ring's (the hypervisor may be writing into them): hold them.
        this.allocator.reserve(r.gfn, npagesRing(r.len));
        this.#resumable.set(bindKey(r.aport, r.partnerId), r);
      } catch {
        logger.warn({ ring: r }, "agent state names pages that are not free; ignoring that ring");
      }
    }
    this.#host = {
      keepRingsOnClose: resume,
      client,
      allocator: this.allocator,
      domid: client.domid,
      virqCount: () => this.#virqCount,
      park: (s) => this.#parked.add(s),
      unpark: (s) => this.#parked.delete(s),
      requestDrain: () => {
        this.#scheduleDrain(false);
      },
      released: (s) => {
        const key = bindKey(s.aport, s.partner);
        if (this.#bound.get(key) === s) this.#bound.delete(key);
        // A socket closed while resuming leaves its ring registered: remember it for the state.
        if (resume) this.#resumable.set(key, s.ringRecord);
      },
      onCorruption: (s, c) => {
        this.#onCorruption(s, c);
      },
    };
    this.#publisher = new DeferredPublisher(client, this.stats, (err) => {
      this.#publishFailed(err);
    });
    this.#unsubscribe = client.onVirq((rings) => {
      this.#onVirq(rings);
    });
  }

  /** Creates the endpoint of the guest behind `client` and subscribes to its VIRQs. */
  static async create(
    client: HypercallClient,
    options: EndpointOptions = {},
  ): Promise<ArgoEndpoint> {
    const memoryBytes = options.memoryBytes ?? (await client.getDomainInfo()).memoryBytes;
    const logger = options.logger ?? pino({ level: "silent" });
    const resume = options.resume === true;
    const state = resume ? await readAgentState(client) : undefined;
    if (state !== undefined)
      logger.info({ rings: state.rings.length }, "agent state found: resuming");
    return new ArgoEndpoint(client, memoryBytes, logger, resume, state);
  }

  /**
   * Every ring this agent has registered, for the agent state: the bound sockets' and those a
   * previous run left, but not `except` (a bind key), plus `extra`.
   */
  #ringRecords(except: string, extra?: RingRecord): RingRecord[] {
    const rings = [
      ...this.sockets.map((s) => s.ringRecord),
      ...this.#resumable.values(),
      ...this.#registering.values(),
    ].filter((r) => bindKey(r.aport, r.partnerId) !== except);
    return extra === undefined ? rings : [...rings, extra];
  }

  /** The agent state with `rings`, as a call (only when resuming: nobody reads it otherwise). */
  #stateOps(rings: RingRecord[]): HypercallOp[] {
    return this.#resume ? [agentStateOp({ rings, app: this.appState })] : [];
  }

  /** Unregisters a ring a previous run left and gives its pages back. */
  async #release(record: RingRecord): Promise<void> {
    const key = bindKey(record.aport, record.partnerId);
    this.#resumable.delete(key);
    // The record goes in the same multicall: a crash cannot leave a ring listed that is gone.
    const outcomes = await this.client.batch(
      [
        { op: "unregisterRing", aport: record.aport, partnerId: record.partnerId },
        ...this.#stateOps(this.#ringRecords(key)),
      ],
      { stopOnError: true },
    );
    const ret = retOf(outcomes, 0, "unregisterRing");
    if (ret === 0 || ret === -Errno.ENOENT) {
      this.allocator.free(runOf(record.gfn, npagesRing(record.len)));
    }
  }

  /**
   * The aport of a ring to `partner` a previous run of this agent left registered and this run
   * has not bound again (the lowest, if several), else undefined. A workload that binds a
   * random port binds this one instead when resuming, so its ring comes back rather than one
   * more piling up per restart.
   */
  previousAport(partner: number): number | undefined {
    const ports = [...this.#resumable.values()]
      .filter((r) => r.partnerId === partner)
      .map((r) => r.aport);
    return ports.length === 0 ? undefined : Math.min(...ports);
  }

  /** Whether this agent resumes after a restart (its state is kept in its memory). */
  get resuming(): boolean {
    return this.#resume;
  }

  /** This guest's domid. */
  get domid(): number {
    return this.client.domid;
  }

  /** @internal What a sender needs from this endpoint (virtio-argo channels send with it). */
  get senderHost(): SocketHost {
    return this.#host;
  }

  /**
   * @internal Drains `consumer`'s ring with every pass, from now until it is detached (the
   * returned function) or the endpoint closes, which closes it. For virtio-argo's channels.
   */
  attach(consumer: RingConsumer): () => void {
    if (this.#closing !== null) throw new ArgoSocketError("ESHUTDOWN", "endpoint closed");
    this.#attached.add(consumer);
    // A re-registered ring (restarted agent) may hold messages already.
    this.#scheduleDrain(false);
    return () => {
      this.#attached.delete(consumer);
    };
  }

  /** @internal A ring's `deferPublish` hook (rx-ring.ts "Deferred publish"). */
  readonly deferPublish = (ring: RxRing): void => {
    this.#publisher.later(ring);
  };

  /** A datagram socket's ring's `deferPublish` hook: published when the loop is idle. */
  readonly #deferPublishWhenIdle = (ring: RxRing): void => {
    this.#publisher.whenIdle(ring);
  };

  /**
   * @internal The deferred rx stores and their notify(NULL), for the front of a multicall about
   * to be issued (deferred-publish.ts); null when none is pending.
   */
  takePublishes(): BatchPrelude | null {
    return this.#publisher.take();
  }

  /** The sockets currently bound. */
  get sockets(): DgramSocket[] {
    return [...this.#bound.values()].filter((s): s is DgramSocket => s !== null);
  }

  /**
   * Binds a datagram socket: registers a receive ring (aport, partner) in this guest's memory.
   * Rejects with `ArgoSocketError`: EADDRINUSE if (aport, partner) is bound already (here, or in
   * the hypervisor with another length), EPERM for a wildcard ring without mac-permissive,
   * ESRCH for a partner that does not exist, ENOSPC at 128 rings, ENOMEM when guest memory is
   * exhausted, EINVAL for a bad port or ring length.
   */
  async bind(options: BindOptions = {}): Promise<DgramSocket> {
    if (this.#closing !== null) throw new ArgoSocketError("ESHUTDOWN", "endpoint closed");
    const partner = options.partner ?? ARGO_DOMID_ANY;
    const ringLen = options.ringLen ?? DEFAULT_RING_LEN;
    validateRingLen(ringLen);
    if (!Number.isInteger(partner) || partner < 0 || partner > 0xffff) {
      throw new ArgoSocketError("EINVAL", `bad partner domid ${partner}`, { partnerId: partner });
    }
    let aport = options.aport ?? 0;
    if (!Number.isInteger(aport) || aport < 0 || aport > 0xffffffff) {
      throw new ArgoSocketError("EINVAL", `bad aport ${aport}`, { aport });
    }
    if (aport === 0) aport = this.#randomPort();
    const key = bindKey(aport, partner);
    if (this.#bound.has(key)) {
      throw new ArgoSocketError(
        "EADDRINUSE",
        `aport 0x${aport.toString(16)} partner ${partner} is already bound`,
        { aport, partnerId: partner },
      );
    }
    this.#bound.set(key, null); // reserved while the ring registers
    let ring: RxRing;
    const previous = this.#resumable.get(key);
    if (previous !== undefined && previous.len !== ringLen) {
      // Another length cannot re-register (-EEXIST): let the old ring go first.
      await this.#release(previous);
    }
    const resumeGfn = previous?.len === ringLen ? previous.gfn : undefined;
    try {
      if (resumeGfn !== undefined) {
        // RxRing takes these pages again; they stop being "held for a previous run".
        this.#resumable.delete(key);
        this.allocator.free(runOf(resumeGfn, npagesRing(ringLen)));
      }
      ring = await RxRing.register(this.client, this.allocator, {
        aport,
        partnerId: partner,
        len: ringLen,
        ...(resumeGfn === undefined ? {} : { resumeGfn }),
        ...(options.resumeRx === undefined ? {} : { resumeRx: options.resumeRx }),
        ...(options.consumeOnAnswer === true ? { consumeOnAnswer: true } : {}),
        // The rx store leaves after the messages reached the application (deferred-publish.ts),
        // except where a consumer's progress record must ride in front of it (crash
        // consistency: rx-ring.ts `progressOps`) or the answers consume (consumeOnAnswer).
        ...(options.consumer === undefined && options.consumeOnAnswer !== true
          ? { deferPublish: this.#deferPublishWhenIdle }
          : {}),
        // The ring is in the agent state from the multicall that registers it on.
        recordOps: (gfn) => {
          const record = { aport, partnerId: partner, len: ringLen, gfn };
          this.#registering.set(key, record);
          return this.#stateOps(this.#ringRecords(key, record));
        },
      });
      this.#registering.delete(key);
      if (resumeGfn !== undefined)
        this.#log.info({ aport, partner, ringLen, rxPtr: ring.rxPtr }, "ring resumed");
    } catch (err) {
      this.#registering.delete(key);
      this.#bound.delete(key);
      if (err instanceof ArgoSocketError && err.code === "EEXIST") {
        throw new ArgoSocketError(
          "EADDRINUSE",
          `aport 0x${aport.toString(16)} partner ${partner} is registered with another length`,
          err.info,
          { cause: err },
        );
      }
      if (err instanceof Error && err.name === "OutOfGuestMemoryError") {
        throw new ArgoSocketError(
          "ENOMEM",
          err.message,
          { aport, partnerId: partner, ringLen },
          { cause: err },
        );
      }
      throw err;
    }
    const socket = new DgramSocket(this.#host, ring, {
      maxBatchMessages: options.maxBatchMessages ?? DEFAULT_SOCKET_TUNING.maxBatchMessages,
      maxBatchBytes: options.maxBatchBytes ?? DEFAULT_SOCKET_TUNING.maxBatchBytes,
      maxBatchesInFlight: options.maxBatchesInFlight ?? DEFAULT_BATCHES_IN_FLIGHT,
      rxQueueLimit: options.rxQueueLimit ?? DEFAULT_SOCKET_TUNING.rxQueueLimit,
      ...(options.consumer === undefined ? {} : { consumer: options.consumer }),
    });
    if (this.#isClosing()) {
      await socket.close();
      throw new ArgoSocketError("ESHUTDOWN", "endpoint closed during bind");
    }
    this.#bound.set(key, socket);
    this.#log.debug({ aport, partner, ringLen }, "socket bound");
    // Nothing can be in a brand-new ring, but a re-registered one (restarted agent) keeps tx.
    this.#scheduleDrain(false);
    return socket;
  }

  /**
   * Closes every socket (their rings are unregistered), stops VIRQ handling and waits for the
   * drain pass in progress. Does not close the client: its owner does.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#closing = (async () => {
      this.#unsubscribe();
      this.#publisher.close();
      const results = await Promise.allSettled(
        [...this.sockets, ...this.#attached].map((s) => s.close()),
      );
      if (this.#resume) {
        // Every ring still registered: those of sockets closed now or earlier, and those a
        // previous run left that this run did not bind again.
        const rings = [...this.#resumable.values()];
        const ret = await writeAgentState(this.client, { rings, app: this.appState });
        if (ret < 0) this.#log.warn({ ret }, "could not write the agent state");
      } else {
        await Promise.allSettled([...this.#resumable.values()].map((r) => this.#release(r)));
      }
      for (const r of results) {
        if (r.status === "rejected")
          this.#log.warn({ err: r.reason as unknown }, "socket close failed");
      }
      await this.#pass;
    })();
    return this.#closing;
  }

  #onVirq(rings?: readonly VirqRing[]): void {
    this.#virqCount++;
    this.stats.virqs++;
    for (const s of [...this.#parked]) s.wake();
    this.#scheduleDrain(rings !== undefined && this.#takePushes(rings));
  }

  /**
   * Hands each ring what the VIRQ carried for it (`RxRing.acceptPush`), at once, whether or not
   * a pass is running: the rings keep it for their drains. False when an entry does not match
   * the ring we hold (a different length), so the next pass reads the rings itself.
   */
  #takePushes(rings: readonly VirqRing[]): boolean {
    const byKey = new Map(rings.map((r) => [bindKey(r.aport, r.partnerId), r]));
    let matched = true;
    for (const { ring } of [...this.sockets, ...this.#attached]) {
      const pushed = byKey.get(bindKey(ring.aport, ring.partnerId));
      if (pushed !== undefined && !ring.closed && !ring.acceptPush(pushed)) matched = false;
    }
    return matched;
  }

  /**
   * `known`: the VIRQ carried every ring's tx and the rings took it, so a pass needs no reads.
   * A VIRQ during a pass asks for another, which reads unless every VIRQ since was `known`.
   */
  #scheduleDrain(known: boolean): void {
    if (this.#closing !== null) return;
    if (this.#pass !== null) {
      this.#againKnown = this.#again ? this.#againKnown && known : known;
      this.#again = true;
      return;
    }
    this.#pass = this.#drainLoop(known).finally(() => {
      this.#pass = null;
    });
  }

  async #drainLoop(firstKnown: boolean): Promise<void> {
    let known = firstKnown;
    do {
      this.#again = false;
      try {
        await this.#drainPass(known);
      } catch (err) {
        this.stats.drainErrors++;
        if (this.#isClosing()) return;
        this.#log.warn({ err }, "ring drain failed");
        // No immediate retry, so a persistent failure (link down) cannot spin: only a VIRQ
        // that arrived meanwhile (`again`; the client also raises one after a reconnect)
        // starts the next pass.
      }
      known = this.#againKnown;
    } while (this.#againRequested() && !this.#isClosing());
  }

  /** Whether a VIRQ arrived during the pass (read through a call: it changes across awaits). */
  #againRequested(): boolean {
    return this.#again;
  }

  /** A method, not a field read: `close()` may run during any await, which narrowing misses. */
  #isClosing(): boolean {
    return this.#closing !== null;
  }

  /**
   * Learns every ring's tx and first unread bytes — from what the VIRQs pushed to the rings
   * when `known`, else from one multicall of the deferred rx stores in front, then every ring's
   * tx read and prefetch — then drains the rings with unread data. A pass from pushes leaves
   * the deferred stores to the publisher (its idle turn or backstop): it sends nothing to carry
   * them.
   */
  async #drainPass(known: boolean): Promise<void> {
    const consumers = [...this.sockets, ...this.#attached].filter(
      (c) => !c.closed && !c.ring.closed && c.room() > 0,
    );
    if (consumers.length === 0) return;
    this.stats.drainPasses++;
    let found: RingFound[];
    if (known) {
      this.stats.virqRingPasses++;
      found = consumers
        .filter((consumer) => consumer.ring.hasUnread())
        .map((consumer) => ({ consumer, tx: consumer.ring.knownTx, ahead: undefined }));
    } else {
      // Deferred rx publishes ride in front of the pass's reads.
      found = await this.#readPass(consumers, this.#publisher.take());
    }
    const drains: Promise<void>[] = [];
    for (const { consumer, tx, ahead } of found) {
      if (!consumer.ring.closed) drains.push(consumer.ring.drain(tx, consumer, ahead));
    }
    const results = await Promise.allSettled(drains);
    const failed = results.find((r) => r.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  /** One multicall: `prelude`'s ops, then every consumer's tx read and prefetch (rx-ring.ts). */
  async #readPass(
    consumers: readonly RingConsumer[],
    prelude: BatchPrelude | null,
  ): Promise<RingFound[]> {
    // Per ring: its tx, then a prefetch of its data from rx (in this order, see rx-ring.ts).
    const passes = consumers.map((consumer) => ({ consumer, pass: consumer.ring.passOps() }));
    // Independent calls: no stopOnError here.
    const outcomes = await this.#batchWithPrelude(prelude, [
      ...(prelude?.ops ?? []),
      ...passes.flatMap((p) => p.pass.ops),
    ]);
    let at = prelude?.ops.length ?? 0;
    return passes.map(({ consumer, pass }) => {
      const { tx, ahead } = pass.result(outcomes, at);
      at += pass.ops.length;
      // Drained even when the ring is empty: the ring learns that its prefetch was wasted.
      return { consumer, tx, ahead };
    });
  }

  /** Issues `ops`, which start with `prelude`'s, and settles the prelude. */
  async #batchWithPrelude(
    prelude: BatchPrelude | null,
    ops: readonly HypercallOp[],
  ): Promise<HypercallOutcome[]> {
    let outcomes: HypercallOutcome[];
    try {
      outcomes = await this.client.batch(ops);
    } catch (err) {
      prelude?.abandon(err);
      throw err;
    }
    const failure = prelude?.settle(outcomes.slice(0, prelude.ops.length)) ?? null;
    if (failure !== null) this.#publishFailed(failure);
    return outcomes;
  }

  /** A deferred rx publish failed (it is taken again by the next multicall). */
  #publishFailed(err: Error): void {
    this.stats.drainErrors++;
    if (!this.#isClosing()) this.#log.warn({ err }, "deferred rx publish failed");
  }

  #onCorruption(socket: DgramSocket, c: RingCorruption): void {
    this.stats.ringCorruptions++;
    // A corrupt ring is this guest's problem (only we write rx) or a hypervisor bug: warn.
    this.#log.warn(
      { aport: socket.aport, partner: socket.partner, ...c },
      "receive ring corrupt, unread data discarded",
    );
  }

  /** Linux's port choice: random in [0x80000000, 0xF0000000), else the highest in use + 1. */
  #randomPort(): number {
    const inUse = new Set([...this.#bound.keys()].map((k) => Number(k.split(":")[0])));
    for (let i = 0; i < 16; i++) {
      const p = randomInt(RANDOM_PORT_MIN, RANDOM_PORT_END);
      if (!inUse.has(p)) return p;
    }
    return Math.max(RANDOM_PORT_MIN, ...inUse) + 1;
  }
}

function bindKey(aport: number, partner: number): string {
  return `${aport}:${partner}`;
}

/** A ring to drain in a pass: its tx, and the bytes already fetched from its rx, if any. */
interface RingFound {
  readonly consumer: RingConsumer;
  readonly tx: number;
  readonly ahead: Prefetch | undefined;
}
