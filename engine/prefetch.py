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


def prefetched(batches, depth=2):
    """Iterate ``batches`` (an iterator) in a reader thread, at most ``depth`` batches ahead.

    An exception of the reader is raised here, where the batch would have come; when the
    consumer stops early, the reader stops at its next batch.
    """
    handed = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                handed.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def read():
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            put(_Failure(exc))

    reader = threading.Thread(target=read, name="rdm-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = handed.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:
        stop.set()
        reader.join(timeout=5)


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
