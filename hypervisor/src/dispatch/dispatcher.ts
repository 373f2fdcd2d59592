// SPDX-License-Identifier: Apache-2.0
/**
 * The single entry point for every guest hypercall (Xen's `do_argo_op` plus hmx's memory
 * calls). The unary RPCs and the Session stream both come here, so the two framings cannot
 * drift apart. It is synchronous: the event loop is the lock, and a hypercall runs to
 * completion before any other starts, which is what makes a Session batch execute strictly in
 * order. Per-domain counters and the trace-level hypercall log live here too.
 */
import { MAX_MEMORY_ACCESS, PAGE_SIZE, Errno, describeRet } from "@hmx/proto/abi";
import type { Logger } from "pino";
import type { Argo } from "../argo/argo.js";
import type { Domain } from "../domain/domain.js";
import { READ_ONLY_GFN_REASON, touchesReadOnlyGfn } from "../memory/read-only-gfns.js";
import { NOOP_OBSERVER, type Observer } from "../observability/observer.js";
import { CallStatusCode, isFailure, type Hypercall, type HypercallResult } from "./hypercall.js";
import { isMutating, type HypercallJournal } from "./hypercall-journal.js";
import { ResumeLog, type ResumeLogLimits } from "./resume-log.js";

export class HypercallDispatcher {
  /** Keyed by the Domain object, so a destroyed domain's log goes with it. */
  private readonly resumeLogs = new WeakMap<Domain, ResumeLog>();
  /** With `--state-dir`: records what changes state, and refuses it while it cannot write. */
  journal: HypercallJournal | undefined;
  /** False while a state journal is replayed: the history saw those calls in the first life. */
  observing = true;
  /** The request id `answerOnce` is producing a result for (0: none), for the journal. */
  private answering = 0;
  /** Hypercalls the journal has recorded; unchanged by a production that ran none. */
  private journaled = 0;
  /**
   * The observer's end mark of the hypercall executed last, while a call that `follows` it may
   * start its time there; NaN after `unchain` (or a call nothing observed).
   */
  private endedAt = Number.NaN;

  constructor(
    private readonly argo: Argo,
    private readonly log: Logger,
    readonly resumeLimits: ResumeLogLimits,
    /** History and metrics see every executed hypercall here, whatever its framing. */
    private readonly observer: Observer = NOOP_OBSERVER,
  ) {}

  /** The domain's at-most-once log (created on first use). */
  resumeLog(domain: Domain): ResumeLog {
    let log = this.resumeLogs.get(domain);
    if (log === undefined) {
      log = new ResumeLog(this.resumeLimits);
      this.resumeLogs.set(domain, log);
    }
    return log;
  }

  /** The guest has every result through `ackThrough`: its log may forget them. */
  acknowledge(domain: Domain, ackThrough: number): void {
    const log = this.resumeLog(domain);
    const before = log.size;
    log.acknowledge(ackThrough);
    if (log.size !== before) this.journal?.acknowledged(domain.domid, ackThrough);
  }

  /**
   * Whether the call `requestId` ran with `ret >= 0`, as far as the resume log knows: what a
   * Session batch with `after` waits on (hypervisor.proto). A result no longer kept is not.
   */
  succeeded(domain: Domain, requestId: number): boolean {
    const result = this.resumeLog(domain).resultOf(requestId);
    return result !== undefined && !isFailure(result);
  }

  /** Bytes the domain's resume log holds (0 before its first use). */
  resumeLogBytes(domain: Domain): number {
    return this.resumeLogs.get(domain)?.heldBytes ?? 0;
  }

  /** Runs a hypercall that carries a request id at most once (see `answerOnce`). */
  executeOnce(caller: Domain, requestId: number, call: Hypercall): HypercallResult {
    return this.answerOnce(caller, requestId, () => this.execute(caller, call));
  }

  /**
   * At-most-once answering: a new id is answered by `produce()` and logged; an id already
   * answered gets the logged result; an id the log no longer holds is FAILED_PRECONDITION (it
   * ran, but its result is gone, and running it again could duplicate a message).
   */
  answerOnce(caller: Domain, requestId: number, produce: () => HypercallResult): HypercallResult {
    const refusal = this.journal?.failure;
    // Refused before the log is touched, so the same id runs once the journal writes again.
    if (refusal !== undefined)
      return { op: "status", code: CallStatusCode.UNAVAILABLE, message: refusal };
    const log = this.resumeLog(caller);
    const decision = log.decide(requestId);
    switch (decision.kind) {
      case "replay":
        return decision.result;
      case "too-far":
        // Refused without touching the log: the sequence stays where it was.
        return { op: "status", code: CallStatusCode.INVALID_ARGUMENT, message: decision.message };
      case "forgotten":
        return {
          op: "status",
          code: CallStatusCode.FAILED_PRECONDITION,
          message: `request id ${requestId} was already executed and its result has left the resume log (last executed: ${log.lastExecuted})`,
        };
      case "execute": {
        this.answering = requestId;
        const journaledBefore = this.journaled;
        let result: HypercallResult;
        try {
          result = produce();
        } finally {
          this.answering = 0;
        }
        if (this.journaled === journaledBefore)
          this.journal?.answered(caller.domid, requestId, result);
        log.record(requestId, result);
        return result;
      }
    }
  }

  /**
   * Forgets the last hypercall's end mark: the next call that `follows` reads its own start.
   * A multicall calls this whenever its run of back-to-back steps (re)starts.
   */
  unchain(): void {
    this.endedAt = Number.NaN;
  }

  /**
   * Runs one hypercall for `caller` and returns its result. Never throws for guest input.
   * `follows`: the call is the next step of a multicall whose previous steps ran just before it,
   * synchronously, since the last `unchain`; its time then starts at the previous executed
   * call's end mark instead of a clock reading of its own (one reading per call, not two: the
   * reading is most of what the metrics cost a call).
   */
  execute(caller: Domain, call: Hypercall, follows = false): HypercallResult {
    const { journal } = this;
    if (journal !== undefined && (this.answering > 0 || isMutating(call))) {
      if (journal.failure !== undefined) {
        return { op: "status", code: CallStatusCode.UNAVAILABLE, message: journal.failure };
      }
      journal.executed(caller.domid, this.answering, call);
      this.journaled++;
    }
    const { endedAt } = this;
    const startedAt =
      follows && !Number.isNaN(endedAt) ? endedAt : this.observer.hypercallStarted();
    const result = this.run(caller, call);
    this.endedAt = this.observing
      ? this.observer.hypercall(caller, call, result, startedAt)
      : Number.NaN;
    caller.counters.hypercalls++;
    if (result.op === "status" || result.ret < 0) caller.counters.errors++;
    if (this.log.isLevelEnabled("trace")) {
      this.log.trace(
        {
          domid: caller.domid,
          op: call.op,
          ret: result.op === "status" ? undefined : describeRet(result.ret),
          status: result.op === "status" ? result.code : undefined,
        },
        "hypercall",
      );
    }
    return result;
  }

  private run(caller: Domain, call: Hypercall): HypercallResult {
    switch (call.op) {
      case "getDomainInfo":
        return {
          op: "getDomainInfo",
          ret: 0,
          info: {
            domid: caller.domid,
            memoryBytes: caller.memory.sizeBytes,
            pageSize: PAGE_SIZE,
            label: caller.label,
          },
        };
      case "readMemory": {
        if (call.length > MAX_MEMORY_ACCESS) {
          return { op: "readMemory", ret: -Errno.EINVAL, data: Buffer.alloc(0) };
        }
        const data = caller.memory.read(call.gpa, call.length);
        return data === null
          ? { op: "readMemory", ret: -Errno.EFAULT, data: Buffer.alloc(0) }
          : { op: "readMemory", ret: 0, data };
      }
      case "writeMemory": {
        if (call.data.length > MAX_MEMORY_ACCESS) return { op: "writeMemory", ret: -Errno.EINVAL };
        if (touchesReadOnlyGfn(call.gpa, call.data.length)) {
          // -EFAULT, as for a byte outside memory: Xen's copy to a read-only guest page fails
          // the same way. The reply has no message field, so the reason goes to the log.
          this.log.debug(
            { domid: caller.domid, gpa: call.gpa, length: call.data.length },
            `WriteMemory refused: ${READ_ONLY_GFN_REASON}`,
          );
          return { op: "writeMemory", ret: -Errno.EFAULT };
        }
        // The domain's memory was reserved whole at creation: only bounds can refuse a write.
        const outcome = caller.memory.write(call.gpa, call.data);
        return { op: "writeMemory", ret: outcome === "ok" ? 0 : -Errno.EFAULT };
      }
      case "registerRing":
        return { op: "registerRing", ret: this.argo.registerRing(caller, call.args) };
      case "unregisterRing":
        return { op: "unregisterRing", ret: this.argo.unregisterRing(caller, call.args) };
      case "sendv":
        return { op: "sendv", ret: this.argo.sendv(caller, call.args) };
      case "notify": {
        const { ret, entries } = this.argo.notify(caller, call.ringData);
        return { op: "notify", ret, entries };
      }
    }
  }
}
