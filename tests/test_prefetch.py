"""The read-ahead thread: order kept, failures handed over, memory bounded, stops early."""

import threading
import time
import unittest

from ..engine.prefetch import Prefetch


class TestPrefetch(unittest.TestCase):
    def test_batches_come_in_order_each_once(self):
        self.assertEqual(list(Prefetch(iter(range(100)))), list(range(100)))

    def test_reads_in_another_thread_while_the_consumer_works(self):
        threads = set()

        def batches():
            for i in range(3):
                threads.add(threading.current_thread().name)
                yield i

        self.assertEqual(list(Prefetch(batches())), [0, 1, 2])
        self.assertEqual(threads, {"rdm-reader"})

    def test_the_reader_stays_at_most_depth_batches_ahead(self):
        produced = []

        def batches():
            for i in range(50):
                produced.append(i)
                yield i

        consumed = 0
        for _batch in Prefetch(batches(), depth=2):
            consumed += 1
            time.sleep(0.01)  # the reader has time to run ahead, if it could
            # at most: the queue full, plus one read and waiting to be put
            self.assertLessEqual(len(produced), consumed + 3)
        self.assertEqual(consumed, 50)

    def test_a_reader_failure_is_raised_where_its_batch_was_due(self):
        def batches():
            yield 1
            raise ConnectionError("source gone")

        received = []
        with self.assertRaisesRegex(ConnectionError, "source gone"):
            for batch in Prefetch(batches()):
                received.append(batch)
        self.assertEqual(received, [1])

    def test_the_reader_stops_when_the_consumer_does(self):
        produced = []

        def batches():
            for i in range(1000):
                produced.append(i)
                yield i

        for batch in Prefetch(batches(), depth=2):
            if batch == 3:
                break
        time.sleep(0.5)
        self.assertLess(len(produced), 10)
        self.assertFalse([t for t in threading.enumerate() if t.name == "rdm-reader"])
