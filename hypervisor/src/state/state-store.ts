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
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  closeSync,
  readdirSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeSync,
} from "node:fs";
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
import { StateFormatError, fileHeader, readJournal } from "./journal-format.js";
import { JournalWriter, openJournalFile, type JournalFile } from "./journal-writer.js";
import { LOCK_FILE, acquireStateLock } from "./state-lock.js";
import { decodeRecord, encodeRecord, type StateRecord } from "./state-records.js";

export const JOURNAL_FILE = "journal.hmx";

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
}

/** The services besides the registry and dispatcher whose inputs the journal holds. */
type Journaled = Pick<StateStoreOptions, "mac" | "devices" | "enrolment">;

/** What recovery found and how long it took. */
export interface Recovery {
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
  #open = true;

  private constructor(writer: JournalWriter, releaseLock: () => void, recovery: Recovery) {
    this.#writer = writer;
    this.#releaseLock = releaseLock;
    this.recovery = recovery;
  }

  /**
   * Opens (or creates) the state dir, replays its journal into `registry` and `dispatcher`, and
   * starts journaling them. Throws `StateFormatError` or `StateLockedError` with nothing changed.
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
      if (!existsSync(path)) createJournal(path);
      const bytes = readFileSync(path);
      const contents = readJournal(path, bytes);
      dispatcher.observing = false;
      try {
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
          replay(record, registry, dispatcher, options);
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
      });
      const store = new StateStore(writer, releaseLock, {
        records: contents.records.length,
        domains: registry.size,
        journalBytes: contents.validBytes,
        tornBytes: contents.tornBytes,
        millis: performance.now() - started,
      });
      store.#attach(registry, dispatcher, options);
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

  executed(domid: number, requestId: number, call: Hypercall): void {
    this.#append({ kind: "hypercall", domid, requestId, call });
  }

  answered(domid: number, requestId: number, result: HypercallResult): void {
    this.#append({ kind: "answered", domid, requestId, result });
  }

  acknowledged(domid: number, ackThrough: number): void {
    this.#append({ kind: "acknowledged", domid, ackThrough });
  }

  /** Writes what is pending and stops journaling; the state on disk is then final. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      this.#writer.close();
    } finally {
      this.#releaseLock();
    }
  }

  #append(record: StateRecord): void {
    if (this.#open) this.#writer.append(encodeRecord(record));
  }

  #attach(
    registry: DomainRegistry,
    dispatcher: HypercallDispatcher,
    { mac, devices, enrolment }: Journaled,
  ): void {
    if (mac !== undefined) {
      mac.onChange = (change) => {
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
  { mac, devices, enrolment }: Journaled,
): void {
  switch (record.kind) {
    case "mac":
      if (mac !== undefined) replayMacChange(mac, record.change);
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
      registry.restore(
        {
          name: record.name,
          label: record.label,
          memoryBytes: record.memoryBytes,
          privileged: record.privileged,
        },
        record.domid,
        Buffer.from(record.digest, "hex"),
      );
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

/** A state dir with files but no journal is someone else's: never write into it. */
function refuseForeignDir(dir: string, path: string): void {
  const others = readdirSync(dir).filter(
    (f) => f !== LOCK_FILE && !f.startsWith(`${LOCK_FILE}.`) && f !== `${JOURNAL_FILE}.new`,
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
function createJournal(path: string): void {
  const temporary = `${path}.new`;
  const fd = openSync(temporary, "w");
  try {
    writeSync(fd, fileHeader());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}
