# SPDX-License-Identifier: Apache-2.0
"""The toolstack (admin) API, `hmx.toolstack.v1.Toolstack`, on the control listener."""

from dataclasses import dataclass

from ._channel import ChannelClient
from .toolstack.v1 import toolstack_pb2 as pb
from .toolstack.v1 import toolstack_pb2_grpc as rpc


@dataclass(frozen=True)
class CreatedDomain:
    domid: int
    credential: str


class Toolstack(ChannelClient):
    """Creates, lists and destroys domains; `stub` reaches every other Toolstack RPC."""

    def __init__(self, address: str, admin_token: str, timeout: float = 10.0):
        super().__init__(address, admin_token, timeout)
        self.stub = rpc.ToolstackStub(self._channel)

    def create_domain(self, name: str, label: str, memory_bytes: int = 16 * 1024 * 1024) -> CreatedDomain:
        if memory_bytes <= 0 or memory_bytes % 4096 != 0:
            raise ValueError(f"memory_bytes {memory_bytes} is not a positive multiple of 4096")
        reply = self.stub.CreateDomain(
            pb.CreateDomainRequest(name=name, label=label, memory_bytes=memory_bytes), timeout=self.timeout
        )
        return CreatedDomain(domid=reply.domid, credential=reply.credential)

    def destroy_domain(self, domid: int) -> None:
        self.stub.DestroyDomain(pb.DestroyDomainRequest(domid=domid), timeout=self.timeout)

    def list_domains(self):
        return list(self.stub.ListDomains(pb.ListDomainsRequest(), timeout=self.timeout).domains)
