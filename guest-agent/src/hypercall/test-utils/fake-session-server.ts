// SPDX-License-Identifier: Apache-2.0
/**
 * A small, real grpc-js server implementing only `hmx.argo.v1.Hypervisor/Session`, for testing
 * `SessionClient` before (and independently of) the real hypervisor. It follows the rules in
 * hypervisor.proto's `Session` comment: bearer authentication, `open` → `ready` with the
 * domain's last executed id, in-order batch execution, stopOnError, a resume log keyed by
 * request id with acknowledgement eviction and a bounded size (FAILED_PRECONDITION beyond it),
 * dependent batches (`after`, unless `dependentBatches` is turned off like an older server),
 * takeover of an older session with ABORTED, and VIRQ events (held while no session is open).
 *
 * The "hypercalls" are trivial: read/write a flat in-memory buffer, sendv bumps a counter
 * (ret = payload bytes, or -ECONNREFUSED when dst.aport is 0). Every execution is recorded in
 * `applied` so tests can prove at-most-once and ordering. Faults are injected per batch
 * (`faultHook`), by dropping the current stream, or by killing and restarting the whole server
 * on the same port, which destroys the TCP connection like a real link failure.
 */
import * as grpc from "@grpc/grpc-js";
import { GRPC_MESSAGE_LIMITS, loadHypervisorProto } from "@hmx/proto";
import type { Hypercall__Output } from "@hmx/proto/gen/hmx/argo/v1/Hypercall.js";
import type { HypercallBatch__Output } from "@hmx/proto/gen/hmx/argo/v1/HypercallBatch.js";
import type { HypercallResult } from "@hmx/proto/gen/hmx/argo/v1/HypercallResult.js";
import type { SessionRequest__Output } from "@hmx/proto/gen/hmx/argo/v1/SessionRequest.js";
import type { SessionResponse } from "@hmx/proto/gen/hmx/argo/v1/SessionResponse.js";

type ServerSession = grpc.ServerDuplexStream<SessionRequest__Output, SessionResponse>;

/** What to do to one incoming batch frame. */
export type BatchFault =
  /** Execute and answer normally. */
  | "none"
  /** End the stream (UNAVAILABLE) without executing the batch. */
  | "drop-before-execute"
  /** Execute the batch, then end the stream without sending its results. */
  | "drop-after-execute"
  /** Execute the batch, send the first half of its results, then end the stream. */
  | "drop-mid-results";

/** One executed (not replayed) hypercall. */
export interface AppliedCall {
  readonly id: number;
  readonly op: string;
  /** writeMemory: first u32 (LE) of the data; sendv: messageType; otherwise -1. */
  readonly tag: number;
}

/** One batch frame as received. */
export interface ReceivedBatch {
  readonly ids: readonly number[];
  readonly stopOnError: boolean;
  readonly ackThrough: number;
  /** HypercallBatch.after (0: none). */
  readonly after: number;
  readonly session: number;
}

export interface FakeSessionServerOptions {
  readonly credential?: string;
  readonly domid?: number;
  readonly memoryBytes?: number;
  readonly resumeWindow?: number;
  readonly maxBatch?: number;
  /** Pretend the domain already executed ids up to this one (a restarted agent's view). */
  readonly lastExecuted?: number;
  /** Send each result in its own frame instead of one frame per batch. */
  readonly splitResults?: boolean;
}

const EFAULT = -14;
const ECONNREFUSED = -111;

/** A fake hypervisor serving only the Session stream. */
export class FakeSessionServer {
  credential: string;
  readonly domid: number;
  readonly memory: Buffer;
  resumeWindow: number;
  maxBatch: number;
  splitResults: boolean;
  /** Consulted for every batch frame; `seq` counts batch frames since start (1-based). */
  faultHook: ((seq: number, batch: ReceivedBatch) => BatchFault) | undefined;
  /** While true, a new session is accepted but never gets `ready`. */
  holdReady = false;
  /** Honour and announce `HypercallBatch.after`; false acts like a server that predates it. */
  dependentBatches = true;

  lastExecuted: number;
  sendvCount = 0;
  readonly applied: AppliedCall[] = [];
  readonly batches: ReceivedBatch[] = [];
  readonly opens: { ackThrough: number; session: number }[] = [];
  sessionsOpened = 0;
  sessionsRejected = 0;
  /** Results kept for replay, by request id, in id order. */
  readonly resumeLog = new Map<number, HypercallResult>();

  #server: grpc.Server;
  #port = 0;
  #current: ServerSession | undefined;
  #currentOpened = false;
  #pendingVirq = false;
  #batchSeq = 0;
  readonly #dead = new WeakSet<ServerSession>();

  private constructor(options: FakeSessionServerOptions) {
    this.credential = options.credential ?? "test-credential";
    this.domid = options.domid ?? 7;
    this.memory = Buffer.alloc(options.memoryBytes ?? 1 << 20);
    this.resumeWindow = options.resumeWindow ?? 256;
    this.maxBatch = options.maxBatch ?? 64;
    this.lastExecuted = options.lastExecuted ?? 0;
    this.splitResults = options.splitResults ?? false;
    this.faultHook = undefined;
    this.#server = this.#makeServer();
  }

  /** Starts a server on 127.0.0.1 with a free port. */
  static async start(options: FakeSessionServerOptions = {}): Promise<FakeSessionServer> {
    const fake = new FakeSessionServer(options);
    await fake.#bind(0);
    return fake;
  }

  /** `127.0.0.1:port`. */
  get address(): string {
    return `127.0.0.1:${this.#port}`;
  }

  /** Whether a session is open and has been sent `ready`. */
  get sessionOpen(): boolean {
    return this.#current !== undefined && this.#currentOpened;
  }

  /** Raises VIRQ_ARGO: pushed on the open session, or held until the next one opens. */
  raiseVirq(): void {
    const call = this.#current;
    if (call !== undefined && this.#currentOpened)
      this.#write(call, { event: { virq: { virq: 11 } } });
    else this.#pendingVirq = true;
  }

  /** Ends the current session with `code` (default UNAVAILABLE), as a broken link would. */
  dropCurrentStream(code: grpc.status = grpc.status.UNAVAILABLE): void {
    const call = this.#current;
    if (call !== undefined) this.#endWith(call, code, "fake link drop");
  }

  /** Kills every connection at once (forceShutdown) and listens again on the same port. */
  async restart(downMs = 0): Promise<void> {
    this.kill();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    this.#server = this.#makeServer();
    await this.#bind(this.#port);
  }

  /** Kills every connection and stops listening (until `restart`). */
  kill(): void {
    this.#current = undefined;
    this.#currentOpened = false;
    this.#server.forceShutdown();
  }

  async stop(): Promise<void> {
    this.kill();
    await Promise.resolve();
  }

  #makeServer(): grpc.Server {
    const server = new grpc.Server(GRPC_MESSAGE_LIMITS);
    const { Hypervisor } = loadHypervisorProto().hmx.argo.v1;
    server.addService(Hypervisor.service, {
      Session: (call: ServerSession) => {
        this.#onSession(call);
      },
    });
    return server;
  }

  #bind(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(
        `127.0.0.1:${port}`,
        grpc.ServerCredentials.createInsecure(),
        (err, bound) => {
          if (err !== null) {
            reject(err);
            return;
          }
          this.#port = bound;
          resolve();
        },
      );
    });
  }

  #write(call: ServerSession, frame: SessionResponse): void {
    if (!this.#dead.has(call)) call.write(frame);
  }

  #endWith(call: ServerSession, code: grpc.status, details: string): void {
    if (this.#dead.has(call)) return;
    this.#dead.add(call);
    if (this.#current === call) {
      this.#current = undefined;
      this.#currentOpened = false;
    }
    // grpc-js turns an emitted error into the call's final status.
    call.emit("error", { code, details });
  }

  #onSession(call: ServerSession): void {
    call.on("error", () => undefined);
    call.on("cancelled", () => {
      this.#dead.add(call);
      if (this.#current === call) {
        this.#current = undefined;
        this.#currentOpened = false;
      }
    });
    const auth = call.metadata.get("authorization")[0];
    if (auth !== `Bearer ${this.credential}`) {
      this.sessionsRejected += 1;
      this.#endWith(call, grpc.status.UNAUTHENTICATED, "bad credential");
      return;
    }
    const session = ++this.sessionsOpened;
    const previous = this.#current;
    if (previous !== undefined) {
      this.#endWith(previous, grpc.status.ABORTED, "a newer session took over");
    }
    this.#current = call;
    this.#currentOpened = false;
    let opened = false;
    call.on("data", (req: SessionRequest__Output) => {
      if (this.#dead.has(call)) return;
      if (!opened) {
        if (req.kind !== "open" || req.open == null) {
          this.#endWith(call, grpc.status.INVALID_ARGUMENT, "first frame must be open");
          return;
        }
        opened = true;
        const ackThrough = Number(req.open.ackThrough);
        this.opens.push({ ackThrough, session });
        this.#acknowledge(ackThrough);
        if (this.holdReady) return;
        this.#write(call, {
          ready: {
            domid: this.domid,
            lastExecuted: String(this.lastExecuted),
            resumeWindow: this.resumeWindow,
            maxBatch: this.maxBatch,
            dependentBatches: this.dependentBatches,
          },
        });
        if (this.#current === call) this.#currentOpened = true;
        if (this.#pendingVirq) {
          this.#pendingVirq = false;
          this.#write(call, { event: { virq: { virq: 11 } } });
        }
        return;
      }
      if (req.kind !== "batch" || req.batch == null) {
        this.#endWith(call, grpc.status.INVALID_ARGUMENT, "expected a batch frame");
        return;
      }
      this.#onBatch(call, req.batch, session);
    });
    call.on("end", () => {
      if (this.#dead.has(call)) return;
      this.#dead.add(call);
      if (this.#current === call) {
        this.#current = undefined;
        this.#currentOpened = false;
      }
      call.end();
    });
  }

  #acknowledge(ackThrough: number): void {
    for (const id of this.resumeLog.keys()) {
      if (id > ackThrough) break;
      this.resumeLog.delete(id);
    }
  }

  #onBatch(call: ServerSession, batch: HypercallBatch__Output, session: number): void {
    const received: ReceivedBatch = {
      ids: batch.calls.map((c) => Number(c.requestId)),
      stopOnError: batch.stopOnError,
      ackThrough: Number(batch.ackThrough),
      after: Number(batch.after),
      session,
    };
    this.batches.push(received);
    this.#acknowledge(received.ackThrough);
    const fault = this.faultHook?.(++this.#batchSeq, received) ?? "none";
    if (fault === "drop-before-execute") {
      this.#endWith(call, grpc.status.UNAVAILABLE, "fake drop before execute");
      return;
    }
    const results: HypercallResult[] = [];
    let stopped = false;
    // Looked up when the first call that has to run is reached (hypervisor.proto).
    let dependencyPending = this.dependentBatches && received.after > 0;
    for (const hc of batch.calls) {
      const id = Number(hc.requestId);
      let result: HypercallResult;
      if (id <= this.lastExecuted) {
        result = this.resumeLog.get(id) ?? {
          requestId: String(id),
          status: { code: grpc.status.FAILED_PRECONDITION, message: `request ${id} forgotten` },
        };
      } else {
        this.lastExecuted = id;
        if (dependencyPending) {
          dependencyPending = false;
          const before = this.resumeLog.get(received.after);
          if (before === undefined || isFailure(before)) stopped = true;
        }
        result =
          batch.calls.length > this.maxBatch
            ? { requestId: String(id), status: { code: 8, message: "batch too long" } }
            : stopped
              ? { requestId: String(id), status: { code: grpc.status.ABORTED, message: "skipped" } }
              : this.#execute(id, hc);
        this.resumeLog.set(id, result);
        if (this.resumeLog.size > this.resumeWindow) {
          const oldest = this.resumeLog.keys().next();
          if (oldest.done !== true) this.resumeLog.delete(oldest.value);
        }
      }
      if (batch.stopOnError && isFailure(result)) stopped = true;
      results.push(result);
    }
    if (fault === "drop-after-execute") {
      this.#endWith(call, grpc.status.UNAVAILABLE, "fake drop after execute");
      return;
    }
    if (fault === "drop-mid-results") {
      const half = results.slice(0, Math.floor(results.length / 2));
      if (half.length > 0) this.#write(call, { results: { results: half } });
      this.#endWith(call, grpc.status.UNAVAILABLE, "fake drop mid results");
      return;
    }
    if (this.splitResults) {
      for (const r of results) this.#write(call, { results: { results: [r] } });
    } else {
      this.#write(call, { results: { results } });
    }
  }

  #execute(id: number, hc: Hypercall__Output): HypercallResult {
    const requestId = String(id);
    switch (hc.op) {
      case "readMemory": {
        const r = hc.readMemory;
        if (r == null) break;
        const gpa = Number(r.gpa);
        this.applied.push({ id, op: "readMemory", tag: -1 });
        if (gpa + r.length > this.memory.length) {
          return { requestId, readMemory: { ret: EFAULT } };
        }
        return {
          requestId,
          readMemory: { ret: 0, data: Buffer.from(this.memory.subarray(gpa, gpa + r.length)) },
        };
      }
      case "writeMemory": {
        const w = hc.writeMemory;
        if (w == null) break;
        const gpa = Number(w.gpa);
        this.applied.push({
          id,
          op: "writeMemory",
          tag: w.data.length >= 4 ? w.data.readUInt32LE(0) : -1,
        });
        if (gpa + w.data.length > this.memory.length) {
          return { requestId, writeMemory: { ret: EFAULT } };
        }
        w.data.copy(this.memory, gpa);
        return { requestId, writeMemory: { ret: 0 } };
      }
      case "sendv": {
        const s = hc.sendv;
        if (s == null) break;
        this.applied.push({ id, op: "sendv", tag: s.messageType });
        if (s.dst?.aport === 0) return { requestId, sendv: { ret: ECONNREFUSED } };
        this.sendvCount += 1;
        return { requestId, sendv: { ret: s.iovs.reduce((sum, iov) => sum + iov.len, 0) } };
      }
      case "notify": {
        const n = hc.notify;
        if (n == null) break;
        this.applied.push({ id, op: "notify", tag: -1 });
        const entries = (n.ringData?.entries ?? []).map(() => ({ flags: 1, maxMessageSize: 4064 }));
        return { requestId, notify: { ret: 0, entries } };
      }
      case "registerRing":
        this.applied.push({ id, op: "registerRing", tag: -1 });
        return { requestId, registerRing: { ret: 0 } };
      case "unregisterRing":
        this.applied.push({ id, op: "unregisterRing", tag: -1 });
        return { requestId, unregisterRing: { ret: -2 } };
      case "getDomainInfo":
        this.applied.push({ id, op: "getDomainInfo", tag: -1 });
        return {
          requestId,
          getDomainInfo: {
            domid: this.domid,
            memoryBytes: String(this.memory.length),
            pageSize: 4096,
            label: "fake",
          },
        };
      case undefined:
        break;
    }
    return { requestId, status: { code: grpc.status.INVALID_ARGUMENT, message: "no operation" } };
  }
}

function isFailure(result: HypercallResult): boolean {
  if (result.status != null) return true;
  const ret =
    result.sendv?.ret ??
    result.writeMemory?.ret ??
    result.readMemory?.ret ??
    result.notify?.ret ??
    result.registerRing?.ret ??
    result.unregisterRing?.ret ??
    0;
  return ret < 0;
}
