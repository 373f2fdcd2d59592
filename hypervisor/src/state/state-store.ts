// SPDX-License-Identifier: Apache-2.0
/**
 * `--state-dir`: the hypervisor's authoritative state kept as a write-ahead journal of its
 * state-changing inputs (docs/state.md). The core is deterministic — the event loop is the
 * lock, every hypercall runs to completion, and nothing in Argo reads a clock or a random
 * source — so replaying the same inputs in the same order rebuilds the same domains, memory,
 * rings, waiters, resume logs and counters. Randomness enters only through credentials, and
 * the journal records their digests, never the credentials.
 *
 * Opening a state dir takes its lock, refuses a foreign or damaged one (naming the file and
 * offset, changing nothing), replays the journal into the registry and dispatcher, cuts off a
 * torn last record, and then records every new input through `JournalWriter`.
 */
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
} from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";

import type { HypercallDispatcher } from "../dispatch/dispatcher.js";
import type { Hypercall, HypercallResult } from "../dispatch/hypercall.js";
import type { HypercallJournal } from "../dispatch/hypercall-journal.js";
import type { DeviceChange, DeviceManager } from "../devices/device-manager.js";
import type { DomainRegistry } from "../domain/domain-registry.js";
import type { EnrolmentService } from "../fleet/enrolment.js";
import type { MacChange, MacController } from "../mac/mac-controller.js";
import { compilePolicy } from "../mac/policy.js";
import {
  fsyncDir,
  fsyncDirAsync,
  writeFileDurably,
  writeFileDurablySync,
} from "./durable-files.js";
import { FILE_HEADER_BYTES, StateFormatError, fileHeader, readJournal } from "./journal-format.js";
import { JournalWriter, openJournalFile, type JournalFile } from "./journal-writer.js";
import {
  readSnapshot,
  snapshotFileParts,
  snapshotFileName,
  snapshotGeneration,
  type SnapshotRecord,
} from "./snapshot-format.js";
import {
  MacHistory,
  captureState,
  restoreDomain,
  restoreMeta,
  restoreRecord,
  type SnapshotServices,
} from "./snapshot-state.js";
import { LOCK_FILE, acquireStateLock } from "./state-lock.js";
import {
  decodeRecord,
  encodeRecord,
  inPlaceRecordBytes,
  writeRecordInto,
  type StateRecord,
} from "./state-records.js";

export const JOURNAL_FILE = "journal.hmx";
/** Where a new journal is written before it replaces the old one. */
const NEW_JOURNAL_FILE = `${JOURNAL_FILE}.new`;

/**
 * The points of the snapshot switch, in order (docs/state.md "The switch"); a crash between
 * any two leaves a dir that recovers to the same state. Tests copy the dir at each.
 */
export type SnapshotStep =
  | "snapshot-written"
  | "snapshot-renamed"
  | "journal-written"
  | "journal-renamed"
  | "old-snapshot-removed";

export interface StateStoreOptions {
  readonly dir: string;
  /** `--state-fsync`: fsync every commit (survives machine crashes, costs a device flush). */
  readonly fsync: boolean;
  readonly log: Logger;
  /** Opens the journal for appending; tests pass a file that fails on demand. */
  readonly openFile?: (path: string) => JournalFile;
  /** A commit failed (`first`: the journal was healthy until now). */
  readonly onWriteError?: (err: Error, first: boolean) => void;
  /** A retried commit succeeded: mutating hypercalls are accepted again. */
  readonly onRecovered?: () => void;
  /** The MAC stack, whose administrative changes are journaled and replayed too. */
  readonly mac?: MacController;
  /** VirtIO device placements, whose changes are journaled and replayed (tables at gfn 0). */
  readonly devices?: DeviceManager;
  /** The enrolment tables: new instances and their secret digests are journaled too. */
  readonly enrolment?: EnrolmentService;
  /**
   * Take a snapshot once the journal has grown by this many bytes since the last one, and at a
   * clean close (`--state-snapshot-bytes`); undefined or 0: never (the journal only).
   */
  readonly snapshotBytes?: number;
  /** Called at each step of the snapshot switch (crash tests copy the dir there). */
  readonly onSnapshotStep?: (step: SnapshotStep) => void;
}

/** Longest stretch the snapshot's encoding holds the event loop before letting others run. */
const ENCODE_SLICE_MS = 4;

/** The state captured for a snapshot and when. */
interface Capture {
  readonly records: SnapshotRecord[];
  /** The journal length the records cover. */
  readonly base: number;
  readonly started: number;
  readonly captureMs: number;
}

/** What the last snapshot cost (for logs, the bench and the docs). */
export interface SnapshotStats {
  /** Snapshots completed since opening. */
  readonly count: number;
  readonly generation: number;
  /** Time the event loop was held to capture (copy) the state. */
  readonly captureMs: number;
  /** Time the event loop was held by the switch (the last records appended, the rename). */
  readonly switchMs: number;
  /** From the capture to the switch's end, the file write in between included. */
  readonly totalMs: number;
  readonly bytes: number;
  /** Journal bytes carried into the new journal (written while the snapshot was), and since. */
  readonly tailBytes: number;
}

/** The services besides the registry and dispatcher whose inputs the journal holds. */
type Journaled = Pick<StateStoreOptions, "mac" | "devices" | "enrolment">;

/** What recovery found and how long it took. */
export interface Recovery {
  /** The snapshot generation recovered from (0: the journal alone). */
  readonly snapshotGeneration: number;
  /** Records of the snapshot loaded. */
  readonly snapshotRecords: number;
  readonly snapshotBytes: number;
  readonly records: number;
  readonly domains: number;
  readonly journalBytes: number;
  /** Bytes of a torn last record that were cut off. */
  readonly tornBytes: number;
  readonly millis: number;
}

export class StateStore implements HypercallJournal {
  readonly recovery: Recovery;
  readonly #writer: JournalWriter;
  readonly #releaseLock: () => void;
  readonly #options: StateStoreOptions;
  readonly #services: SnapshotServices;
  readonly #mac: MacHistory;
  #open = true;
  /** The snapshot the current journal continues (0: none). */
  #generation: number;
  #snapshotting = false;
  /** After a failed snapshot, the journal length at which to try again. */
  #retryAtLength = 0;
  #stats: SnapshotStats | undefined;
  #count = 0;
  #switchMs = 0;

  private constructor(
    writer: JournalWriter,
    releaseLock: () => void,
    recovery: Recovery,
    options: StateStoreOptions,
    services: SnapshotServices,
    mac: MacHistory,
  ) {
    this.#writer = writer;
    this.#releaseLock = releaseLock;
    this.recovery = recovery;
    this.#options = options;
    this.#services = services;
    this.#mac = mac;
    this.#generation = recovery.snapshotGeneration;
  }

  /**
   * Opens (or creates) the state dir, loads its snapshot and replays its journal into
   * `registry` and `dispatcher`, and starts journaling them. Throws `StateFormatError` or
   * `StateLockedError` with nothing changed.
   */
  static open(
    options: StateStoreOptions,
    registry: DomainRegistry,
    dispatcher: HypercallDispatcher,
  ): StateStore {
    const { dir } = options;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, JOURNAL_FILE);
    if (!existsSync(path)) refuseForeignDir(dir, path);
    const releaseLock = acquireStateLock(dir);
    try {
      const started = performance.now();
      if (!existsSync(path)) createJournal(dir);
      const bytes = readFileSync(path);
      const contents = readJournal(path, bytes);
      const services: SnapshotServices = {
        registry,
        dispatcher,
        devices: options.devices,
        enrolment: options.enrolment,
      };
      const mac = new MacHistory();
      const replayMac = (change: MacChange): void => {
        if (options.mac !== undefined) replayMacChange(options.mac, change);
        mac.note(change);
      };
      let snapshot = { records: 0, bytes: 0 };
      dispatcher.observing = false;
      try {
        if (contents.generation > 0) {
          snapshot = loadSnapshot(dir, path, contents.generation, services, replayMac);
        }
        for (const { offset, payload } of contents.records) {
          let record: StateRecord;
          try {
            record = decodeRecord(payload);
          } catch (err) {
            throw new StateFormatError(
              path,
              offset,
              `undecodable record: ${(err as Error).message}`,
            );
          }
          replay(record, registry, dispatcher, options, replayMac);
        }
      } finally {
        dispatcher.observing = true;
      }
      if (contents.tornBytes > 0) {
        options.log.warn(
          { file: path, offset: contents.validBytes, bytes: contents.tornBytes },
          "state journal: dropped a torn last record (the process died while writing it)",
        );
        truncateSync(path, contents.validBytes);
      }
      removeLeftovers(dir, contents.generation, options.log);
      // The writer exists before the store, whose snapshot check it calls after each commit.
      let committed = (): void => undefined;
      const writer = new JournalWriter((options.openFile ?? openJournalFile)(path), {
        length: contents.validBytes,
        fsync: options.fsync,
        onError: (err, first) => {
          if (first)
            options.log.error(
              { err: err.message, file: path },
              "state journal write failed: refusing mutating hypercalls",
            );
          options.onWriteError?.(err, first);
        },
        onRecovered: () => {
          options.log.warn(
            { file: path },
            "state journal writes again: accepting mutating hypercalls",
          );
          options.onRecovered?.();
        },
        onCommitted: () => {
          committed();
        },
      });
      const store = new StateStore(
        writer,
        releaseLock,
        {
          snapshotGeneration: contents.generation,
          snapshotRecords: snapshot.records,
          snapshotBytes: snapshot.bytes,
          records: contents.records.length,
          domains: registry.size,
          journalBytes: contents.validBytes,
          tornBytes: contents.tornBytes,
          millis: performance.now() - started,
        },
        options,
        services,
        mac,
      );
      store.#attach(registry, dispatcher, options);
      committed = () => {
        store.#maybeSnapshot();
      };
      return store;
    } catch (err) {
      releaseLock();
      throw err;
    }
  }

  get failure(): string | undefined {
    return this.#writer.failure;
  }

  /** Writes what this turn has recorded so far now (tests, and a clean stop, use it). */
  commit(): boolean {
    return this.#writer.commit();
  }

  /** The journal's committed length in bytes. */
  get journalBytes(): number {
    return this.#writer.length;
  }

  /** Commits written and bytes appended since opening. */
  get written(): { readonly commits: number; readonly bytes: number } {
    return { commits: this.#writer.commits, bytes: this.#writer.bytes };
  }

  /** The last completed snapshot's costs, or undefined if none was taken since opening. */
  get lastSnapshot(): SnapshotStats | undefined {
    return this.#stats;
  }

  /** Whether a snapshot is being written now. */
  get snapshotting(): boolean {
    return this.#snapshotting;
  }

  executed(domid: number, requestId: number, call: Hypercall): void {
    this.#append({ kind: "hypercall", domid, requestId, call });
  }

  answered(domid: number, requestId: number, result: HypercallResult): void {
    this.#append({ kind: "answered", domid, requestId, result });
  }

  acknowledged(domid: number, ackThrough: number): void {
    this.#append({ kind: "acknowledged", domid, ackThrough });
  }

  /**
   * Takes a snapshot now: the state is captured (copied) in this turn; the records are encoded
   * in slices of a few milliseconds, the file written and fsynced on the thread pool, and the
   * new journal written ahead with the records appended meanwhile, all while the journal goes
   * on; then one short turn appends the last few records and renames the new journal into
   * place. Resolves true once the new snapshot and journal are the state dir's; false when it
   * was not taken (one already running, the store closed, the journal failing) or failed
   * (logged; the old journal stays in use and a later snapshot is tried).
   */
  async snapshot(): Promise<boolean> {
    if (!this.#open || this.#snapshotting || !this.#writer.commit()) return false;
    this.#snapshotting = true;
    const generation = this.#generation + 1;
    const { dir } = this.#options;
    try {
      const capture = this.#capture();
      const buffers: Buffer[] = [];
      let slice = performance.now();
      for (const part of snapshotFileParts(generation, capture.records)) {
        buffers.push(part);
        if (performance.now() - slice > ENCODE_SLICE_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          slice = performance.now();
        }
      }
      const file = join(dir, snapshotFileName(generation));
      await writeFileDurably(`${file}.new`, buffers);
      this.#step("snapshot-written");
      this.#throwIfClosed();
      await rename(`${file}.new`, file);
      await fsyncDirAsync(dir);
      this.#step("snapshot-renamed");
      this.#throwIfClosed();
      const ahead = this.#writer.length;
      const path = join(dir, JOURNAL_FILE);
      await writeFileDurably(join(dir, NEW_JOURNAL_FILE), [
        fileHeader(generation),
        readRange(path, capture.base, ahead),
      ]);
      this.#step("journal-written");
      this.#throwIfClosed();
      const previous = this.#switch(generation, capture, ahead);
      await fsyncDirAsync(dir);
      if (previous > 0) {
        await rm(join(dir, snapshotFileName(previous)), { force: true });
        await fsyncDirAsync(dir);
      }
      this.#step("old-snapshot-removed");
      this.#finished(generation, capture, buffers);
      return true;
    } catch (err) {
      this.#snapshotFailed(generation, err);
      return false;
    } finally {
      this.#snapshotting = false;
    }
  }

  /** Writes what is pending and stops journaling; the state on disk is then final. */
  close(): void {
    if (!this.#open) return;
    try {
      if (this.#snapshotsOn() && !this.#snapshotting && this.#writer.commit()) this.#snapshotSync();
    } finally {
      this.#open = false;
      try {
        this.#writer.close();
      } finally {
        this.#releaseLock();
      }
    }
  }

  /** After an await: a close meanwhile ends the snapshot (the close wrote its own, or none). */
  #throwIfClosed(): void {
    if (!this.#open) throw new Error("the state store was closed while the snapshot was written");
  }

  #snapshotsOn(): boolean {
    return (this.#options.snapshotBytes ?? 0) > 0;
  }

  /** After each commit: start a snapshot in a later turn once the journal is long enough. */
  #maybeSnapshot(): void {
    if (!this.#snapshotsOn() || this.#snapshotting || !this.#open) return;
    const grown = this.#writer.length - FILE_HEADER_BYTES;
    if (grown < (this.#options.snapshotBytes ?? 0) || this.#writer.length < this.#retryAtLength)
      return;
    this.#snapshotting = true; // claimed now, so the commits until it starts do not queue more
    setImmediate(() => {
      this.#snapshotting = false;
      void this.snapshot();
    }).unref();
  }

  /**
   * The snapshot of a clean close, the same steps blocking: nothing else runs now, so the new
   * journal is only a header.
   */
  #snapshotSync(): void {
    if (this.#writer.length === FILE_HEADER_BYTES) return; // nothing since the last snapshot
    const generation = this.#generation + 1;
    const { dir } = this.#options;
    try {
      const capture = this.#capture();
      const buffers = [...snapshotFileParts(generation, capture.records)];
      const file = join(dir, snapshotFileName(generation));
      writeFileDurablySync(`${file}.new`, buffers);
      this.#step("snapshot-written");
      renameSync(`${file}.new`, file);
      fsyncDir(dir);
      this.#step("snapshot-renamed");
      writeFileDurablySync(join(dir, NEW_JOURNAL_FILE), [fileHeader(generation)]);
      this.#step("journal-written");
      const previous = this.#switch(generation, capture, capture.base);
      fsyncDir(dir);
      if (previous > 0) {
        rmSync(join(dir, snapshotFileName(previous)), { force: true });
        fsyncDir(dir);
      }
      this.#step("old-snapshot-removed");
      this.#finished(generation, capture, buffers);
    } catch (err) {
      this.#snapshotFailed(generation, err);
    }
  }

  /** The state as records, copied in this turn; `base` is the journal length they cover. */
  #capture(): Capture {
    const started = performance.now();
    const mac = this.#options.mac;
    const firewall = mac?.firewallTable.rules.map((r): MacChange => ({
      kind: "firewall-add",
      spec: { src: r.src, dst: r.dst, verdict: r.verdict },
      position: 0,
    }));
    const records = captureState(this.#services, this.#mac.changes(firewall ?? []));
    return { records, base: this.#writer.length, started, captureMs: performance.now() - started };
  }

  /**
   * The commit point, in one short turn: the records committed since `ahead` are appended to
   * the new journal (which already holds those from `base` to `ahead`), and the new journal is
   * renamed over the old one. Returns the generation it replaced.
   */
  #switch(generation: number, capture: Capture, ahead: number): number {
    const started = performance.now();
    if (!this.#writer.commit()) throw new Error(this.#writer.failure);
    const { dir } = this.#options;
    const path = join(dir, JOURNAL_FILE);
    const newPath = join(dir, NEW_JOURNAL_FILE);
    const rest = readRange(path, ahead, this.#writer.length);
    const length = FILE_HEADER_BYTES + this.#writer.length - capture.base;
    const file = (this.#options.openFile ?? openJournalFile)(newPath);
    try {
      if (rest.length > 0) file.writeAt(rest, length - rest.length);
      if (this.#options.fsync) file.sync();
      renameSync(newPath, path);
    } catch (err) {
      file.close();
      throw err;
    }
    // The descriptor follows the file through the rename: it is now the journal's.
    this.#writer.replaceFile(file, length);
    const previous = this.#generation;
    this.#generation = generation;
    this.#retryAtLength = 0;
    this.#switchMs = performance.now() - started;
    this.#step("journal-renamed");
    return previous;
  }

  #finished(generation: number, capture: Capture, buffers: readonly Buffer[]): void {
    this.#count++;
    this.#stats = {
      count: this.#count,
      generation,
      captureMs: capture.captureMs,
      switchMs: this.#switchMs,
      totalMs: performance.now() - capture.started,
      bytes: buffers.reduce((n, b) => n + b.length, 0),
      tailBytes: this.#writer.length - FILE_HEADER_BYTES,
    };
    this.#options.log.info({ ...this.#stats }, "state snapshot taken; journal restarted");
  }

  /** A snapshot that did not complete: its files go, the old journal stays, retry later. */
  #snapshotFailed(generation: number, err: unknown): void {
    if (generation > this.#generation) {
      const file = join(this.#options.dir, snapshotFileName(generation));
      rmSync(`${file}.new`, { force: true });
      rmSync(file, { force: true });
      rmSync(join(this.#options.dir, NEW_JOURNAL_FILE), { force: true });
    }
    // Try again after another threshold's worth of journal, not on every commit.
    this.#retryAtLength = this.#writer.length + (this.#options.snapshotBytes ?? 0);
    this.#options.log.warn(
      { err: (err as Error).message, generation },
      "state snapshot failed; the journal goes on and a later snapshot is tried",
    );
  }

  #step(step: SnapshotStep): void {
    this.#options.onSnapshotStep?.(step);
  }

  #append(record: StateRecord): void {
    if (!this.#open) return;
    const inPlace = inPlaceRecordBytes(record);
    if (inPlace === undefined) this.#writer.append(encodeRecord(record));
    else this.#writer.appendInto(inPlace, writeRecordInto, record);
  }

  #attach(
    registry: DomainRegistry,
    dispatcher: HypercallDispatcher,
    { mac, devices, enrolment }: Journaled,
  ): void {
    if (mac !== undefined) {
      mac.onChange = (change) => {
        this.#mac.note(change);
        this.#append({ kind: "mac", change });
      };
    }
    if (devices !== undefined) {
      devices.onChange = (change) => {
        this.#append({ kind: "device", change });
      };
    }
    if (enrolment !== undefined) {
      enrolment.onRecord = (record) => {
        this.#append({ kind: "enrolled", ...record });
      };
    }
    registry.addHooks({
      created: (domain, digest) => {
        this.#append({
          kind: "domain-created",
          domid: domain.domid,
          name: domain.name,
          label: domain.label,
          memoryBytes: domain.memory.sizeBytes,
          privileged: domain.privileged,
          digest: digest.toString("hex"),
        });
      },
      credentialRevoked: (domain, digest) => {
        this.#append({ kind: "credential", domid: domain.domid, digest: digest.toString("hex") });
      },
      destroying: (domain) => {
        this.#append({ kind: "domain-destroyed", domid: domain.domid });
      },
    });
    dispatcher.journal = this;
  }
}

/** Applies one journal record, as the live hypervisor applied the input it records. */
function replay(
  record: StateRecord,
  registry: DomainRegistry,
  dispatcher: HypercallDispatcher,
  { devices, enrolment }: Journaled,
  replayMac: (change: MacChange) => void,
): void {
  switch (record.kind) {
    case "mac":
      replayMac(record.change);
      return;
    case "device":
      if (devices !== undefined) replayDeviceChange(devices, record.change);
      return;
    case "enrolled": {
      const { domid, template, secretDigest } = record;
      enrolment?.restore({ domid, template, secretDigest });
      return;
    }
    case "domain-created":
      restoreDomain(registry, record);
      return;
    case "credential":
      registry.restoreCredential(record.domid, Buffer.from(record.digest, "hex"));
      return;
    case "domain-destroyed":
      registry.destroy(record.domid);
      return;
    case "acknowledged": {
      const domain = registry.get(record.domid);
      if (domain !== undefined) dispatcher.acknowledge(domain, record.ackThrough);
      return;
    }
    case "hypercall": {
      const domain = registry.get(record.domid);
      if (domain === undefined) return;
      if (record.requestId > 0) dispatcher.executeOnce(domain, record.requestId, record.call);
      else dispatcher.execute(domain, record.call);
      return;
    }
    case "answered": {
      const domain = registry.get(record.domid);
      if (domain !== undefined)
        dispatcher.answerOnce(domain, record.requestId, () => record.result);
      return;
    }
  }
}

/** Applies a journaled placement change as the toolstack (or enrolment) made it. */
function replayDeviceChange(devices: DeviceManager, change: DeviceChange): void {
  if (change.kind === "attached") devices.attach(change.frontendDomid, change.specs);
  else devices.detach(change.frontendDomid, change.devIndex);
}

/** Applies a journaled MAC change as the toolstack applied it. */
function replayMacChange(mac: MacController, change: MacChange): void {
  switch (change.kind) {
    case "policy": {
      const compiled = compilePolicy(change.source, change.fileName);
      if (!compiled.ok) throw new Error(`journaled policy ${change.fileName} no longer compiles`);
      mac.loadPolicy(compiled.policy);
      return;
    }
    case "flask-mode":
      mac.setFlaskMode(change.mode);
      return;
    case "firewall-add":
      mac.addFirewallRule(change.spec, change.position);
      return;
    case "firewall-delete":
      mac.deleteFirewallRuleAt(change.position);
      return;
    case "firewall-delete-matching":
      mac.deleteFirewallRuleMatching(change.pattern);
      return;
    case "firewall-flush":
      mac.flushFirewall();
      return;
    case "firewall-default":
      mac.setFirewallDefault(change.verdict);
      return;
  }
}

/** Loads the snapshot a journal continues; refuses a missing or damaged one. */
function loadSnapshot(
  dir: string,
  journalPath: string,
  generation: number,
  services: SnapshotServices,
  replayMac: (change: MacChange) => void,
): { records: number; bytes: number } {
  const file = join(dir, snapshotFileName(generation));
  if (!existsSync(file)) {
    throw new StateFormatError(
      journalPath,
      12,
      `the journal continues snapshot ${generation}, but ${file} is missing`,
    );
  }
  const bytes = readFileSync(file);
  const records = readSnapshot(file, bytes, generation);
  for (const record of records) {
    try {
      restoreRecord(record, services, replayMac);
    } catch (err) {
      throw new StateFormatError(
        file,
        0,
        `${record.kind} record cannot be restored: ${(err as Error).message}`,
        "snapshot",
      );
    }
  }
  restoreMeta(records, services.registry);
  return { records: records.length, bytes: bytes.length };
}

/**
 * Removes what an interrupted snapshot switch left behind: any snapshot but the one the journal
 * continues (a newer one the journal never came to name, an older one not yet removed), and
 * the temporary `.new` files. Only after a successful recovery, and only those names.
 */
function removeLeftovers(dir: string, generation: number, log: Logger): void {
  const leftovers = readdirSync(dir).filter((f) => {
    if (f === NEW_JOURNAL_FILE) return true;
    const g = snapshotGeneration(f);
    return g !== undefined && (g !== generation || f.endsWith(".new"));
  });
  for (const f of leftovers) rmSync(join(dir, f), { force: true });
  if (leftovers.length > 0) {
    fsyncDir(dir);
    log.info({ files: leftovers }, "state dir: removed what an interrupted snapshot left");
  }
}

/** Bytes `[from, to)` of a file. */
function readRange(path: string, from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(to - from);
  const fd = openSync(path, "r");
  try {
    let done = 0;
    while (done < out.length) {
      const n = readSync(fd, out, done, out.length - done, from + done);
      if (n === 0) throw new Error(`${path} ended at ${from + done}, before ${to}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** A state dir with files but no journal is someone else's: never write into it. */
function refuseForeignDir(dir: string, path: string): void {
  const others = readdirSync(dir).filter(
    (f) => f !== LOCK_FILE && !f.startsWith(`${LOCK_FILE}.`) && f !== NEW_JOURNAL_FILE,
  );
  if (others.length > 0) {
    throw new StateFormatError(
      path,
      0,
      `no journal, but ${dir} holds ${others.length} other file(s) (${others.slice(0, 3).join(", ")}): not an hmx state dir`,
    );
  }
}

/** Writes an empty journal atomically: header to a temporary file, fsync, rename. */
function createJournal(dir: string): void {
  const temporary = join(dir, NEW_JOURNAL_FILE);
  writeFileDurablySync(temporary, [fileHeader()]);
  renameSync(temporary, join(dir, JOURNAL_FILE));
  fsyncDir(dir);
}
