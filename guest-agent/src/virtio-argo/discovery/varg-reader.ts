// SPDX-License-Identifier: Apache-2.0
/**
 * The guest's reader of the virtual ACPI device table ("VARG") at gfn 0 — how a virtio-argo
 * front end enumerates its devices at boot and a back end learns what to host (virtio-argo.md
 * §4.4; layout in `@hmx/proto/abi` `VARG_*`, docs/virtio-argo.md "Discovery"). The toolstack is
 * trusted, but the page is ordinary guest memory that a buggy agent could have scribbled on,
 * so nothing is believed before it is checked, like Linux's `acpi_tb_verify_checksum` and
 * `acpi_tb_validate_table`: signature, revision, a length inside the page and consistent with
 * the entry count, the checksum (all bytes sum to 0 mod 256), the owner's domid, and per entry
 * a known role, NUL-terminated ASCII strings, ports, ring length and queue sizes in range, no
 * duplicate index. An all-zero page means "no table" (a domain created without devices).
 */
import {
  ARGO_MAX_REGISTERABLE_RING_LEN,
  PAGE_SIZE,
  VARG_CHECKSUM_OFFSET,
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
  VARG_REVISION,
  VARG_REVISION_OFFSET,
  VARG_SIGNATURE,
  VARG_TABLE_GFN,
  VargFlag,
  VargRole,
  DOMID_MAX,
  readVargEntryInts,
  type VargEntryInts,
} from "@hmx/proto/abi";
import type { HypercallClient } from "../../hypercall/hypercall-client.js";

/** One device as the table describes it. */
export interface VargDevice extends Omit<VargEntryInts, "role" | "flags"> {
  readonly role: VargRole;
  readonly readOnly: boolean;
  /** "52:54:00:..." (all zero for non-net devices). */
  readonly mac: string;
  readonly name: string;
  readonly option: string;
}

export interface VargTable {
  readonly domid: number;
  readonly generation: number;
  readonly devices: readonly VargDevice[];
}

/** Why a table was rejected. */
export type VargReadResult =
  | { readonly ok: true; readonly table: VargTable }
  | { readonly ok: false; readonly reason: string };

function ascii(bytes: Uint8Array, at: number, width: number): string | undefined {
  const field = bytes.subarray(at, at + width);
  const nul = field.indexOf(0);
  if (nul < 0) return undefined; // not terminated
  for (let i = nul; i < field.length; i++) if (field[i] !== 0) return undefined; // junk after the NUL
  let s = "";
  for (let i = 0; i < nul; i++) {
    const c = field[i] ?? 0;
    if (c < 0x20 || c > 0x7e) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Parses a table from the bytes of gfn 0. `expectDomid`, when given, must match the table's
 * owner field (a table copied from another domain is refused).
 */
export function parseVargTable(page: Uint8Array, expectDomid?: number): VargReadResult {
  const fail = (reason: string): VargReadResult => ({ ok: false, reason });
  if (page.length < VARG_HEADER_SIZE) return fail(`only ${page.length} bytes`);
  const v = new DataView(page.buffer, page.byteOffset, page.byteLength);
  const sig = String.fromCharCode(...page.subarray(0, 4));
  if (sig !== VARG_SIGNATURE) return fail(`signature ${JSON.stringify(sig)}`);
  const length = v.getUint32(VARG_LENGTH_OFFSET, true);
  if (length < VARG_HEADER_SIZE || length > Math.min(page.length, PAGE_SIZE))
    return fail(`length ${length} outside [${VARG_HEADER_SIZE}, ${PAGE_SIZE}]`);
  if (v.getUint8(VARG_REVISION_OFFSET) !== VARG_REVISION)
    return fail(`revision ${v.getUint8(VARG_REVISION_OFFSET)}`);
  let sum = 0;
  for (let i = 0; i < length; i++) sum = (sum + (page[i] ?? 0)) & 0xff;
  if (sum !== 0)
    return fail(
      `checksum: bytes sum to ${sum} mod 256, not 0 (checksum byte 0x${v.getUint8(VARG_CHECKSUM_OFFSET).toString(16)})`,
    );
  const count = v.getUint16(VARG_ENTRY_COUNT_OFFSET, true);
  const entrySize = v.getUint16(VARG_ENTRY_SIZE_OFFSET, true);
  if (entrySize !== VARG_ENTRY_SIZE) return fail(`entry size ${entrySize}`);
  if (count > VARG_MAX_ENTRIES || VARG_HEADER_SIZE + count * entrySize !== length)
    return fail(`${count} entries do not make length ${length}`);
  const domid = v.getUint16(VARG_DOMID_OFFSET, true);
  if (expectDomid !== undefined && domid !== expectDomid)
    return fail(`table written for domain ${domid}, not ${expectDomid}`);
  const devices: VargDevice[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const at = VARG_HEADER_SIZE + i * entrySize;
    const e = readVargEntryInts(page, at);
    const { role, flags, devIndex, peerDomid, bePort, fePort, ringLen, numQueues, queueSizeMax } =
      e;
    if (role !== VargRole.frontend && role !== VargRole.backend)
      return fail(`entry ${i}: role ${role}`);
    if ((flags & ~VargFlag.readOnly) !== 0)
      return fail(`entry ${i}: flags 0x${flags.toString(16)}`);
    if (peerDomid < 1 || peerDomid > DOMID_MAX || peerDomid === domid)
      return fail(`entry ${i}: peer domid ${peerDomid}`);
    const key = `${role}:${peerDomid}:${devIndex}`;
    if (seen.has(key)) return fail(`entry ${i}: duplicate device ${devIndex}`);
    seen.add(key);
    if (bePort === 0 || fePort === 0) return fail(`entry ${i}: zero port`);
    if (ringLen < 4096 || ringLen > ARGO_MAX_REGISTERABLE_RING_LEN || ringLen % 16 !== 0)
      return fail(`entry ${i}: ring len ${ringLen}`);
    if (
      numQueues < 1 ||
      numQueues > 64 ||
      queueSizeMax < 1 ||
      queueSizeMax > 32768 ||
      (queueSizeMax & (queueSizeMax - 1)) !== 0
    ) {
      return fail(`entry ${i}: ${numQueues} queues of at most ${queueSizeMax}`);
    }
    const name = ascii(page, at + VARG_ENT_NAME, VARG_ENT_NAME_LEN);
    const option = ascii(page, at + VARG_ENT_OPTION, VARG_ENT_OPTION_LEN);
    if (name === undefined || option === undefined)
      return fail(`entry ${i}: name or option is not NUL-terminated printable ASCII`);
    const mac = [...page.subarray(at + VARG_ENT_MAC, at + VARG_ENT_MAC + 6)]
      .map((b) => b.toString(16).padStart(2, "0"))
      .join(":");
    devices.push({
      devIndex,
      role,
      readOnly: (flags & VargFlag.readOnly) !== 0,
      deviceId: e.deviceId,
      vendorId: e.vendorId,
      peerDomid,
      bePort,
      fePort,
      numQueues,
      queueSizeMax,
      configSize: e.configSize,
      ringLen,
      capacitySectors: e.capacitySectors,
      mac,
      name,
      option,
    });
  }
  return {
    ok: true,
    table: { domid, generation: v.getUint32(VARG_GENERATION_OFFSET, true), devices },
  };
}

/** True when the page holds no table at all (never written: all zero signature). */
export function isEmptyTable(page: Uint8Array): boolean {
  return page.length >= 4 && page[0] === 0 && page[1] === 0 && page[2] === 0 && page[3] === 0;
}

/**
 * Reads and parses this guest's table from gfn 0 with one ReadMemory. An absent table is an
 * empty device list; a corrupt one is `ok: false` (the caller logs it and uses no device).
 */
export async function readDeviceTable(client: HypercallClient): Promise<VargReadResult> {
  const { ret, data } = await client.readMemory(VARG_TABLE_GFN * PAGE_SIZE, PAGE_SIZE);
  if (ret < 0) return { ok: false, reason: `ReadMemory of gfn 0 failed with ${ret}` };
  if (isEmptyTable(data))
    return { ok: true, table: { domid: client.domid, generation: 0, devices: [] } };
  return parseVargTable(data, client.domid);
}
