// SPDX-License-Identifier: Apache-2.0
/**
 * The guest-physical pages a guest may read but not write through its own hypercalls: gfn 0,
 * where the toolstack keeps the virtual ACPI "VARG" device table (docs/virtio-argo.md
 * "Discovery"). Firmware tables on real hardware sit in reserved, read-only ranges; here the
 * same rule stops a guest from forging its own device list and keeps the toolstack's later
 * rewrites from landing on data the guest put there. It holds for every domain from creation
 * on, so there is no window before the first device is attached (an all-zero page still means
 * "no devices").
 *
 * Only the guest path asks this: the toolstack writes `GuestMemory` directly. Ring
 * registration needs no check here, since `GuestMemory.pinPages` refuses every gfn below
 * FIRST_GUEST_GFN, and sendv writes only into pinned ring pages.
 */
import { PAGE_SIZE, VARG_TABLE_GFN } from "@hmx/proto/abi";

/** Why a guest write into gfn 0 is refused, for the hypervisor log (the reply carries only an errno). */
export const READ_ONLY_GFN_REASON = `gfn ${VARG_TABLE_GFN} holds the virtual ACPI device table (VARG) and is read-only to its guest`;

/**
 * Whether a guest write of `length` bytes at `gpa` would touch a byte of a read-only gfn. A
 * zero-length write touches no byte. Values that are not safe integers are left to the bounds
 * check, which refuses them with the same errno.
 */
export function touchesReadOnlyGfn(gpa: number, length: number): boolean {
  const start = VARG_TABLE_GFN * PAGE_SIZE;
  return length > 0 && gpa < start + PAGE_SIZE && gpa + length > start;
}
