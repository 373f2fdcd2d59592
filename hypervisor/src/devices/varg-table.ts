// SPDX-License-Identifier: Apache-2.0
/**
 * The writer of the virtual ACPI device table ("VARG") that the toolstack puts at gfn 0 of a
 * domain with virtio devices — the discovery mechanism of the VirtIO-over-Argo proposal
 * (virtio-argo.md §4.4: "the HV or toolstack writes a read-only table into the FE's RAM"; §1.3:
 * the toolstack "builds ACPI tables, which requires write access to guest memory"). The layout
 * is fixed in `@hmx/proto/abi` (`VARG_*`) and documented in docs/virtio-argo.md "Discovery":
 * an ACPI System Description Table header whose bytes sum to 0 mod 256 (ACPI 6.5 §5.2.6), a
 * small VARG header, then one fixed-size entry per device. Pure: no I/O, so both the device
 * manager and the tests use it; the guest has its own reader, which trusts none of this.
 */
import {
  PAGE_SIZE,
  VARG_CHECKSUM_OFFSET,
  VARG_CREATOR_ID,
  VARG_CREATOR_ID_OFFSET,
  VARG_CREATOR_REVISION_OFFSET,
  VARG_DOMID_OFFSET,
  VARG_ENT_MAC,
  VARG_ENT_NAME,
  VARG_ENT_NAME_LEN,
  VARG_ENT_OPTION,
  VARG_ENT_OPTION_LEN,
  VARG_ENTRY_COUNT_OFFSET,
  VARG_ENTRY_SIZE,
  VARG_ENTRY_SIZE_OFFSET,
  VARG_GENERATION_OFFSET,
  VARG_HEADER_SIZE,
  VARG_LENGTH_OFFSET,
  VARG_MAX_ENTRIES,
  VARG_OEM_ID,
  VARG_OEM_ID_OFFSET,
  VARG_OEM_REVISION_OFFSET,
  VARG_OEM_TABLE_ID,
  VARG_OEM_TABLE_ID_OFFSET,
  VARG_REVISION,
  VARG_REVISION_OFFSET,
  VARG_SIGNATURE,
  VARG_SIGNATURE_OFFSET,
  VIRTIO_ARGO_VENDOR_ID,
  writeVargEntryInts,
  type VargEntryInts,
  type VargRole,
} from "@hmx/proto/abi";

/** One device entry as the toolstack fills it in. */
export interface VargEntry extends Omit<VargEntryInts, "role" | "vendorId"> {
  readonly role: VargRole;
  /** 6 bytes, or all zero. */
  readonly mac: Uint8Array;
  /** ASCII, at most 31 bytes (NUL-terminated in the table). */
  readonly name: string;
  /** ASCII, at most 63 bytes; empty in front-end entries. */
  readonly option: string;
}

/** Table-level fields. */
export interface VargTableHeader {
  /** The domain the table is written for. */
  readonly domid: number;
  readonly generation: number;
}

/** The ACPI checksum byte: what makes every byte of the table sum to 0 mod 256. */
export function acpiChecksum(bytes: Uint8Array, checksumOffset: number): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++)
    if (i !== checksumOffset) sum = (sum + (bytes[i] ?? 0)) & 0xff;
  return (0x100 - sum) & 0xff;
}

function putAscii(buf: Buffer, offset: number, text: string, width: number, field: string): void {
  if (!/^[\x20-\x7e]*$/.test(text) || text.length > width) {
    throw new RangeError(
      `VARG ${field} ${JSON.stringify(text)} is not printable ASCII of at most ${width} bytes`,
    );
  }
  buf.write(text, offset, width, "latin1");
}

/**
 * Encodes a table into one zero-filled 4 KiB page (the whole of gfn 0, so that an entry removed
 * by a rewrite leaves no stale bytes behind). Throws RangeError for more entries than fit.
 */
export function encodeVargTable(header: VargTableHeader, entries: readonly VargEntry[]): Buffer {
  if (entries.length > VARG_MAX_ENTRIES) {
    throw new RangeError(
      `VARG table holds at most ${VARG_MAX_ENTRIES} entries, got ${entries.length}`,
    );
  }
  const page = Buffer.alloc(PAGE_SIZE);
  const length = VARG_HEADER_SIZE + entries.length * VARG_ENTRY_SIZE;
  putAscii(page, VARG_SIGNATURE_OFFSET, VARG_SIGNATURE, 4, "signature");
  page.writeUInt32LE(length, VARG_LENGTH_OFFSET);
  page.writeUInt8(VARG_REVISION, VARG_REVISION_OFFSET);
  putAscii(page, VARG_OEM_ID_OFFSET, VARG_OEM_ID, 6, "OEM id");
  putAscii(page, VARG_OEM_TABLE_ID_OFFSET, VARG_OEM_TABLE_ID, 8, "OEM table id");
  page.writeUInt32LE(1, VARG_OEM_REVISION_OFFSET);
  putAscii(page, VARG_CREATOR_ID_OFFSET, VARG_CREATOR_ID, 4, "creator id");
  page.writeUInt32LE(1, VARG_CREATOR_REVISION_OFFSET);
  page.writeUInt16LE(entries.length, VARG_ENTRY_COUNT_OFFSET);
  page.writeUInt16LE(VARG_ENTRY_SIZE, VARG_ENTRY_SIZE_OFFSET);
  page.writeUInt32LE(header.generation >>> 0, VARG_GENERATION_OFFSET);
  page.writeUInt16LE(header.domid, VARG_DOMID_OFFSET);
  entries.forEach((e, i) => {
    const at = VARG_HEADER_SIZE + i * VARG_ENTRY_SIZE;
    writeVargEntryInts(page, at, { ...e, vendorId: VIRTIO_ARGO_VENDOR_ID });
    if (e.mac.length !== 6 && e.mac.length !== 0) throw new RangeError("VARG mac must be 6 bytes");
    page.set(e.mac, at + VARG_ENT_MAC);
    // One byte short of the field, so the string always ends in a NUL.
    putAscii(page, at + VARG_ENT_NAME, e.name, VARG_ENT_NAME_LEN - 1, "name");
    putAscii(page, at + VARG_ENT_OPTION, e.option, VARG_ENT_OPTION_LEN - 1, "option");
  });
  page.writeUInt8(
    acpiChecksum(page.subarray(0, length), VARG_CHECKSUM_OFFSET),
    VARG_CHECKSUM_OFFSET,
  );
  return page;
}
