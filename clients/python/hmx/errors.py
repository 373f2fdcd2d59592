# SPDX-License-Identifier: Apache-2.0
"""Errors the client raises. Argo results are return values, not exceptions: only a failed
call (a gRPC status) or a failed Argo step inside a helper (HypercallError) raises."""

from .abi import describe_ret


class HypercallError(Exception):
    """A hypercall a helper needed returned a negative Xen errno."""

    def __init__(self, op: str, ret: int):
        super().__init__(f"{op} returned {describe_ret(ret)}")
        self.op = op
        self.ret = ret
