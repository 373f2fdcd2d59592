# SPDX-License-Identifier: Apache-2.0
"""The history subscriber against a real hypervisor (started by tests/src/python-client.test.ts
with --http-listen, a 64-event window and --history-from-boot; its address in HMX_TEST_HTTP):
resume across a cut link with every event once and in order, the gap when the window has moved
on, `until="now"` ending the read, and refusals that are not retried."""

import asyncio
import os
import unittest
import uuid

from hmx import Toolstack
from hmx.history import HistoryRefused, HistorySubscriber

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

    def test_bad_arguments_are_refused_before_connecting_naming_the_value(self):
        with self.assertRaisesRegex(ValueError, "kind 'hypercalls' is not one of"):
            HistorySubscriber(HTTP, TOKEN, kinds=["hypercalls"])
        with self.assertRaisesRegex(ValueError, "until 'later'"):
            HistorySubscriber(HTTP, TOKEN, until="later")
        with self.assertRaisesRegex(ValueError, "last 0: expected a count of events"):
            HistorySubscriber(HTTP, TOKEN, last=0)
        with self.assertRaisesRegex(ValueError, "since and last are exclusive"):
            HistorySubscriber(HTTP, TOKEN, since=3, last=2)


if __name__ == "__main__":
    unittest.main()
