// SPDX-License-Identifier: Apache-2.0
/**
 * The on-disk format of the state journal (docs/state.md): a 16-byte file header (magic
 * "HMXSTATE", format version, reserved) and then records, each a 12-byte frame header
 * (payload length, CRC-32 of the payload, a check word = length XOR CRC XOR "HMXS") and the
 * payload. The check word makes a damaged length detectable: without it a flipped length bit
 * would look like a torn tail and silently cut every record after it. (A second CRC over the
 * header would cost a native call per record on the hot path for no better single-flip
 * detection.)
 *
 * Reading tells three things apart: a torn tail (the process died inside a write: the file ends
 * inside a record, or the last record's payload fails its CRC), which is dropped; damage (any
 * other CRC failure), which is an error naming the file and offset; and a foreign file or
 * another version, refused before anything is read.
 */
import { crc32Of } from "../crc32.js";

/** The first 8 bytes of every journal file. */
export const JOURNAL_MAGIC = Buffer.from("HMXSTATE", "latin1");
/**
 * Bumped on any incompatible change of the file or record layout. Version 2 gives the header's
 * last word a meaning: the generation of the snapshot the journal continues (0: none, replay
 * from an empty hypervisor). Version 1 files (reserved word 0) are still read: they are
 * generation 0. An older hypervisor refuses version 2, so it cannot replay a journal whose
 * beginning is in a snapshot it does not know about.
 */
export const JOURNAL_VERSION = 3;
/**
 * Versions this hypervisor reads. Version 3 adds binary records (acknowledgements and Sendv,
 * state-records.ts) that an older hypervisor would stop at midway: it refuses the header instead.
 */
const READABLE_JOURNAL_VERSIONS = [1, 2, 3];
export const FILE_HEADER_BYTES = 16;
/** Where the file header keeps the snapshot generation (version 2). */
const GENERATION_OFFSET = 12;
export const RECORD_HEADER_BYTES = 12;
/** Largest payload: a 16 MiB WriteMemory plus its record fields, with room to spare. */
export const MAX_RECORD_PAYLOAD = 17 * 1024 * 1024;

/** A journal that cannot be read safely; names the file and the byte offset. */
export class StateFormatError extends Error {
  override readonly name = "StateFormatError";
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
    noun = "journal",
  ) {
    super(
      `state ${noun} ${file} at offset ${offset}: ${reason}; refusing to start (nothing was changed)`,
    );
  }
}

/** The file header of a new journal continuing snapshot `generation` (0: none). */
export function fileHeader(
  generation = 0,
  magic = JOURNAL_MAGIC,
  version = JOURNAL_VERSION,
): Buffer {
  const header = Buffer.alloc(FILE_HEADER_BYTES);
  magic.copy(header, 0);
  header.writeUInt32LE(version, 8);
  header.writeUInt32LE(generation, GENERATION_OFFSET);
  return header;
}

/** XORed into a frame header's check word ("HMXS"), so an all-zero header does not pass. */
const HEADER_CHECK = 0x53584d48;

function checkWord(length: number, crc: number): number {
  return (length ^ crc ^ HEADER_CHECK) >>> 0;
}

/** CRC-32 of `bytes[start..end)`, the same value as zlib's (short records in JavaScript). */
export function payloadCrc(bytes: Buffer, start: number, end: number): number {
  return crc32Of(bytes, start, end);
}

/** Throws unless a payload of `length` bytes fits in one record. */
export function checkRecordLength(length: number): void {
  if (length > MAX_RECORD_PAYLOAD) {
    throw new RangeError(
      `state record of ${length} bytes exceeds the ${MAX_RECORD_PAYLOAD}-byte limit`,
    );
  }
}

/**
 * Writes the frame header at `target[offset..]` for the `length`-byte payload already written
 * after it (the journal writer encodes hot records straight into its commit buffer).
 */
export function frameInPlace(target: Buffer, offset: number, length: number): void {
  checkRecordLength(length);
  const start = offset + RECORD_HEADER_BYTES;
  const crc = payloadCrc(target, start, start + length);
  target.writeUInt32LE(length, offset);
  target.writeUInt32LE(crc, offset + 4);
  target.writeUInt32LE(checkWord(length, crc), offset + 8);
}

/** Writes `payload`'s frame header and then the payload at `target[offset..]`. */
export function writeRecord(target: Buffer, offset: number, payload: Buffer): void {
  checkRecordLength(payload.length);
  payload.copy(target, offset + RECORD_HEADER_BYTES);
  frameInPlace(target, offset, payload.length);
}

/** One record framed for appending: frame header then payload, as one Buffer. */
export function frameRecord(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payload.length);
  writeRecord(out, 0, payload);
  return out;
}

/** What `readJournal` found. */
export interface JournalContents {
  /** Every intact record, in order: its file offset and payload (a view into the file's bytes). */
  readonly records: { readonly offset: number; readonly payload: Buffer }[];
  /** Where the intact records end: the length the file is cut back to before appending. */
  readonly validBytes: number;
  /** Bytes of a torn last record that were dropped (0 when the file ended cleanly). */
  readonly tornBytes: number;
  /** The snapshot generation the file's header names (0: none). */
  readonly generation: number;
}

/** What a file kind's header must say: its magic, name for errors, and readable versions. */
export interface FileKind {
  readonly magic: Buffer;
  /** "journal" or "snapshot", for errors. */
  readonly noun: string;
  readonly what: string;
  readonly versions: readonly number[];
}

const JOURNAL_KIND: FileKind = {
  magic: JOURNAL_MAGIC,
  noun: "journal",
  what: "an hmx state journal",
  versions: READABLE_JOURNAL_VERSIONS,
};

/**
 * Checks the file header: a foreign file or another version is refused. Returns the snapshot
 * generation it names.
 */
export function checkFileHeader(
  file: string,
  bytes: Buffer,
  kind: FileKind = JOURNAL_KIND,
): number {
  if (bytes.length < FILE_HEADER_BYTES || !bytes.subarray(0, 8).equals(kind.magic)) {
    throw new StateFormatError(
      file,
      0,
      `not ${kind.what} (no "${kind.magic.toString("latin1")}" magic)`,
      kind.noun,
    );
  }
  const version = bytes.readUInt32LE(8);
  if (!kind.versions.includes(version)) {
    throw new StateFormatError(
      file,
      8,
      `format version ${version}, but this hypervisor reads version ${kind.versions.join(" and ")}`,
      kind.noun,
    );
  }
  return version === 1 && kind === JOURNAL_KIND ? 0 : bytes.readUInt32LE(GENERATION_OFFSET);
}

/** Splits a journal file's bytes into records (see the file comment for the three outcomes). */
export function readJournal(
  file: string,
  bytes: Buffer,
  kind: FileKind = JOURNAL_KIND,
): JournalContents {
  const generation = checkFileHeader(file, bytes, kind);
  const records: { offset: number; payload: Buffer }[] = [];
  let offset = FILE_HEADER_BYTES;
  while (offset < bytes.length) {
    const remaining = bytes.length - offset;
    if (remaining < RECORD_HEADER_BYTES) break; // torn inside a frame header
    const length = bytes.readUInt32LE(offset);
    const crc = bytes.readUInt32LE(offset + 4);
    if (checkWord(length, crc) !== bytes.readUInt32LE(offset + 8) || length > MAX_RECORD_PAYLOAD) {
      throw new StateFormatError(
        file,
        offset,
        "record header fails its check word (damaged)",
        kind.noun,
      );
    }
    const end = offset + RECORD_HEADER_BYTES + length;
    if (end > bytes.length) break; // torn inside the payload
    const payload = bytes.subarray(offset + RECORD_HEADER_BYTES, end);
    if (payloadCrc(bytes, offset + RECORD_HEADER_BYTES, end) !== crc) {
      // The last record may be half-written pages of a crash; anywhere else it is damage.
      if (end === bytes.length) break;
      throw new StateFormatError(
        file,
        offset,
        `record payload of ${length} bytes fails its CRC-32 (damaged)`,
        kind.noun,
      );
    }
    records.push({ offset, payload });
    offset = end;
  }
  return { records, validBytes: offset, tornBytes: bytes.length - offset, generation };
}
