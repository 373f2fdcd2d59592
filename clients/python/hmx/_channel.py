# SPDX-License-Identifier: Apache-2.0
"""One gRPC channel with a bearer token on every call (DESIGN §3.2: identity comes from the
connection's credential, never from a request field)."""

import grpc

# The service's own limits: 16 MiB of data per Read/WriteMemory plus the message around it.
_OPTIONS = [
    ("grpc.max_receive_message_length", 17 * 1024 * 1024),
    ("grpc.max_send_message_length", 17 * 1024 * 1024),
]


def _with_bearer(token: str) -> grpc.UnaryUnaryClientInterceptor:
    metadata = (("authorization", f"Bearer {token}"),)

    class _Bearer(
        grpc.UnaryUnaryClientInterceptor,
        grpc.UnaryStreamClientInterceptor,
    ):
        def _details(self, details):
            return details._replace(metadata=tuple(details.metadata or ()) + metadata)

        def intercept_unary_unary(self, continuation, details, request):
            return continuation(self._details(details), request)

        def intercept_unary_stream(self, continuation, details, request):
            return continuation(self._details(details), request)

    return _Bearer()


def open_channel(address: str, token: str) -> grpc.Channel:
    """An insecure channel to `address` ("host:port" or "unix:PATH") that presents `token`."""
    if not token:
        raise ValueError("a token is needed (the admin token or a domain credential); got an empty one")
    return grpc.intercept_channel(grpc.insecure_channel(address, options=_OPTIONS), _with_bearer(token))


class ChannelClient:
    """What both clients share: one authenticated channel, closed by close() or a with block."""

    def __init__(self, address: str, token: str, timeout: float):
        self._channel = open_channel(address, token)
        self.timeout = timeout

    def close(self) -> None:
        self._channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()
