# SPDX-License-Identifier: Apache-2.0
"""The Python client against a real hmx hypervisor (started by tests/src/python-client.test.ts,
which passes its addresses in HMX_TEST_LISTEN, HMX_TEST_CONTROL and HMX_ADMIN_TOKEN)."""

import os
import struct
import unittest
import uuid

import grpc

from hmx import Guest, HypercallError, Ring, Toolstack, describe_ret
from hmx.abi import ARGO_DOMID_ANY, ERRNO, FIRST_GUEST_GFN, PAGE_SIZE, RING_EMPTY, RING_EXISTS, ring_len_for_pages

LISTEN = os.environ.get("HMX_TEST_LISTEN", "")
CONTROL = os.environ.get("HMX_TEST_CONTROL", "")
TOKEN = os.environ.get("HMX_ADMIN_TOKEN", "")
STAGING_GPA = 40 * PAGE_SIZE  # beyond any ring below


@unittest.skipUnless(LISTEN and CONTROL and TOKEN, "needs a running hypervisor (HMX_TEST_LISTEN, HMX_TEST_CONTROL, HMX_ADMIN_TOKEN)")
class ClientAgainstHypervisor(unittest.TestCase):
    def setUp(self):
        self.toolstack = Toolstack(CONTROL, TOKEN)
        self.created = []

    def tearDown(self):
        for domid, guest in self.created:
            guest.close()
            self.toolstack.destroy_domain(domid)
        self.toolstack.close()

    def domain(self, role: str) -> Guest:
        d = self.toolstack.create_domain(f"{role}-{uuid.uuid4().hex[:8]}", f"{role}_t")
        guest = Guest(LISTEN, d.credential)
        self.created.append((d.domid, guest))
        return guest

    def send(self, sender: Guest, dst_domid: int, aport: int, payload: bytes, src_aport: int = 7) -> int:
        self.assertEqual(sender.write_memory(STAGING_GPA, payload), 0)
        return sender.sendv(dst_domid, aport, [(STAGING_GPA, len(payload))], src_aport=src_aport)

    def test_sendv_lands_in_the_receivers_ring_stamped_with_the_authenticated_source(self):
        rx, tx = self.domain("rx"), self.domain("tx")
        ring = Ring(rx, FIRST_GUEST_GFN, ring_len_for_pages(2), aport=9, partner_id=tx.info().domid)
        ring.register()
        self.assertEqual(self.send(tx, rx.info().domid, 9, b"hello argo", src_aport=5), 10)
        [message] = ring.receive()
        self.assertEqual(message.payload, b"hello argo")
        self.assertEqual(message.src_domid, tx.info().domid)
        self.assertEqual(message.src_aport, 5)
        self.assertEqual(ring.receive(), [], "a message is read once")

    def test_sendv_to_a_missing_ring_is_econnrefused(self):
        rx, tx = self.domain("rx"), self.domain("tx")
        ret = self.send(tx, rx.info().domid, 1234, b"x")
        self.assertEqual(ret, -ERRNO["ECONNREFUSED"], describe_ret(ret))

    def test_a_full_ring_gives_eagain_until_the_reader_frees_space(self):
        rx, tx = self.domain("rx"), self.domain("tx")
        ring = Ring(rx, FIRST_GUEST_GFN, 48, aport=9, partner_id=tx.info().domid)  # the minimum: one 16-byte payload
        ring.register()
        rx_domid = rx.info().domid
        self.assertEqual(self.send(tx, rx_domid, 9, b"A" * 16), 16)
        self.assertEqual(self.send(tx, rx_domid, 9, b"B"), -ERRNO["EAGAIN"])
        self.assertEqual([m.payload for m in ring.receive()], [b"A" * 16])
        self.assertEqual(self.send(tx, rx_domid, 9, b"B"), 1)

    def test_the_reader_follows_messages_across_the_ring_wrap_in_order(self):
        rx, tx = self.domain("rx"), self.domain("tx")
        ring = Ring(rx, FIRST_GUEST_GFN, 256, aport=9, partner_id=tx.info().domid)
        ring.register()
        rx_domid = rx.info().domid
        received = []
        for k in range(60):  # 60 x 48-byte slots through a 256-byte ring: it wraps many times
            payload = struct.pack("<I", k) + bytes(20 + k % 7)
            while (ret := self.send(tx, rx_domid, 9, payload)) == -ERRNO["EAGAIN"]:
                received.extend(m.payload for m in ring.receive())
            self.assertGreater(ret, 0, describe_ret(ret))
        received.extend(m.payload for m in ring.receive())
        self.assertEqual([struct.unpack_from("<I", p)[0] for p in received], list(range(60)))

    def test_notify_reports_an_empty_existing_ring(self):
        rx, tx = self.domain("rx"), self.domain("tx")
        Ring(rx, FIRST_GUEST_GFN, ring_len_for_pages(1), aport=9, partner_id=tx.info().domid).register()
        result = tx.notify([(rx.info().domid, 9, 16)])
        self.assertEqual(result.ret, 0)
        flags, max_size = result.entries[0]
        self.assertTrue(flags & RING_EXISTS and flags & RING_EMPTY, f"flags {flags:#x}")
        self.assertEqual(max_size, ring_len_for_pages(1) - 32)

    def test_a_wildcard_ring_is_eperm_unless_the_hypervisor_is_mac_permissive(self):
        guest = self.domain("server")
        ret = guest.register_ring(9, ARGO_DOMID_ANY, 48, [FIRST_GUEST_GFN])
        self.assertEqual(ret, -ERRNO["EPERM"], describe_ret(ret))

    def test_memory_outside_the_domain_is_efault(self):
        guest = self.domain("solo")
        ret, _ = guest.read_memory(guest.info().memory_bytes, 1)
        self.assertEqual(ret, -ERRNO["EFAULT"])

    def test_a_wrong_credential_is_refused_as_unauthenticated(self):
        with Guest(LISTEN, "not-a-credential") as intruder:
            with self.assertRaises(grpc.RpcError) as caught:
                intruder.info()
        self.assertEqual(caught.exception.code(), grpc.StatusCode.UNAUTHENTICATED)

    def test_a_helper_raises_hypercall_error_naming_the_errno(self):
        guest = self.domain("solo")
        with self.assertRaises(HypercallError) as caught:
            outside = guest.info().memory_bytes // PAGE_SIZE  # the first gfn past the domain's memory
            Ring(guest, outside, 48, aport=3, partner_id=guest.info().domid).register()
        self.assertIn("-E", str(caught.exception))

    def test_create_domain_refuses_memory_that_is_not_whole_pages(self):
        with self.assertRaisesRegex(ValueError, "memory_bytes 1000 is not a positive multiple of 4096"):
            self.toolstack.create_domain("bad", "bad_t", 1000)


if __name__ == "__main__":
    unittest.main()
