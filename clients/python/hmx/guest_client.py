# SPDX-License-Identifier: Apache-2.0
"""The guest-facing API, `hmx.argo.v1.Hypervisor`: one domain's hypercalls, unary, one by one.

Every method returns the hypercall's return value exactly as Xen's do_argo_op gives it (>= 0 on
success, else a negative Xen errno); only transport-level failures raise grpc.RpcError.
"""

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence, Tuple

from ._channel import ChannelClient
from .abi import ARGO_DOMID_ANY
from .argo.v1 import hypervisor_pb2 as pb
from .argo.v1 import hypervisor_pb2_grpc as rpc


@dataclass(frozen=True)
class DomainInfo:
    domid: int
    memory_bytes: int
    page_size: int
    label: str


@dataclass(frozen=True)
class NotifyResult:
    ret: int
    # (flags, max_message_size) per entry processed before the first failure.
    entries: List[Tuple[int, int]]


class Guest(ChannelClient):
    """A domain's view of the hypervisor, authenticated by its credential."""

    def __init__(self, address: str, credential: str, timeout: float = 10.0):
        super().__init__(address, credential, timeout)
        self.stub = rpc.HypervisorStub(self._channel)

    def info(self) -> DomainInfo:
        r = self.stub.GetDomainInfo(pb.GetDomainInfoRequest(), timeout=self.timeout)
        return DomainInfo(domid=r.domid, memory_bytes=r.memory_bytes, page_size=r.page_size, label=r.label)

    def read_memory(self, gpa: int, length: int) -> Tuple[int, bytes]:
        r = self.stub.ReadMemory(pb.ReadMemoryRequest(gpa=gpa, length=length), timeout=self.timeout)
        return r.ret, r.data

    def write_memory(self, gpa: int, data: bytes) -> int:
        return self.stub.WriteMemory(pb.WriteMemoryRequest(gpa=gpa, data=data), timeout=self.timeout).ret

    def register_ring(self, aport: int, partner_id: int, ring_len: int, gfns: Sequence[int], flags: int = 0) -> int:
        request = pb.RegisterRingRequest(aport=aport, partner_id=partner_id, len=ring_len, gfns=list(gfns), flags=flags)
        return self.stub.RegisterRing(request, timeout=self.timeout).ret

    def unregister_ring(self, aport: int, partner_id: int) -> int:
        request = pb.UnregisterRingRequest(aport=aport, partner_id=partner_id)
        return self.stub.UnregisterRing(request, timeout=self.timeout).ret

    def sendv(
        self,
        dst_domid: int,
        dst_aport: int,
        iovs: Iterable[Tuple[int, int]],
        src_aport: int = 0,
        message_type: int = 0,
    ) -> int:
        """Sends the bytes at each (gpa, len) of the caller's memory as one message."""
        request = pb.SendvRequest(
            src=pb.ArgoAddr(aport=src_aport, domain_id=ARGO_DOMID_ANY),
            dst=pb.ArgoAddr(aport=dst_aport, domain_id=dst_domid),
            iovs=[pb.Iov(gpa=gpa, len=length) for gpa, length in iovs],
            message_type=message_type,
        )
        return self.stub.Sendv(request, timeout=self.timeout).ret

    def notify(self, rings: Optional[Iterable[Tuple[int, int, int]]] = None) -> NotifyResult:
        """Xen's notify: `rings` is None (NULL) or (domid, aport, space_required) entries."""
        if rings is None:
            request = pb.NotifyRequest()
        else:
            entries = [
                pb.RingDataEntry(ring=pb.ArgoAddr(aport=aport, domain_id=domid), space_required=space)
                for domid, aport, space in rings
            ]
            request = pb.NotifyRequest(ring_data=pb.RingData(entries=entries))
        r = self.stub.Notify(request, timeout=self.timeout)
        return NotifyResult(ret=r.ret, entries=[(e.flags, e.max_message_size) for e in r.entries])

    def watch_events(self):
        """An iterator over this domain's events (VIRQ_ARGO and device events); cancel() ends it."""
        return self.stub.WatchEvents(pb.WatchEventsRequest())
