# SPDX-License-Identifier: Apache-2.0
"""The history subscriber against a real hypervisor (started by tests/src/python-client.test.ts
with --http-listen, a 64-event window and --history-from-boot; its address in HMX_TEST_HTTP):
resume across a cut link with every event once and in order, the gap when the window has moved
on, `until="now"` ending the read, refusals that are not retried, and the binary format giving
the same events as the JSON one (its decoder refusing damaged frames needs no hypervisor)."""

import asyncio
import os
import struct
import unittest
import uuid

from hmx import Guest, Ring, Toolstack
from hmx.abi import FIRST_GUEST_GFN, PAGE_SIZE, ring_len_for_pages
from hmx.history import HistoryDecodeError, HistoryRefused, HistorySubscriber, decode_frame

LISTEN = os.environ.get("HMX_TEST_LISTEN", "")
CONTROL = os.environ.get("HMX_TEST_CONTROL", "")
HTTP = os.environ.get("HMX_TEST_HTTP", "")
TOKEN = os.environ.get("HMX_ADMIN_TOKEN", "")
WINDOW = 64


class CuttableProxy:
    """A TCP proxy in front of the HTTP listener whose live connections can be cut at once."""

    def __init__(self, upstream: str):
        self.host, port = upstream.rsplit(":", 1)
        self.port = int(port)
        self.writers = []

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self.writers += [writer, up_writer]

        async def pipe(src, dst):
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        for w in self.writers:
            w.transport.abort()
        self.writers = []

    async def stop(self) -> None:
        self.cut()
        self.server.close()
        await self.server.wait_closed()


@unittest.skipUnless(CONTROL and HTTP and TOKEN, "needs a hypervisor with --http-listen (HMX_TEST_HTTP)")
class HistoryAgainstHypervisor(unittest.TestCase):
    def setUp(self):
        self.toolstack = Toolstack(CONTROL, TOKEN)

    def tearDown(self):
        self.toolstack.close()

    def create_and_destroy(self, n: int, tag: str) -> list:
        names = [f"{tag}-{i}-{uuid.uuid4().hex[:6]}" for i in range(n)]
        for name in names:
            d = self.toolstack.create_domain(name, "hist_t", 64 * 1024)
            self.toolstack.destroy_domain(d.domid)
        return names

    def test_a_cut_link_is_resumed_with_since_and_every_event_arrives_once_in_order(self):
        async def run():
            proxy = CuttableProxy(HTTP)
            address = await proxy.start()
            sub = HistorySubscriber(address, TOKEN, kinds=["domain"], retry_delay=0.05)
            seen = []

            async def consume():
                async for event in sub.events():
                    seen.append(event)

            task = asyncio.create_task(consume())
            loop = asyncio.get_running_loop()
            while sub.connections < 1:
                await asyncio.sleep(0.01)
            before = await loop.run_in_executor(None, self.create_and_destroy, 5, "before")
            while len(seen) < 10:
                await asyncio.sleep(0.01)
            proxy.cut()
            during = await loop.run_in_executor(None, self.create_and_destroy, 5, "during")
            names = before + during
            for _ in range(500):
                if sum(1 for e in seen if e.get("name") == names[-1]) == 2:
                    break
                await asyncio.sleep(0.02)
            sub.close()
            task.cancel()
            await proxy.stop()
            return sub, seen, names

        sub, seen, names = asyncio.run(run())
        self.assertGreaterEqual(sub.connections, 2, "it reconnected after the cut")
        self.assertEqual(sub.gaps, 0, "nothing left the window during the cut")
        seqs = [e["seq"] for e in seen]
        self.assertEqual(seqs, sorted(set(seqs)), "seqs strictly increasing: nothing repeated")
        mine = [(e["name"], e["event"]) for e in seen if e.get("name") in names]
        self.assertEqual(mine, [(n, ev) for n in names for ev in ("created", "destroyed")])

    def test_a_since_older_than_the_window_starts_with_a_gap_then_reads_until_now(self):
        self.create_and_destroy(WINDOW, "flood")  # 2 x WINDOW events: seq 1 has left the window
        sub = HistorySubscriber(HTTP, TOKEN, since=0, until="now")
        events = list(sub.iter_events())
        first, rest = events[0], events[1:]
        self.assertEqual(first["kind"], "gap")
        self.assertEqual(first["from"], 1)
        self.assertEqual(first["dropped"], first["to"])
        self.assertEqual(sub.gaps, 1)
        self.assertEqual(sub.dropped_events, first["dropped"])
        seqs = [e["seq"] for e in rest]
        self.assertEqual(seqs, list(range(first["to"] + 1, first["to"] + 1 + len(seqs))), "no hole after it")
        self.assertLessEqual(len(rest), WINDOW)

    def test_last_starts_with_the_newest_n_retained_events_that_pass_the_filters(self):
        names = self.create_and_destroy(3, "last")
        sub = HistorySubscriber(HTTP, TOKEN, last=4, kinds=["domain"], until="now")
        events = list(sub.iter_events())
        self.assertEqual(
            [(e["name"], e["event"]) for e in events],
            [(names[1], "created"), (names[1], "destroyed"), (names[2], "created"), (names[2], "destroyed")],
        )
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(seqs))

    def test_a_wrong_token_is_refused_with_401_and_not_retried(self):
        sub = HistorySubscriber(HTTP, "not-the-token", until="now")
        with self.assertRaises(HistoryRefused) as caught:
            list(sub.iter_events())
        self.assertEqual(caught.exception.status, 401)
        self.assertEqual(sub.connections, 0)

    def test_a_binary_subscriber_reads_the_same_events_as_a_json_one(self):
        domains = [self.toolstack.create_domain(f"{role}-{uuid.uuid4().hex[:8]}", f"{role}_t") for role in ("rx", "tx")]
        rx, tx = (Guest(LISTEN, d.credential) for d in domains)
        try:
            rx_domid, tx_domid = (d.domid for d in domains)
            Ring(rx, FIRST_GUEST_GFN, ring_len_for_pages(1), aport=9, partner_id=tx_domid).register()
            staging = 40 * PAGE_SIZE
            self.assertEqual(tx.write_memory(staging, b"binary history"), 0)
            self.assertGreater(tx.sendv(rx_domid, 9, [(staging, 14)], src_aport=5), 0)
            self.assertLess(tx.sendv(rx_domid, 1234, [(staging, 14)], src_aport=5), 0)  # no ring: a failure
            self.assertEqual(rx.read_memory(FIRST_GUEST_GFN * PAGE_SIZE, 16)[0], 0)
        finally:
            rx.close()
            tx.close()
            for d in domains:
                self.toolstack.destroy_domain(d.domid)
        json_events = list(HistorySubscriber(HTTP, TOKEN, last=30, until="now").iter_events())
        binary_events = list(HistorySubscriber(HTTP, TOKEN, last=30, until="now", format="binary").iter_events())
        ops = {(e.get("f"), e.get("type")) for e in json_events}
        for op in (("sendv", "ok"), ("sendv", "fail"), ("readMemory", "ok"), ("writeMemory", "ok")):
            self.assertIn(op, ops)
        self.assertEqual(binary_events, json_events)
        self.assertEqual([list(e) for e in binary_events], [list(e) for e in json_events], "keys in the same order")

    def test_bad_arguments_are_refused_before_connecting_naming_the_value(self):
        with self.assertRaisesRegex(ValueError, "kind 'hypercalls' is not one of"):
            HistorySubscriber(HTTP, TOKEN, kinds=["hypercalls"])
        with self.assertRaisesRegex(ValueError, "until 'later'"):
            HistorySubscriber(HTTP, TOKEN, until="later")
        with self.assertRaisesRegex(ValueError, "last 0: expected a count of events"):
            HistorySubscriber(HTTP, TOKEN, last=0)
        with self.assertRaisesRegex(ValueError, "since and last are exclusive"):
            HistorySubscriber(HTTP, TOKEN, since=3, last=2)
        with self.assertRaisesRegex(ValueError, "format 'cbor': expected one of json, binary"):
            HistorySubscriber(HTTP, TOKEN, format="cbor")


class BinaryDecoder(unittest.TestCase):
    """decode_frame on hand-made frames: what a Go or Python author checks an encoder against."""

    def good_frame(self) -> bytes:
        read = struct.pack("<BQQiiQI", 0x03, 7, 1_796_342_400 * 10**9 + 1, 3, 0, 2**40 + 5, 64)
        line = b'{"seq":8,"time":"2026-12-04T00:00:00.000000002Z","kind":"virq","domid":3,"virq":1}'
        return b"HXB\x01" + read + struct.pack("<BI", 0x05, len(line)) + line

    def test_a_good_frame_decodes_to_its_events_in_order(self):
        self.assertEqual(
            decode_frame(self.good_frame()),
            [
                {
                    "seq": 7,
                    "time": "2026-12-04T00:00:00.000000001Z",
                    "kind": "hypercall",
                    "type": "ok",
                    "f": "readMemory",
                    "process": 3,
                    "ret": 0,
                    "value": {"gpa": 2**40 + 5, "len": 64},
                },
                {"seq": 8, "time": "2026-12-04T00:00:00.000000002Z", "kind": "virq", "domid": 3, "virq": 1},
            ],
        )

    def test_short_damaged_or_unknown_version_frames_are_refused_naming_offset_and_value(self):
        good = self.good_frame()
        cases = [
            (good[:2], "frame of 2 bytes"),
            (b"HXC" + good[3:], "starts with 0x485843, not the magic"),
            (good[:3] + b"\x02" + good[4:], "version 2 at offset 3"),
            (good[:20], r"entry at offset 4 \(tag 0x3\): needs 37 bytes, the frame has 16"),
            (good[:41] + b"\x7f", "offset 41: unknown tag 0x7f"),
            (good[:-1], "JSON entry at offset 41: says"),
            (good[:-1] + b",", "JSON entry at offset 41: "),
        ]
        for frame, message in cases:
            with self.assertRaisesRegex(HistoryDecodeError, message):
                decode_frame(frame)


if __name__ == "__main__":
    unittest.main()
