// SPDX-License-Identifier: Apache-2.0
/**
 * The history's sequence across restarts (docs/state.md "The history across a restart"). With
 * `--state-dir`, a restarted hypervisor continues the seq where the last run stopped, so a harness
 * resuming with `since` gets a `gap` naming what the restart lost instead of a history that
 * silently starts again at 1. Only the seq survives: the retained window is not persisted, so
 * the events of the earlier run are gone (the gap says so).
 *
 * Writing the seq per event would cost the data path a file write each; instead the file holds a
 * reservation: seqs up to `reservedThrough` may be used before the file must be rewritten, one
 * block at a time. A killed run therefore used some seq ≤ its reservation, and the next run
 * starts just past it (the gap then also covers seqs that were reserved and never used). A clean
 * stop writes the exact next seq, so the gap after a restart is exact. The file is replaced
 * through a rename, so the process dying mid-write leaves the old reservation, never half a file;
 * with `--state-fsync` each write is fsynced too, like the journal.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

/** The file's name in the state dir. */
export const HISTORY_SEQ_FILE = "history-seq";
const FORMAT = "hmx-history-seq";
const VERSION = 1;
/** Seqs reserved per rewrite: at 100,000 events a second, about one small write a second. */
export const DEFAULT_SEQ_BLOCK = 1 << 17;

/** What the file says about the run before this one. */
export interface PreviousRun {
  /** Every seq the earlier run may have used is below this. */
  readonly nextSeq: number;
  /** Whether it stopped cleanly (then `nextSeq` is exact; after a kill it is its reservation). */
  readonly clean: boolean;
}

interface SeqRecord {
  readonly format: string;
  readonly version: number;
  /** clean: the exact next seq; otherwise one past the reservation. */
  readonly nextSeq: number;
  readonly clean: boolean;
}

/** The history's side of the reservation (history.ts calls it when a seq is past it). */
export interface SeqReservation {
  /** The first seq of this run. */
  readonly firstSeq: number;
  /** The run before, or undefined on the first start of a state dir. */
  readonly previous: PreviousRun | undefined;
  /** Seqs up to this may be used now. */
  readonly reservedThrough: number;
  /** Makes `seq` usable (a durable rewrite); returns the new `reservedThrough`. */
  reserve(seq: number): number;
}

/** The seq file is damaged or not ours: refused by name, never overwritten. */
export class HistorySeqError extends Error {
  override readonly name = "HistorySeqError";
}

function parse(path: string, text: string): SeqRecord {
  let record: Partial<SeqRecord>;
  try {
    record = JSON.parse(text) as Partial<SeqRecord>;
  } catch (err) {
    throw new HistorySeqError(`history seq file ${path} is damaged: ${(err as Error).message}`);
  }
  if (record.format !== FORMAT || record.version !== VERSION)
    throw new HistorySeqError(
      `history seq file ${path} is not format ${FORMAT} version ${VERSION} (found ${JSON.stringify(record.format)} version ${JSON.stringify(record.version)})`,
    );
  if (
    typeof record.nextSeq !== "number" ||
    !Number.isSafeInteger(record.nextSeq) ||
    record.nextSeq < 1 ||
    typeof record.clean !== "boolean"
  )
    throw new HistorySeqError(
      `history seq file ${path} is damaged: nextSeq ${JSON.stringify(record.nextSeq)} is not a positive integer or clean is missing`,
    );
  return record as SeqRecord;
}

export class HistorySeqFile implements SeqReservation {
  readonly path: string;
  readonly firstSeq: number;
  readonly previous: PreviousRun | undefined;
  #reservedThrough: number;

  /**
   * Reads the state dir's seq file (if any) and reserves the first block of this run. Call it
   * only once the state dir is this hypervisor's (its lock taken); a damaged file throws.
   */
  constructor(
    dir: string,
    private readonly options: {
      readonly fsync: boolean;
      readonly block?: number;
      /**
       * A rewrite after start failed (a full disk). The history goes on (it must not take the
       * data path down); a restart may then reuse seqs, and a harness resuming with `since` is
       * refused as "from another run" rather than misled.
       */
      readonly onWriteError?: (err: Error) => void;
    } = { fsync: false },
  ) {
    this.path = join(dir, HISTORY_SEQ_FILE);
    let text: string | undefined;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    const record = text === undefined ? undefined : parse(this.path, text);
    this.previous =
      record === undefined ? undefined : { nextSeq: record.nextSeq, clean: record.clean };
    this.firstSeq = record?.nextSeq ?? 1;
    // The first reservation must be durable: a failure here is the start's failure.
    this.#reservedThrough = this.#reserveFrom(this.firstSeq);
  }

  get reservedThrough(): number {
    return this.#reservedThrough;
  }

  reserve(seq: number): number {
    try {
      this.#reservedThrough = this.#reserveFrom(seq);
    } catch (err) {
      this.options.onWriteError?.(err as Error);
      // Tried again a block later, not on every event while the disk stays full.
      this.#reservedThrough = seq - 1 + (this.options.block ?? DEFAULT_SEQ_BLOCK);
    }
    return this.#reservedThrough;
  }

  #reserveFrom(seq: number): number {
    const through = seq - 1 + (this.options.block ?? DEFAULT_SEQ_BLOCK);
    this.#write({ format: FORMAT, version: VERSION, nextSeq: through + 1, clean: false });
    return through;
  }

  /** A clean stop: the next run starts exactly at `nextSeq` (a failure keeps the reservation). */
  close(nextSeq: number): void {
    try {
      this.#write({ format: FORMAT, version: VERSION, nextSeq, clean: true });
    } catch (err) {
      this.options.onWriteError?.(err as Error);
    }
  }

  #write(record: SeqRecord): void {
    const temporary = `${this.path}.new`;
    const fd = openSync(temporary, "w", 0o600);
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
      if (this.options.fsync) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, this.path);
    if (this.options.fsync) {
      const dirFd = openSync(join(this.path, ".."), "r");
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    }
  }
}
