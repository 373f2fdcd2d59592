# SPDX-License-Identifier: Apache-2.0
"""The harness's checks fail on planted violations (a checker that cannot fail is not one)."""

import unittest

from harness import check_delivery


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


if __name__ == "__main__":
    unittest.main()
