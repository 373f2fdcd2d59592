# SPDX-License-Identifier: Apache-2.0
"""The harness's checks fail on planted violations (a checker that cannot fail is not one)."""

import unittest

from harness import check_delivery, check_fault_window


def failures(numbers, sources=None, expected=5, sender=3):
    sources = [sender] * len(numbers) if sources is None else sources
    return {name: failure for name, failure in check_delivery(numbers, sources, expected, sender) if failure}


class CheckDelivery(unittest.TestCase):
    def test_a_clean_delivery_passes_every_check(self):
        self.assertEqual(failures([0, 1, 2, 3, 4]), {})

    def test_a_lost_message_fails_no_loss(self):
        self.assertEqual(failures([0, 1, 3, 4]), {"no loss": "1 missing, first [2]"})

    def test_a_duplicate_fails_no_duplication_and_fifo(self):
        self.assertEqual(set(failures([0, 1, 1, 2, 3, 4])), {"no duplication", "per-pair FIFO"})

    def test_a_reordering_fails_fifo(self):
        self.assertEqual(set(failures([0, 2, 1, 3, 4])), {"per-pair FIFO"})

    def test_a_foreign_source_fails_the_stamp_check(self):
        self.assertEqual(set(failures([0, 1, 2, 3, 4], sources=[3, 3, 9, 3, 3])), {"source stamped by the hypervisor"})


def fault(seq, kind):
    return {"seq": seq, "kind": "fault", "type": kind, "name": "tx/lat"}


def send(seq, process=3):
    return {"seq": seq, "kind": "hypercall", "f": "sendv", "process": process}


class CheckFaultWindow(unittest.TestCase):
    def failure(self, events):
        return check_fault_window(events, 3, "tx/lat")[1]

    def test_traffic_before_during_and_after_the_fault_passes(self):
        self.assertIsNone(self.failure([send(1), fault(2, "start"), send(3), fault(4, "stop"), send(5)]))

    def test_a_missing_fault_end_fails(self):
        self.assertIn("1 start and 0 stop", self.failure([send(1), fault(2, "start"), send(3)]))

    def test_an_end_before_the_start_fails(self):
        self.assertIn("before start", self.failure([send(1), fault(2, "stop"), send(3), fault(4, "start"), send(5)]))

    def test_no_traffic_during_the_fault_fails(self):
        failure = self.failure([send(1), fault(2, "start"), send(3, process=9), fault(4, "stop"), send(5)])
        self.assertIn("during", failure)


if __name__ == "__main__":
    unittest.main()
