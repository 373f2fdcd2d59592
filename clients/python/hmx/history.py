# SPDX-License-Identifier: Apache-2.0
"""A subscriber of the hypervisor's event history (`GET /v1/history` on its HTTP listener,
docs/harness.md): one JSON event per WebSocket frame, each with a strictly increasing `seq`.

When the connection drops (a network cut, the hypervisor closing a subscriber that fell behind)
it reconnects with `since` = the last seq it delivered, so within the retained window no event is
lost or delivered twice; what the window no longer holds arrives as the hypervisor's `gap` event,
delivered like any other (and counted in `gaps` / `dropped_events`). A refusal (wrong token, a
bad query, a `since` from another run) is not retried: it raises `HistoryRefused`.

    sub = HistorySubscriber("127.0.0.1:7072", admin_token, since=0, until="now")
    # or HistorySubscriber(address, admin_token, last=20): the newest 20 retained events, then on
    for event in sub.iter_events():      # or: async for event in sub.events()
        print(event["seq"], event["kind"])

`format="binary"` asks for the compact binary format (docs/harness.md "Binary format"): many
events per binary frame, decoded by `decode_frame` into the same dicts the JSON stream gives.

Needs the `websockets` package (Debian's python3-websockets, or `pip install websockets`).
"""

import asyncio
import inspect
import json
import struct
from datetime import datetime, timezone
from typing import AsyncIterator, Iterator, List, Optional, Sequence, Union
from urllib.parse import urlencode

KINDS = ("hypercall", "virq", "mac", "link", "fault", "domain", "session", "gap")
FORMATS = ("json", "binary")

#: The binary format (docs/harness.md "Binary format"): each frame starts with the magic and
#: the version, then entries, each a tag byte and its fields, little-endian.
BINARY_MAGIC = b"HXB"
BINARY_VERSION = 1
TAG_SENDV_OK = 0x01
TAG_SENDV_FAIL = 0x02
TAG_READ_MEMORY = 0x03
TAG_WRITE_MEMORY = 0x04
TAG_JSON = 0x05
_HEAD = struct.Struct("<QQ")  # seq, time (ns since the epoch)
_SENDV = struct.Struct("<iiiIiIII")  # process, ret, src domid/aport, dst domid/aport, messageType, len
_MEMORY = struct.Struct("<iiQI")  # process, ret, gpa, len
_DIGEST = struct.Struct("<BI")  # present, CRC-32
_U32 = struct.Struct("<I")
#: Bytes after the tag of each fixed-layout entry (a failed sendv's label follows its own).
_FIXED = {
    TAG_SENDV_OK: _HEAD.size + _SENDV.size + _DIGEST.size,
    TAG_SENDV_FAIL: _HEAD.size + _SENDV.size + 1,
    TAG_READ_MEMORY: _HEAD.size + _MEMORY.size,
    TAG_WRITE_MEMORY: _HEAD.size + _MEMORY.size + _DIGEST.size,
    TAG_JSON: _U32.size,
}


class HistoryDecodeError(ValueError):
    """A binary history frame that is short, damaged or of another version (the message names
    the offset and the value); none of its events is returned."""


_second_prefix = [-1, ""]


def _rfc3339(ns_since_epoch: int) -> str:
    second, ns = divmod(ns_since_epoch, 1_000_000_000)
    if _second_prefix[0] != second:
        _second_prefix[0] = second
        _second_prefix[1] = datetime.fromtimestamp(second, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{_second_prefix[1]}.{ns:09d}Z"


def _digest(present: int, value: int) -> str:
    return f"crc32:{value:08x}" if present else ""


def decode_frame(frame: bytes) -> List[dict]:
    """The events of one binary history frame, in order: the same dicts (same keys in the same
    order, same values) `json.loads` gives for the JSON stream. Raises HistoryDecodeError."""
    end = len(frame)
    if end < 4:
        raise HistoryDecodeError(f"binary history frame of {end} bytes: shorter than its 4-byte magic and version")
    if frame[:3] != BINARY_MAGIC:
        raise HistoryDecodeError(
            f"binary history frame starts with 0x{bytes(frame[:3]).hex()}, not the magic \"HXB\" (0x485842)"
        )
    if frame[3] != BINARY_VERSION:
        raise HistoryDecodeError(
            f"binary history frame of version {frame[3]} at offset 3: this decoder reads version {BINARY_VERSION}"
        )
    events = []
    pos = 4
    while pos < end:
        at = pos
        tag = frame[pos]
        fixed = _FIXED.get(tag)
        if fixed is None:
            raise HistoryDecodeError(f"binary history entry at offset {at}: unknown tag 0x{tag:x}")
        if pos + 1 + fixed > end:
            raise HistoryDecodeError(
                f"binary history entry at offset {at} (tag 0x{tag:x}): needs {1 + fixed} bytes, the frame has {end - pos}"
            )
        pos += 1
        if tag == TAG_JSON:
            (n,) = _U32.unpack_from(frame, pos)
            pos += 4
            if pos + n > end:
                raise HistoryDecodeError(
                    f"binary history JSON entry at offset {at}: says {n} bytes, the frame has {end - pos}"
                )
            try:
                events.append(json.loads(bytes(frame[pos : pos + n]).decode("utf-8")))
            except ValueError as err:
                raise HistoryDecodeError(f"binary history JSON entry at offset {at}: {err}") from err
            pos += n
            continue
        seq, ns = _HEAD.unpack_from(frame, pos)
        time = _rfc3339(ns)
        pos += _HEAD.size
        if tag in (TAG_READ_MEMORY, TAG_WRITE_MEMORY):
            process, ret, gpa, length = _MEMORY.unpack_from(frame, pos)
            pos += _MEMORY.size
            value = {"gpa": gpa, "len": length}
            if tag == TAG_WRITE_MEMORY:
                value["digest"] = _digest(*_DIGEST.unpack_from(frame, pos))
                pos += _DIGEST.size
            f = "readMemory" if tag == TAG_READ_MEMORY else "writeMemory"
            events.append(
                {"seq": seq, "time": time, "kind": "hypercall", "type": "ok", "f": f, "process": process, "ret": ret, "value": value}
            )
            continue
        process, ret, src_domid, src_aport, dst_domid, dst_aport, message_type, length = _SENDV.unpack_from(frame, pos)
        pos += _SENDV.size
        value = {
            "src": {"domid": src_domid, "aport": src_aport},
            "dst": {"domid": dst_domid, "aport": dst_aport},
            "messageType": message_type,
            "len": length,
        }
        event = {"seq": seq, "time": time, "kind": "hypercall", "type": "ok", "f": "sendv", "process": process, "ret": ret, "value": value}
        if tag == TAG_SENDV_OK:
            value["digest"] = _digest(*_DIGEST.unpack_from(frame, pos))
            pos += _DIGEST.size
        else:
            n = frame[pos]
            pos += 1
            if pos + n > end:
                raise HistoryDecodeError(
                    f"binary history failed-sendv entry at offset {at}: its error label says {n} bytes, the frame has {end - pos}"
                )
            event["type"] = "fail"
            event["error"] = bytes(frame[pos : pos + n]).decode("latin-1")
            pos += n
        events.append(event)
    return events

#: The close code the hypervisor ends an `until` subscription with.
CLOSE_DONE = 1000
MAX_RETRY_DELAY = 5.0


class HistoryRefused(Exception):
    """The hypervisor refused the subscription (HTTP status: 401 token, 400 query), or stayed
    unreachable for `max_attempts` connection attempts (status None)."""

    def __init__(self, message: str, status: Optional[int] = None):
        super().__init__(message)
        self.status = status


def history_url(address: str, since=None, until=None, kinds=None, domid=None, last=None, format=None) -> str:
    """The `/v1/history` URL of a subscription resuming after `since` (or starting with the
    newest `last` retained events)."""
    query = []
    if since is not None:
        query.append(("since", str(since)))
    if last is not None:
        query.append(("last", str(last)))
    if until is not None:
        query.append(("until", str(until)))
    if kinds is not None:
        query.append(("kinds", ",".join(kinds)))
    if domid is not None:
        query.append(("domid", str(domid)))
    if format is not None and format != "json":
        query.append(("format", format))
    return f"ws://{address}/v1/history" + (f"?{urlencode(query)}" if query else "")


def _close_code(err) -> Optional[int]:
    """The close code a ConnectionClosed carries (websockets 10 and 11+ name it differently)."""
    rcvd = getattr(err, "rcvd", None)
    if rcvd is not None:
        return rcvd.code
    return getattr(err, "code", None)


class HistorySubscriber:
    """Follows (or, with `until`, reads up to a point) the history, resuming across reconnects."""

    def __init__(
        self,
        address: str,
        admin_token: str,
        since: Optional[int] = None,
        until: Union[int, str, None] = None,
        kinds: Optional[Sequence[str]] = None,
        domid: Optional[int] = None,
        last: Optional[int] = None,
        reconnect: bool = True,
        retry_delay: float = 0.2,
        max_attempts: int = 10,
        format: str = "json",
    ):
        if format not in FORMATS:
            raise ValueError(f"format {format!r}: expected one of {', '.join(FORMATS)}")
        for kind in kinds or ():
            if kind not in KINDS:
                raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
        if until is not None and until != "now" and not (isinstance(until, int) and until >= 0):
            raise ValueError(f"until {until!r}: expected a seq (int >= 0) or 'now'")
        if since is not None and not (isinstance(since, int) and since >= 0):
            raise ValueError(f"since {since!r}: expected a seq, an int >= 0")
        if last is not None:
            if isinstance(last, bool) or not (isinstance(last, int) and last >= 1):
                raise ValueError(f"last {last!r}: expected a count of events, an int >= 1")
            if since is not None:
                raise ValueError("since and last are exclusive: resume after a seq, or take the last N events")
        self.address = address
        self._token = admin_token
        self.since = since
        self.until = until
        self.kinds = list(kinds) if kinds is not None else None
        self.domid = domid
        #: Only the first connection asks for the newest `last` events; a reconnect resumes
        #: after the last seq delivered, like any other.
        self.last = last
        self.reconnect = reconnect
        self.retry_delay = retry_delay
        self.max_attempts = max_attempts
        #: "json" (one text frame per event) or "binary" (many per frame, see decode_frame).
        self.format = format
        #: The last seq delivered; the next connection resumes after it.
        self.last_seq: Optional[int] = None
        self.gaps = 0
        self.dropped_events = 0
        self.connections = 0
        self._closed = False

    def close(self) -> None:
        """Ends the subscription after the event being delivered."""
        self._closed = True

    async def _connect(self):
        import websockets  # imported here so `import hmx` works without it

        url = history_url(
            self.address,
            since=self.last_seq if self.last_seq is not None else self.since,
            until=self.until,
            kinds=self.kinds,
            domid=self.domid,
            last=self.last if self.last_seq is None else None,
            format=self.format,
        )
        headers = {"Authorization": f"Bearer {self._token}"}
        params = inspect.signature(websockets.connect).parameters
        header_arg = "additional_headers" if "additional_headers" in params else "extra_headers"
        return await websockets.connect(url, compression=None, max_size=1 << 20, **{header_arg: headers})

    async def events(self) -> AsyncIterator[dict]:
        """Each event (a dict) in seq order, once; ends on `close()` or when `until` is reached."""
        import websockets

        failures = 0
        while not self._closed:
            reason = ""
            try:
                ws = await self._connect()
            except websockets.exceptions.InvalidStatusCode as err:
                raise HistoryRefused(
                    f"history at {self.address} refused (HTTP {err.status_code})", err.status_code
                ) from err
            except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as err:
                reason = str(err) or type(err).__name__
            else:
                self.connections += 1
                failures = 0
                try:
                    async for frame in ws:
                        for event in self._decode(frame):
                            seq = event["seq"]
                            # A resumed connection starts after last_seq; this keeps "once" regardless.
                            if self.last_seq is not None and seq <= self.last_seq:
                                continue
                            self.last_seq = seq
                            if event["kind"] == "gap":
                                self.gaps += 1
                                self.dropped_events += int(event.get("dropped", 0))
                            yield event
                            if self._closed:
                                break
                        if self._closed:
                            break
                    else:
                        if self.until is not None and ws.close_code == CLOSE_DONE:
                            return
                        reason = f"closed with {ws.close_code}"
                except websockets.exceptions.ConnectionClosed as err:
                    if self.until is not None and _close_code(err) == CLOSE_DONE:
                        return
                    reason = f"closed with {_close_code(err)}"
                finally:
                    await ws.close()
            if self._closed:
                return
            failures += 1
            if not self.reconnect or failures > self.max_attempts:
                retries = "" if not self.reconnect else f" (gave up after {failures - 1} retries)"
                raise HistoryRefused(f"history at {self.address}: {reason}{retries}")
            await asyncio.sleep(min(MAX_RETRY_DELAY, self.retry_delay * 2 ** (failures - 1)))

    def _decode(self, frame) -> List[dict]:
        """A frame's events: one JSON text frame, or a binary frame of many (a frame of the other
        kind, or one that does not decode, ends the subscription: retrying cannot read it)."""
        binary = self.format == "binary"
        if isinstance(frame, str) == binary:
            kind = "text" if isinstance(frame, str) else "binary"
            raise HistoryDecodeError(f"history at {self.address}: got a {kind} frame on a {self.format} subscription")
        return decode_frame(frame) if binary else [json.loads(frame)]

    def iter_events(self) -> Iterator[dict]:
        """`events()` for code without asyncio: a plain generator on a private event loop."""
        loop = asyncio.new_event_loop()
        agen = self.events().__aiter__()
        try:
            while True:
                try:
                    yield loop.run_until_complete(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            loop.run_until_complete(agen.aclose())
            loop.close()
