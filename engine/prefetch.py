"""Read ahead: the next batch comes over the network while the current one is written.

A reader thread runs the batch iterator and hands batches over a bounded queue, so at most
``depth`` batches wait in memory whatever the size of the model. The thread never touches
the database; it only talks to the source, through its own client.
"""

import concurrent.futures
import queue
import threading

_DONE = object()


class _Failure:
    __slots__ = ("exc",)

    def __init__(self, exc):
        self.exc = exc


class Prefetch:
    """``batches`` (an iterator) read in a thread started now, at most ``depth`` batches
    ahead. Iterate it once (the end of the iteration closes it), or ``close`` it: a reading
    nobody takes waits, its thread with it, until then.

    An exception of the reader is raised where the batch would have come; when the
    consumer stops early, the reader stops at its next batch. ``beside``: futures of calls
    made beside the reading, waited for when it is closed.
    """

    def __init__(self, batches, depth=2, beside=()):
        self._beside = list(beside)
        self._handed = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._reader = threading.Thread(
            target=self._read, args=(batches,), name="rdm-reader", daemon=True
        )
        self._reader.start()

    def _put(self, item):
        while not self._stop.is_set():
            try:
                self._handed.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _read(self, batches):
        try:
            for batch in batches:
                if not self._put(batch):
                    return
            self._put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            self._put(_Failure(exc))

    def __iter__(self):
        try:
            while True:
                item = self._handed.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                yield item
        finally:
            self.close()

    @property
    def alive(self):
        return self._reader.is_alive() or not all(f.done() for f in self._beside)

    def close(self):
        self._stop.set()
        self._reader.join(timeout=5)
        concurrent.futures.wait(self._beside, timeout=5)


def in_thread(function, *args):
    """``function(*args)`` called in a thread of its own, now; its ``Future``."""
    future = concurrent.futures.Future()

    def call():
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # noqa: BLE001 - kept for whoever asks for the result
            future.set_exception(exc)

    threading.Thread(target=call, name="rdm-call", daemon=True).start()
    return future
