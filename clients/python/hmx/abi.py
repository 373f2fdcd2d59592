# SPDX-License-Identifier: Apache-2.0
"""Argo's ABI as hmx exposes it (Xen's public/argo.h; ../shared argo-spec §2, §4).

The same values as @hmx/proto's abi.ts. Hypercalls return Xen's value: >= 0 on success,
otherwise a negative Xen errno (see ERRNO and describe_ret).
"""

PAGE_SIZE = 4096
PAGE_SHIFT = 12
# gfns 0-15 belong to the platform (gfn 0: the VirtIO device table; then the agent's own state).
FIRST_GUEST_GFN = 16

ARGO_DOMID_ANY = 0x7FF4  # "the caller" in sendv's src, "anyone" as a ring's partner
ARGO_MSG_SLOT_SIZE = 16
ARGO_RING_HEADER_SIZE = 64
ARGO_MSG_HEADER_SIZE = 16
ARGO_MIN_RING_LEN = 48
ARGO_MAX_REGISTERABLE_RING_LEN = 0xFFFFC0
ARGO_MAXIOV = 8
VIRQ_ARGO = 11

# Ring header: rx_ptr (written by the guest) and tx_ptr (written by the hypervisor).
RING_RX_PTR_OFFSET = 0
RING_TX_PTR_OFFSET = 4

# Message header: len (payload + 16), source {aport, domain_id, pad}, message_type.
MSG_LEN_OFFSET = 0
MSG_SOURCE_APORT_OFFSET = 4
MSG_SOURCE_DOMID_OFFSET = 8
MSG_TYPE_OFFSET = 12

# Notify result flags.
RING_EXISTS = 1 << 0
RING_SHARED = 1 << 1
RING_EMPTY = 1 << 2
RING_SUFFICIENT = 1 << 3
RING_EMSGSIZE = 1 << 4
RING_EBUSY = 1 << 5

ERRNO = {
    "EPERM": 1,
    "ENOENT": 2,
    "ESRCH": 3,
    "EAGAIN": 11,
    "ENOMEM": 12,
    "EACCES": 13,
    "EFAULT": 14,
    "EBUSY": 16,
    "EEXIST": 17,
    "ENODEV": 19,
    "EINVAL": 22,
    "ENOSPC": 28,
    "EMSGSIZE": 90,
    "EOPNOTSUPP": 95,
    "ECONNREFUSED": 111,
}
_ERRNO_NAMES = {value: name for name, value in ERRNO.items()}


def describe_ret(ret: int) -> str:
    """A hypercall return value for humans: '23' or '-EAGAIN (-11)'."""
    if ret >= 0:
        return str(ret)
    name = _ERRNO_NAMES.get(-ret)
    return str(ret) if name is None else f"-{name} ({ret})"


def round_up_to_slot(n: int) -> int:
    return (n + ARGO_MSG_SLOT_SIZE - 1) & ~(ARGO_MSG_SLOT_SIZE - 1)


def ring_pages(ring_len: int) -> int:
    """Pages a ring of this length occupies, its 64-byte header included (NPAGES_RING)."""
    return -(-(round_up_to_slot(ring_len) + ARGO_RING_HEADER_SIZE) // PAGE_SIZE)


def ring_len_for_pages(pages: int) -> int:
    """The largest ring length that fits in `pages` pages (the Linux driver's convention)."""
    return round_up_to_slot(pages * PAGE_SIZE - ARGO_RING_HEADER_SIZE - ARGO_MSG_SLOT_SIZE)
