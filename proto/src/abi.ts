// SPDX-License-Identifier: Apache-2.0
/**
 * The Argo ABI shared by the hypervisor and every guest: the TypeScript counterpart of Xen's
 * `xen/include/public/argo.h`, the limits of `xen/common/argo.c` and the errno values of
 * `xen/include/public/errno.h`. Names keep Xen's, with the `XEN_` prefix trimmed. Every ring
 * and header field is little-endian, as on x86 and Arm.
 */

/** Guest page size; only 4 KiB pages exist, as in Argo. */
export const PAGE_SIZE = 4096;
/** log2(PAGE_SIZE): `gfn = gpa >> PAGE_SHIFT`. */
export const PAGE_SHIFT = 12;
/** gfns below this are reserved for the platform (virtual ACPI table, agent state). */
export const FIRST_GUEST_GFN = 16;

/** `XEN_ARGO_DOMID_ANY` (= DOMID_INVALID): "the caller" in sendv src, "anyone" as partner. */
export const ARGO_DOMID_ANY = 0x7ff4;
/** Highest domid a regular domain can have (DOMID_FIRST_RESERVED - 1). */
export const DOMID_MAX = 0x7fef;

export const ARGO_MAX_RING_SIZE = 0x1000000;
export const ARGO_MAXIOV = 8;
export const ARGO_MSG_SLOT_SIZE = 0x10;
export const ARGO_REGISTER_FLAG_FAIL_EXIST = 0x1;
/** Every register flag Xen knows; any other bit is -EINVAL. */
export const ARGO_REGISTER_FLAG_MASK = ARGO_REGISTER_FLAG_FAIL_EXIST;

/** Size of `xen_argo_ring`, the header in front of the ring data. */
export const ARGO_RING_HEADER_SIZE = 64;
/** Size of `xen_argo_ring_message_header`; equals one slot. */
export const ARGO_MSG_HEADER_SIZE = 16;
/** Smallest ring: one header slot, one payload slot and the slot that always stays free. */
export const ARGO_MIN_RING_LEN = 48;
/** Largest `len` that can register: NPAGES_RING(len) must stay <= 4096 (argo-spec §4.2). */
export const ARGO_MAX_REGISTERABLE_RING_LEN = 0xffffc0;
/** Most pages a ring may have (`MAX_RING_SIZE >> PAGE_SHIFT`). */
export const ARGO_MAX_RING_PAGES = ARGO_MAX_RING_SIZE >> PAGE_SHIFT;

export const MAX_RINGS_PER_DOMAIN = 128;
export const MAX_NOTIFY_COUNT = 256;
export const MAX_PENDING_PER_RING = 32;
/** `MAX_ARGO_MESSAGE_SIZE`: MAX_RING_SIZE - header - ROUNDUP16(1) = 16,777,184. */
export const MAX_ARGO_MESSAGE_SIZE = ARGO_MAX_RING_SIZE - ARGO_MSG_HEADER_SIZE - ARGO_MSG_SLOT_SIZE;

/** Most bytes one ReadMemory / WriteMemory may move (DESIGN.md §3.2). */
export const MAX_MEMORY_ACCESS = 16 * 1024 * 1024;

/** Offsets inside `xen_argo_ring`. */
export const RING_RX_PTR_OFFSET = 0;
export const RING_TX_PTR_OFFSET = 4;

/** Offsets inside `xen_argo_ring_message_header`. */
export const MSG_LEN_OFFSET = 0;
export const MSG_SOURCE_APORT_OFFSET = 4;
export const MSG_SOURCE_DOMID_OFFSET = 8;
export const MSG_SOURCE_PAD_OFFSET = 10;
export const MSG_TYPE_OFFSET = 12;

/** VIRQ_ARGO: the per-domain virtual IRQ raised on delivery and on space available. */
export const VIRQ_ARGO = 11;

/** Notify result flags (`xen_argo_ring_data_ent.flags`), upstream values (argo-spec §2.4). */
export const ArgoRingFlag = {
  EXISTS: 1 << 0,
  SHARED: 1 << 1,
  EMPTY: 1 << 2,
  SUFFICIENT: 1 << 3,
  EMSGSIZE: 1 << 4,
  EBUSY: 1 << 5,
} as const;
export type ArgoRingFlag = (typeof ArgoRingFlag)[keyof typeof ArgoRingFlag];

/** Xen errno values (xen/include/public/errno.h; equal to Linux x86). Hypercalls return -errno. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  EMSGSIZE: 90,
  EOPNOTSUPP: 95,
  ECONNREFUSED: 111,
} as const;
export type ErrnoName = keyof typeof Errno;

const errnoNames = new Map<number, ErrnoName>(
  (Object.entries(Errno) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/**
 * The one errno table of the guest side: Xen's values plus the ones guests raise themselves
 * (Linux x86 numbering) — libargo's socket conditions (EADDRINUSE, ESHUTDOWN, EIO) and the
 * virtio-argo transport's (EIO, EPROTO, ETIMEDOUT). One table, so a number has one name.
 */
export const GuestErrno = {
  ...Errno,
  EIO: 5,
  EPROTO: 71,
  EADDRINUSE: 98,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
} as const;
export type GuestErrnoName = keyof typeof GuestErrno;

const guestErrnoNames = new Map<number, GuestErrnoName>(
  (Object.entries(GuestErrno) as [GuestErrnoName, number][]).map(([name, value]) => [value, name]),
);

/** A positive errno's name, e.g. "EACCES", or `ERRNO_<n>` for one the table lacks. */
export function errnoName(errno: number): GuestErrnoName | `ERRNO_${number}` {
  return guestErrnoNames.get(errno) ?? `ERRNO_${errno}`;
}

/** Renders a hypercall return value for humans: `23`, `-EAGAIN (-11)`. */
export function describeRet(ret: number): string {
  if (ret >= 0) return String(ret);
  const name = errnoNames.get(-ret);
  return name === undefined ? String(ret) : `-${name} (${ret})`;
}

/** Rounds up to the 16-byte message slot (`ROUNDUP_MESSAGE` in argo.c). */
export function roundUpToSlot(n: number): number {
  return (n + ARGO_MSG_SLOT_SIZE - 1) & ~(ARGO_MSG_SLOT_SIZE - 1);
}

/** `NPAGES_RING(len)`: pages a ring of `len` data bytes occupies, header included. */
export function npagesRing(len: number): number {
  return Math.ceil((roundUpToSlot(len) + ARGO_RING_HEADER_SIZE) / PAGE_SIZE);
}

/** The largest payload one message can carry in a ring of `len` bytes (`max_message_size`). */
export function maxMessageSize(len: number): number {
  return len - ARGO_MSG_HEADER_SIZE - ARGO_MSG_SLOT_SIZE;
}

/**
 * `(tx - rx) mod len`: ring bytes from `rxPtr` up to `txPtr` (both offsets in [0, len)), the
 * bytes a reader has not consumed yet. Both sides use it: the guest's reader, and the
 * hypervisor's VIRQ push cursors (which need not be 16-aligned).
 */
export function ringBytesAvailable(len: number, rxPtr: number, txPtr: number): number {
  const d = txPtr - rxPtr;
  return d >= 0 ? d : d + len;
}

/**
 * Payload bytes that fit in a ring right now (`ringbuf_payload_space`, argo-spec §4.4): one
 * slot always stays free so that rx == tx means empty, and one slot is the message header.
 * Both pointers must already be sanitised (16-aligned, < len).
 */
export function ringPayloadSpace(len: number, rxPtr: number, txPtr: number): number {
  let d = rxPtr - txPtr;
  if (d <= 0) d += len;
  return Math.max(0, d - ARGO_MSG_HEADER_SIZE - ARGO_MSG_SLOT_SIZE);
}

/** The Linux driver's ring overhead: 64-byte ring header + one slot (`ARGO_RING_OVERHEAD`). */
export const ARGO_RING_OVERHEAD = ARGO_RING_HEADER_SIZE + ARGO_MSG_SLOT_SIZE;

/** A ring `len` that fills exactly `pages` pages (`ROUNDUP16(pages*4096 - 80)`, as Linux does). */
export function ringLenForPages(pages: number): number {
  return roundUpToSlot(pages * PAGE_SIZE - ARGO_RING_OVERHEAD);
}

/** Message types used by libargo sockets (OpenXT `ARGO_PROTO_DGRAM` / `ARGO_PROTO_STREAM`). */
export const ARGO_PROTO_DGRAM = 0x6447724d;
export const ARGO_PROTO_STREAM = 0x3574526d;

// ---- VirtIO over Argo (docs/virtio-argo.md "Transport over Argo" and "Discovery") -----------

/** `message_type` of every virtio-argo transport message: "VIOA" (virtio-argo.md §4.2). */
export const VIRTIO_ARGO_MESSAGE_TYPE = 0x56494f41;

/**
 * Port plan (virtio-argo.md §4.3): the back end receives a device's messages on
 * `VIRTIO_ARGO_BE_PORT_BASE + dev_index * 0x100 + virtio device id` (unicast, partner = the
 * front end) and the front end on the same offset from `VIRTIO_ARGO_FE_PORT_BASE` (partner =
 * the back end). `dev_index` is unique per front end, so every (port, partner) pair is unique.
 */
export const VIRTIO_ARGO_BE_PORT_BASE = 0x1000;
export const VIRTIO_ARGO_FE_PORT_BASE = 0x2000;
/** Most devices one front end may have (the table's capacity, see VARG_MAX_ENTRIES). */
export const VIRTIO_ARGO_MAX_DEVICES = 24;

/** The back end's and the front end's receive ports for device `devIndex` of type `deviceId`. */
export function virtioArgoPorts(
  devIndex: number,
  deviceId: number,
): { bePort: number; fePort: number } {
  const offset = devIndex * 0x100 + deviceId;
  return { bePort: VIRTIO_ARGO_BE_PORT_BASE + offset, fePort: VIRTIO_ARGO_FE_PORT_BASE + offset };
}

/** Default ring length per direction per device: 64 pages with the ring header (262,064 B). */
export const VIRTIO_ARGO_DEFAULT_RING_LEN = ringLenForPages(64);
/**
 * Default ring length of a virtio-blk device (1,064,896 B, 260 pages with the header): one
 * 1 MiB request with its records fits one message, so it crosses in one sendv instead of five
 * fragments that each wait for the receiver to drain the ring (docs/virtio-argo.md "What bounds
 * 1 MiB transfers").
 */
export const VIRTIO_ARGO_BLK_RING_LEN = ringLenForPages(260);

/**
 * The virtual ACPI device table ("VARG") the toolstack writes at gfn 0 of every domain that has
 * virtio devices (DESIGN.md §3.2 reserves gfn 0 for it). An ACPI System Description Table
 * header (ACPI 6.5 §5.2.6: signature, length, revision, checksum so that all `length` bytes sum
 * to 0 mod 256, OEM id, OEM table id, OEM revision, creator id and revision), then a fixed
 * 12-byte VARG header and `entry_count` entries of `entry_size` bytes. All little-endian.
 */
export const VARG_TABLE_GFN = 0;
export const VARG_SIGNATURE = "VARG";
export const VARG_REVISION = 1;
export const VARG_OEM_ID = "HMX   ";
export const VARG_OEM_TABLE_ID = "VIRTARGO";
export const VARG_CREATOR_ID = "HMX ";

/** ACPI SDT header offsets. */
export const VARG_SIGNATURE_OFFSET = 0;
export const VARG_LENGTH_OFFSET = 4;
export const VARG_REVISION_OFFSET = 8;
export const VARG_CHECKSUM_OFFSET = 9;
export const VARG_OEM_ID_OFFSET = 10;
export const VARG_OEM_TABLE_ID_OFFSET = 16;
export const VARG_OEM_REVISION_OFFSET = 24;
export const VARG_CREATOR_ID_OFFSET = 28;
export const VARG_CREATOR_REVISION_OFFSET = 32;
/** VARG header after the SDT header. */
export const VARG_ENTRY_COUNT_OFFSET = 36;
export const VARG_ENTRY_SIZE_OFFSET = 38;
/** Bumped on every rewrite (hot-add / removal), so a reader can tell two tables apart. */
export const VARG_GENERATION_OFFSET = 40;
/** The domid the table was written for (a reader checks it is its own). */
export const VARG_DOMID_OFFSET = 44;
export const VARG_HEADER_SIZE = 48;

/** One device entry. */
export const VARG_ENTRY_SIZE = 160;
export const VARG_MAX_ENTRIES = Math.floor((PAGE_SIZE - VARG_HEADER_SIZE) / VARG_ENTRY_SIZE);
/** le16: the device's index in the front end's table (`dev_id` of its messages). */
export const VARG_ENT_DEV_INDEX = 0;
/** u8: VargRole. */
export const VARG_ENT_ROLE = 2;
/** u8: VargFlag bits. */
export const VARG_ENT_FLAGS = 3;
/** le32: VirtIO device ID. */
export const VARG_ENT_DEVICE_ID = 4;
/** le32: VirtIO vendor ID ("HMX\0" little-endian). */
export const VARG_ENT_VENDOR_ID = 8;
/** le16: the other end's domid (front end: the back end; back end: the front end). */
export const VARG_ENT_PEER_DOMID = 12;
/** le32: where the back end receives (its ring's aport; partner = the front end). */
export const VARG_ENT_BE_PORT = 16;
/** le32: where the front end receives (partner = the back end). */
export const VARG_ENT_FE_PORT = 20;
/** le16: number of virtqueues (QueueNumMax is non-zero for indexes below it). */
export const VARG_ENT_NUM_QUEUES = 24;
/** le16: largest QueueNumMax. */
export const VARG_ENT_QUEUE_SIZE_MAX = 26;
/** le32: bytes of device-specific config. */
export const VARG_ENT_CONFIG_SIZE = 28;
/** le32: bytes of each of the device's Argo rings. */
export const VARG_ENT_RING_LEN = 32;
/** le64 (at 40): blk capacity in 512-byte sectors; 0 for other devices. */
export const VARG_ENT_CAPACITY_SECTORS = 40;
/** u8[6] (at 48): net MAC address. */
export const VARG_ENT_MAC = 48;
/** char[32] (at 64): NUL-padded name: the device's name (front end) or the front end's name (back end). */
export const VARG_ENT_NAME = 64;
export const VARG_ENT_NAME_LEN = 32;
/** char[64] (at 96): NUL-padded back-end option (blk: the image path); empty in front-end entries. */
export const VARG_ENT_OPTION = 96;
export const VARG_ENT_OPTION_LEN = 64;

/**
 * The integer fields of one VARG entry, read and written through one field table
 * (`VARG_ENTRY_INTS`), so that the toolstack's writer and the guest's reader cannot disagree
 * about an offset or a width. Strings and the MAC are the callers' (the reader checks them).
 */
export interface VargEntryInts {
  readonly devIndex: number;
  readonly role: number;
  readonly flags: number;
  readonly deviceId: number;
  readonly vendorId: number;
  readonly peerDomid: number;
  readonly bePort: number;
  readonly fePort: number;
  readonly numQueues: number;
  readonly queueSizeMax: number;
  readonly configSize: number;
  readonly ringLen: number;
  readonly capacitySectors: bigint;
}

/** Each number field of an entry: its offset and width in bytes (little-endian). */
const VARG_ENTRY_INTS: readonly (readonly [
  Exclude<keyof VargEntryInts, "capacitySectors">,
  number,
  1 | 2 | 4,
])[] = [
  ["devIndex", VARG_ENT_DEV_INDEX, 2],
  ["role", VARG_ENT_ROLE, 1],
  ["flags", VARG_ENT_FLAGS, 1],
  ["deviceId", VARG_ENT_DEVICE_ID, 4],
  ["vendorId", VARG_ENT_VENDOR_ID, 4],
  ["peerDomid", VARG_ENT_PEER_DOMID, 2],
  ["bePort", VARG_ENT_BE_PORT, 4],
  ["fePort", VARG_ENT_FE_PORT, 4],
  ["numQueues", VARG_ENT_NUM_QUEUES, 2],
  ["queueSizeMax", VARG_ENT_QUEUE_SIZE_MAX, 2],
  ["configSize", VARG_ENT_CONFIG_SIZE, 4],
  ["ringLen", VARG_ENT_RING_LEN, 4],
];

/** Writes the integer fields of the entry at byte `at` of `table`. */
export function writeVargEntryInts(table: Uint8Array, at: number, e: VargEntryInts): void {
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (const [field, offset, width] of VARG_ENTRY_INTS) {
    if (width === 1) v.setUint8(at + offset, e[field]);
    else if (width === 2) v.setUint16(at + offset, e[field], true);
    else v.setUint32(at + offset, e[field], true);
  }
  v.setBigUint64(at + VARG_ENT_CAPACITY_SECTORS, e.capacitySectors, true);
}

/** Reads the integer fields of the entry at byte `at` of `table` (unchecked: the caller checks). */
export function readVargEntryInts(table: Uint8Array, at: number): VargEntryInts {
  const v = new DataView(table.buffer, table.byteOffset, table.byteLength);
  const e: Record<string, number | bigint> = {
    capacitySectors: v.getBigUint64(at + VARG_ENT_CAPACITY_SECTORS, true),
  };
  for (const [field, offset, width] of VARG_ENTRY_INTS) {
    e[field] =
      width === 1
        ? v.getUint8(at + offset)
        : width === 2
          ? v.getUint16(at + offset, true)
          : v.getUint32(at + offset, true);
  }
  return e as unknown as VargEntryInts;
}

/** Which end of the device the table's owner is. */
export const VargRole = {
  frontend: 1,
  backend: 2,
} as const;
export type VargRole = (typeof VargRole)[keyof typeof VargRole];

/** Entry flags. */
export const VargFlag = {
  readOnly: 1 << 0,
} as const;

/** "HMX\0" as a little-endian u32: the vendor ID of every hmx virtio device. */
export const VIRTIO_ARGO_VENDOR_ID = 0x00584d48;

// The argument shapes both sides of the hypercall ABI share (argo.h's structs minus `pad`).

/** `xen_argo_addr`. */
export interface ArgoAddr {
  readonly aport: number;
  readonly domainId: number;
}

/** `xen_argo_iov`: a buffer in the caller's guest-physical memory. */
export interface Iov {
  readonly gpa: number;
  readonly len: number;
}

/** Input half of `xen_argo_ring_data_ent`. */
export interface NotifyEntry {
  readonly ring: ArgoAddr;
  readonly spaceRequired: number;
}

/** Output half of `xen_argo_ring_data_ent`. */
export interface NotifyResultEntry {
  readonly flags: number;
  readonly maxMessageSize: number;
}

/** What `GetDomainInfo` tells a guest about itself. */
export interface DomainInfo {
  readonly domid: number;
  readonly memoryBytes: number;
  readonly pageSize: number;
  readonly label: string;
}

/** VirtIO 1.2 §5 device ids, as the VARG table and the toolstack carry them (virtio-argo.md §2.12). */
export const VIRTIO_ID_NET = 1;
export const VIRTIO_ID_BLOCK = 2;
export const VIRTIO_ID_CONSOLE = 3;
