# SPDX-License-Identifier: Apache-2.0
"""A receive ring in a guest's own memory, read the way a guest reads it (argo-spec §4.6).

The ring's pages are the caller's memory from `gfn` on; `register()` zeroes the header and
registers it; `receive()` returns every complete message after rx_ptr, advances rx_ptr and
calls notify(NULL) so that blocked senders' waiters fire.
"""

import struct
from dataclasses import dataclass
from typing import List

from .abi import (
    ARGO_DOMID_ANY,
    ARGO_MSG_HEADER_SIZE,
    ARGO_RING_HEADER_SIZE,
    PAGE_SIZE,
    RING_RX_PTR_OFFSET,
    round_up_to_slot,
    ring_pages,
)
from .errors import HypercallError
from .guest_client import Guest


@dataclass(frozen=True)
class Message:
    src_domid: int
    src_aport: int
    message_type: int
    payload: bytes


class Ring:
    def __init__(self, guest: Guest, gfn: int, ring_len: int, aport: int, partner_id: int = ARGO_DOMID_ANY):
        if ring_len % 16 != 0:
            raise ValueError(f"ring length {ring_len} is not a multiple of 16")
        self.guest = guest
        self.gpa = gfn * PAGE_SIZE
        self.gfns = [gfn + i for i in range(ring_pages(ring_len))]
        self.len = ring_len
        self.aport = aport
        self.partner_id = partner_id

    def register(self) -> None:
        _check("write_memory", self.guest.write_memory(self.gpa, bytes(ARGO_RING_HEADER_SIZE)))
        _check("register_ring", self.guest.register_ring(self.aport, self.partner_id, self.len, self.gfns))

    def unregister(self) -> None:
        _check("unregister_ring", self.guest.unregister_ring(self.aport, self.partner_id))

    def receive(self) -> List[Message]:
        """Every complete message now in the ring, oldest first; frees their space."""
        ret, header = self.guest.read_memory(self.gpa, 8)
        _check("read_memory", ret)
        rx, tx = struct.unpack_from("<II", header)
        # Sanitise rx as the hypervisor does (§4.5): a hostile or stale value cannot make us loop.
        rx = round_up_to_slot(rx)
        if rx >= self.len:
            rx = 0
        available = (tx - rx) % self.len
        if available < ARGO_MSG_HEADER_SIZE:
            return []
        data = self._read_wrapped(rx, available)
        messages: List[Message] = []
        at = 0
        while available - at >= ARGO_MSG_HEADER_SIZE:
            length, aport, domid, _pad, mtype = struct.unpack_from("<IIHHI", data, at)
            if length < ARGO_MSG_HEADER_SIZE or length > available - at:
                break  # incomplete or corrupt: stop here, as the Linux driver does
            payload = bytes(data[at + ARGO_MSG_HEADER_SIZE : at + length])
            messages.append(Message(src_domid=domid, src_aport=aport, message_type=mtype, payload=payload))
            at += round_up_to_slot(length)
        new_rx = (rx + at) % self.len
        _check("write_memory", self.guest.write_memory(self.gpa + RING_RX_PTR_OFFSET, struct.pack("<I", new_rx)))
        _check("notify", self.guest.notify(None).ret)
        return messages

    def _read_wrapped(self, offset: int, length: int) -> bytes:
        base = self.gpa + ARGO_RING_HEADER_SIZE
        first = min(length, self.len - offset)
        ret, head = self.guest.read_memory(base + offset, first)
        _check("read_memory", ret)
        if first == length:
            return head
        ret, tail = self.guest.read_memory(base, length - first)
        _check("read_memory", ret)
        return head + tail


def _check(op: str, ret: int) -> int:
    if ret < 0:
        raise HypercallError(op, ret)
    return ret
