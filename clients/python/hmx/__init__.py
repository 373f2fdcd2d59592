# SPDX-License-Identifier: Apache-2.0
"""hmx: Python clients for the hmx Argo testbed.

    from hmx import Toolstack, Guest, Ring

`Toolstack` is the admin API (domains, policy, firewall); `Guest` one domain's hypercalls;
`Ring` a receive ring in a guest's memory, read the way a guest reads it; `HistorySubscriber`
(hmx.history, needs `websockets`) the event history, resumed across reconnects. The generated stubs
are `hmx.argo.v1` and `hmx.toolstack.v1` (regenerate with `npm run gen:python`).
"""

from .abi import describe_ret
from .errors import HypercallError
from .guest_client import DomainInfo, Guest, NotifyResult
from .history import HistoryRefused, HistorySubscriber
from .ring import Message, Ring
from .toolstack_client import CreatedDomain, Toolstack

__all__ = [
    "CreatedDomain",
    "DomainInfo",
    "Guest",
    "HistoryRefused",
    "HistorySubscriber",
    "HypercallError",
    "Message",
    "NotifyResult",
    "Ring",
    "Toolstack",
    "describe_ret",
]
