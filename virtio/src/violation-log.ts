// SPDX-License-Identifier: Apache-2.0
/**
 * `ViolationLog`: how the virtio code records a peer's misbehaviour (virtio-argo.md §4.9,
 * "treat every peer as hostile"). Every violation is counted per kind in `stats`, which is
 * never rate-limited, and logged as one structured line through an optional pino-style logger,
 * which is: at most `maxLines` lines per `windowMs`, the rest only counted, and the next line
 * that gets through says how many were suppressed. A hostile driver or device therefore cannot
 * flood the logs (house-style §6.3; Firecracker's `InvalidAvailIdx` rationale) — and nothing
 * here ever throws or crashes the process.
 *
 * Guest payload bytes are never logged; details carry indexes, lengths and kinds only.
 */

/** Every kind of peer misbehaviour the virtio code detects. */
export const ViolationKind = {
  // Hostile driver → device side (VirtIO 1.2 §2.7.5, §2.7.4.2, §2.7.5.3).
  descriptorLoop: "descriptorLoop",
  chainTooLong: "chainTooLong",
  descIndexOutOfBounds: "descIndexOutOfBounds",
  bufferOutOfBounds: "bufferOutOfBounds",
  chainLengthOverflow: "chainLengthOverflow",
  readableAfterWritable: "readableAfterWritable",
  indirectNotNegotiated: "indirectNotNegotiated",
  indirectWithNext: "indirectWithNext",
  nestedIndirect: "nestedIndirect",
  badIndirectTable: "badIndirectTable",
  invalidAvailIdx: "invalidAvailIdx",
  // Device-specific request shape (e.g. a blk status byte in a readable descriptor).
  writableRequired: "writableRequired",
  readableRequired: "readableRequired",
  malformedRequest: "malformedRequest",
  // Hostile device → driver side (Linux BAD_RING cases).
  usedIdOutOfRange: "usedIdOutOfRange",
  usedIdNotOutstanding: "usedIdNotOutstanding",
  usedLenTooLarge: "usedLenTooLarge",
  invalidUsedIdx: "invalidUsedIdx",
  // Notifications in either direction.
  notificationFlood: "notificationFlood",
  interruptFlood: "interruptFlood",
  // Control path.
  invalidStatusTransition: "invalidStatusTransition",
  featuresAfterFeaturesOk: "featuresAfterFeaturesOk",
  queueSetupInvalid: "queueSetupInvalid",
  configAccessOutOfRange: "configAccessOutOfRange",
  configWriteDenied: "configWriteDenied",
  notifyBeforeDriverOk: "notifyBeforeDriverOk",
  /** A virtqueue reset of a queue that does not exist, or without VIRTIO_F_RING_RESET. */
  queueResetInvalid: "queueResetInvalid",
  /** A virtio-net control command that is malformed or not negotiated (acked ERR). */
  controlCommandInvalid: "controlCommandInvalid",
} as const;
export type ViolationKind = (typeof ViolationKind)[keyof typeof ViolationKind];

/** The subset of a pino logger the virtio code uses. */
export interface VirtioLogger {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** Violation counters: one per kind, plus the total and the log lines suppressed. */
export type ViolationStats = Record<ViolationKind, number> & {
  total: number;
  suppressedLines: number;
};

export interface ViolationLogOptions {
  /** Where lines go; without one, violations are only counted. */
  readonly logger?: VirtioLogger;
  /** Lines allowed per window (default 10). */
  readonly maxLines?: number;
  /** Window length in milliseconds (default 1000). */
  readonly windowMs?: number;
  /** Clock in milliseconds (tests inject one). */
  readonly now?: () => number;
  /** Fields added to every line, e.g. `{ device: "blk0" }`. */
  readonly bindings?: Readonly<Record<string, unknown>>;
}

function zeroStats(): ViolationStats {
  const stats = { total: 0, suppressedLines: 0 } as ViolationStats;
  for (const k of Object.values(ViolationKind)) stats[k] = 0;
  return stats;
}

/** Counted, rate-limited record of peer misbehaviour (see the module comment). */
export class ViolationLog {
  readonly stats: ViolationStats = zeroStats();
  readonly #logger: VirtioLogger | undefined;
  readonly #maxLines: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #bindings: Readonly<Record<string, unknown>>;
  #windowStart = Number.NEGATIVE_INFINITY;
  #linesInWindow = 0;
  #suppressedSinceLastLine = 0;

  constructor(options: ViolationLogOptions = {}) {
    this.#logger = options.logger;
    this.#maxLines = options.maxLines ?? 10;
    this.#windowMs = options.windowMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#bindings = options.bindings ?? {};
  }

  /** Counts one violation and logs it unless the window's line budget is spent. */
  report(kind: ViolationKind, details: Readonly<Record<string, unknown>> = {}): void {
    this.stats[kind]++;
    this.stats.total++;
    if (this.#logger === undefined) return;
    const now = this.#now();
    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now;
      this.#linesInWindow = 0;
    }
    if (this.#linesInWindow >= this.#maxLines) {
      this.#suppressedSinceLastLine++;
      this.stats.suppressedLines++;
      return;
    }
    this.#linesInWindow++;
    const suppressed = this.#suppressedSinceLastLine;
    this.#suppressedSinceLastLine = 0;
    this.#logger.warn(
      {
        ...this.#bindings,
        ...details,
        violation: kind,
        count: this.stats[kind],
        ...(suppressed > 0 ? { suppressed } : {}),
      },
      "virtio peer violation",
    );
  }

  /** How many violations of `kind` were seen. */
  count(kind: ViolationKind): number {
    return this.stats[kind];
  }
}
