"""What a run did since it last saved: counters, checkpoints, log lines, seconds.

The run record persists a journal at each checkpoint, as SQL increments to the range the
counters were made in (each job has its own), and empties it. Per model the counters keep

    read = created + updated + unchanged + skipped + failed

and the rows the source could not send are counted apart, as ``unreadable``. A record has
one outcome per run: when the second pass refuses a record the first pass created, it
moves from ``created`` to ``failed``.
"""

import contextlib
import copy
import logging
import time
from collections import Counter

_logger = logging.getLogger(__name__)

OUTCOMES = ("created", "updated", "unchanged", "skipped", "failed")
COUNTERS = ("read", *OUTCOMES, "unreadable")
# Where a model's time goes: waiting for the source's pages, resolving references,
# transforming rows, writing (the ORM, its flushes), the id map and pending store, the
# second pass, the checkpoints (journal saved, commit).
PHASES = ("read", "resolve", "transform", "write", "id_map", "second_pass", "checkpoint")


class Journal:
    def __init__(self, retrying=None):
        self.counters = {}  # source model -> Counter of COUNTERS (increments, may be negative)
        self.checkpoints = {}  # (source model, range start) -> (last source id written, done)
        # source model -> the start of the range its counters go to (0, the model's first
        # range, for a second pass or a retry); kept across saves
        self.ranges = {}
        self.states = {}  # source model -> state of its line (running, second_pass, done)
        self.source_clock = {}  # source model -> the source's time when its pass started
        self.hooks = []  # hooks run since the last save
        self.seconds = Counter()
        self.phases = {}  # source model -> Counter of PHASES: seconds
        self.logs = []
        # A retry: {source model: {source id: the counter it failed in}}. A record read
        # again leaves that counter, and its log lines are marked retried on save.
        self.retrying = retrying or {}
        self.retried = {}  # source model -> {source ids} left since the last save
        self.failures = 0  # records failed or unreadable, for on_error: stop
        self.first_failure = None

    @contextlib.contextmanager
    def timing(self, model, phase):
        """Add the time the block takes to ``phase`` of ``model``."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.phases.setdefault(model, Counter())[phase] += time.perf_counter() - start

    def count(self, model, name, amount=1):
        if amount:
            self.counters_of(model)[name] += amount

    def counters_of(self, model):
        """The Counter of ``model``'s outcomes, made once (not a new one per record)."""
        counters = self.counters.get(model)
        if counters is None:
            counters = self.counters[model] = Counter()
        return counters

    def read_rows(self, model, source_ids):
        """The rows ``source_ids`` were read; each gets an outcome later."""
        source_ids = list(source_ids)
        self.count(model, "read", len(source_ids))
        self._leave_earlier_failures(model, source_ids)

    def unreadable(self, model, source_id, message):
        self._leave_earlier_failures(model, [source_id])
        self.count(model, "unreadable")
        self._failure(
            model,
            source_id,
            f"the source cannot read this record: {message}",
            statement="read",
        )

    def fail(self, model, source_id, message, was=None, **details):
        """The record ``source_id`` failed; ``was``: what the first pass counted it as, when
        the second pass fails it; ``details``: statement, target_model, values."""
        if was:
            self.count(model, was, -1)
        self.count(model, "failed")
        self._failure(model, source_id, message, **details)

    def move(self, model, outcome, new_outcome):
        """A record the first pass counted as ``outcome`` ends as ``new_outcome``."""
        if outcome != new_outcome:
            self.count(model, outcome, -1)
            self.count(model, new_outcome)

    def log(self, level, message, model=None, source_id=None, **details):
        """A line of the run's log; ``details``: statement, target_model, values."""
        log = _logger.warning if level == "error" else _logger.info
        log("%s %s: %s", model or "run", source_id or "", message)
        self.logs.append(
            {
                "level": level,
                "message": message,
                "source_model": model,
                "source_res_id": source_id,
                "target_model": details.get("target_model"),
                "statement": details.get("statement"),
                "values": details.get("values"),
            }
        )

    def _failure(self, model, source_id, message, **details):
        self.failures += 1
        if self.first_failure is None:
            self.first_failure = f"{model} {source_id}: {message}"
        self.log("error", message, model=model, source_id=source_id, **details)

    def _leave_earlier_failures(self, model, source_ids):
        earlier = self.retrying.get(model)
        if not earlier:
            return
        for source_id in source_ids:
            counter = earlier.pop(source_id, None)
            if counter:
                self.count(model, counter, -1)
                if counter == "failed":  # it was read then; it is read again now
                    self.count(model, "read", -1)
                self.retried.setdefault(model, set()).add(source_id)

    # -- transactions ---------------------------------------------------------------------------

    def mark(self):
        """A point to come back to if the batch under way is rolled back."""
        return copy.deepcopy(
            (
                self.counters,
                len(self.logs),
                self.retrying,
                self.retried,
                self.failures,
                self.first_failure,
            )
        )

    def restore(self, mark):
        counters, length, retrying, retried, failures, first_failure = mark
        self.counters, self.retrying, self.retried = counters, retrying, retried
        self.failures, self.first_failure = failures, first_failure
        del self.logs[length:]

    def clear(self):
        """Everything saved: start again from nothing (a retry's remaining records stay)."""
        self.counters = {}
        self.checkpoints = {}
        self.states = {}
        self.source_clock = {}
        self.hooks = []
        self.seconds = Counter()
        self.phases = {}
        self.logs = []
        self.retried = {}
