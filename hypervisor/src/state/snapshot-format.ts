// SPDX-License-Identifier: Apache-2.0
/**
 * The on-disk format of a state snapshot (docs/state.md "Snapshots"): the journal's framing
 * (a 16-byte file header, then records each with a length, a CRC-32 and a check word), with
 * its own magic "HMXSNAPS", so a snapshot can never be mistaken for a journal or the other way
 * round, and the snapshot's generation in the header's last word. The records describe the
 * state itself rather than the inputs that built it: guest pages raw, everything else JSON.
 *
 * A snapshot is fsynced before anything refers to it, so unlike the journal it has no torn
 * tail: a file that ends inside a record, or lacks the closing `end` record, is damaged and
 * refused, naming the file and the offset.
 */
import { PAGE_SIZE } from "@hmx/proto/abi";

import type { DomainCounters } from "../domain/domain.js";
import type { DeviceState } from "../devices/device-manager.js";
import type { HypercallResult } from "../dispatch/hypercall.js";
import type { EnrolmentRecord } from "../fleet/enrolment.js";
import type { MacChange } from "../mac/mac-controller.js";
import {
  MAX_RECORD_PAYLOAD,
  StateFormatError,
  fileHeader,
  frameRecord,
  readJournal,
  type FileKind,
} from "./journal-format.js";
import { fromJson, toJson, type DomainIdentity } from "./state-records.js";

const SNAPSHOT_MAGIC = Buffer.from("HMXSNAPS", "latin1");
/** Bumped on any incompatible change of the snapshot's records. */
export const SNAPSHOT_VERSION = 1;
const SNAPSHOT_KIND: FileKind = {
  magic: SNAPSHOT_MAGIC,
  noun: "snapshot",
  what: "an hmx state snapshot",
  versions: [SNAPSHOT_VERSION],
};

/** `snapshot-<generation>.hmx`: generations count up from 1; the journal names the one it continues. */
export function snapshotFileName(generation: number): string {
  return `snapshot-${String(generation).padStart(8, "0")}.hmx`;
}

/** The generation a snapshot file's name carries (or of its temporary `.new`), else undefined. */
export function snapshotGeneration(fileName: string): number | undefined {
  const match = /^snapshot-(\d{8})\.hmx(\.new)?$/.exec(fileName);
  return match === null ? undefined : Number(match[1]);
}

/** One ring as the snapshot keeps it: enough to rebuild its `RingInfo` over restored pages. */
export interface RingImage {
  readonly aport: number;
  readonly partnerId: number;
  readonly len: number;
  readonly gfns: readonly number[];
  readonly txPtr: number;
  /** Space waiters in queue order: [domid, payload bytes]. */
  readonly waiters: readonly (readonly [number, number])[];
}

export type SnapshotRecord =
  /** First: the domid counter (it runs past destroyed domains) and how many domains follow. */
  | { readonly kind: "meta"; readonly nextDomid: number; readonly domains: number }
  /** The MAC changes that rebuild today's policy, flask mode and firewall from the boot flags. */
  | { readonly kind: "mac"; readonly change: MacChange }
  | ({ readonly kind: "domain"; readonly counters: DomainCounters } & DomainIdentity)
  /** Materialised pages of one domain (a domain with many pages has several of these). */
  | { readonly kind: "pages"; readonly domid: number; readonly pages: readonly PageImage[] }
  | ({ readonly kind: "enrolled" } & EnrolmentRecord)
  | { readonly kind: "devices"; readonly state: DeviceState }
  /** One domain's rings, after every domain exists (partners and waiters refer across domains). */
  | { readonly kind: "rings"; readonly domid: number; readonly rings: readonly RingImage[] }
  | {
      readonly kind: "resume";
      readonly domid: number;
      readonly highest: number;
      readonly results: readonly (readonly [number, HypercallResult])[];
    }
  /** Last: the number of records before it, so a file cut at a record boundary is caught. */
  | { readonly kind: "end"; readonly records: number };

export interface PageImage {
  readonly gfn: number;
  readonly bytes: Buffer;
}

const KIND_CODES = {
  meta: 1,
  mac: 2,
  domain: 3,
  pages: 4,
  enrolled: 5,
  devices: 6,
  rings: 7,
  resume: 8,
  end: 9,
} as const;
const KIND_NAMES = Object.fromEntries(Object.entries(KIND_CODES).map(([k, v]) => [v, k])) as Record<
  number,
  SnapshotRecord["kind"]
>;

/** kind u8, domid u16, page count u32; then per page gfn u32 and its 4096 bytes. */
const PAGES_PREFIX_BYTES = 7;
const PAGE_ENTRY_BYTES = 4 + PAGE_SIZE;
/** Pages per `pages` record: well inside MAX_RECORD_PAYLOAD. */
export const PAGES_PER_RECORD = Math.floor(
  (MAX_RECORD_PAYLOAD / 2 - PAGES_PREFIX_BYTES) / PAGE_ENTRY_BYTES,
);

/** A record's payload bytes; page bytes are copied, so the payload is a copy of the state. */
export function encodeSnapshotRecord(record: SnapshotRecord): Buffer {
  const code = KIND_CODES[record.kind];
  if (record.kind !== "pages") {
    return Buffer.concat([Buffer.of(code), Buffer.from(toJson(record), "utf8")]);
  }
  const out = Buffer.allocUnsafe(PAGES_PREFIX_BYTES + record.pages.length * PAGE_ENTRY_BYTES);
  out.writeUInt8(code, 0);
  out.writeUInt16LE(record.domid, 1);
  out.writeUInt32LE(record.pages.length, 3);
  let at = PAGES_PREFIX_BYTES;
  for (const { gfn, bytes } of record.pages) {
    out.writeUInt32LE(gfn, at);
    bytes.copy(out, at + 4, 0, PAGE_SIZE);
    at += PAGE_ENTRY_BYTES;
  }
  return out;
}

/** Decodes a payload `encodeSnapshotRecord` made; throws on anything else. */
export function decodeSnapshotRecord(payload: Buffer): SnapshotRecord {
  const kind = KIND_NAMES[payload.readUInt8(0)];
  if (kind === undefined) throw new Error(`unknown snapshot record kind ${payload.readUInt8(0)}`);
  if (kind !== "pages") {
    const record = fromJson(payload.subarray(1).toString("utf8")) as SnapshotRecord;
    if (record.kind !== kind) throw new Error(`record kind ${kind} holds a ${record.kind}`);
    return record;
  }
  const domid = payload.readUInt16LE(1);
  const count = payload.readUInt32LE(3);
  if (payload.length !== PAGES_PREFIX_BYTES + count * PAGE_ENTRY_BYTES) {
    throw new Error(`pages record of ${payload.length} bytes does not hold ${count} pages`);
  }
  const pages: PageImage[] = [];
  for (let i = 0, at = PAGES_PREFIX_BYTES; i < count; i++, at += PAGE_ENTRY_BYTES) {
    pages.push({
      gfn: payload.readUInt32LE(at),
      bytes: payload.subarray(at + 4, at + PAGE_ENTRY_BYTES),
    });
  }
  return { kind, domid, pages };
}

/**
 * A whole snapshot file as the buffers to write in order: header, framed records, the end
 * record. A generator, so the caller can encode it in slices between event-loop turns.
 */
export function* snapshotFileParts(
  generation: number,
  records: readonly SnapshotRecord[],
): Generator<Buffer> {
  yield fileHeader(generation, SNAPSHOT_MAGIC, SNAPSHOT_VERSION);
  for (const record of records) yield frameRecord(encodeSnapshotRecord(record));
  yield frameRecord(encodeSnapshotRecord({ kind: "end", records: records.length }));
}

/**
 * Reads a snapshot file's records (without the `end` record). Refuses, naming the file and the
 * offset, a foreign file, another version, another generation than the journal names, damage,
 * and a file that is not complete.
 */
export function readSnapshot(file: string, bytes: Buffer, generation: number): SnapshotRecord[] {
  const contents = readJournal(file, bytes, SNAPSHOT_KIND);
  const fail = (offset: number, reason: string): StateFormatError =>
    new StateFormatError(file, offset, reason, "snapshot");
  if (contents.generation !== generation) {
    throw fail(
      12,
      `generation ${contents.generation}, but the journal continues generation ${generation}`,
    );
  }
  if (contents.tornBytes > 0) {
    throw fail(
      contents.validBytes,
      `the file ends inside a record (${contents.tornBytes} bytes; a snapshot is complete before it is used: damaged)`,
    );
  }
  const records: SnapshotRecord[] = [];
  for (const { offset, payload } of contents.records) {
    try {
      records.push(decodeSnapshotRecord(payload));
    } catch (err) {
      throw fail(offset, `undecodable record: ${(err as Error).message} (damaged)`);
    }
  }
  const read = records.length;
  const end = records.pop();
  if (end?.kind !== "end" || end.records !== records.length) {
    throw fail(
      contents.validBytes,
      `no end record after ${read} records (the snapshot is incomplete: damaged)`,
    );
  }
  return records;
}
