"""What the source's data says, for decisions made before a run: which values records use.

The plan's checks ask it how many records use a selection value or a relation, and whether
the records a relation points to can be found on the target; each answer is one
``read_group`` on the source (and one look-up of external ids), asked once.
"""

import logging

from .transport import RemoteError

_logger = logging.getLogger(__name__)


class SourceProbe:
    def __init__(self, transport, target_xmlids=None, active_test=False):
        """``target_xmlids(target model, [(module, name)])``: those the target has."""
        self.transport = transport
        self.target_xmlids = target_xmlids or (lambda model, names: set())
        self.context = {"active_test": active_test}
        self._answers = {}

    def values_used(self, model, field, domain=None):
        """``{value: number of records}`` of ``model.field`` among the records of ``domain``;
        a relational value is a source id. None when the source cannot tell."""
        key = ("values", model, field, repr(domain))
        if key not in self._answers:
            self._answers[key] = self._values_used(model, field, domain)
        return self._answers[key]

    def _values_used(self, model, field, domain):
        try:
            groups = self.transport.call(
                model,
                "read_group",
                [(field, "!=", False)] + list(domain or []),
                [field],
                [field],
                lazy=False,
                context=self.context,
            )
        except RemoteError as exc:
            if exc.kind != "server":
                raise
            _logger.info("%s.%s: the source cannot group by it (%s)", model, field, exc)
            return None
        used = {}
        for group in groups:
            value = group.get(field)
            if isinstance(value, list | tuple):
                value = value[0]
            if value in (False, None):
                continue
            used[value] = used.get(value, 0) + group.get("__count", group.get(f"{field}_count", 0))
        return used

    def records_using(self, model, field, domain=None):
        """How many records of ``domain`` have a value in ``model.field``."""
        key = ("count", model, field, repr(domain))
        if key not in self._answers:
            self._answers[key] = self.transport.call(
                model,
                "search_count",
                [(field, "!=", False)] + list(domain or []),
                context=self.context,
            )
        return self._answers[key]

    def unresolved(self, model, field, relation, target_model, domain=None):
        """``(records, values)``: how many records of ``domain`` point through ``model.field``
        to source ``relation`` records that have no external id the target knows, and how
        many such records they point to. ``(0, 0)`` when every value resolves."""
        used = self.values_used(model, field, domain)
        if used is None:  # the source cannot group by it: count the records, ask no more
            return self.records_using(model, field, domain), None
        if not used:
            return 0, 0
        source_ids = sorted(used)
        rows = self.transport.call(
            "ir.model.data",
            "search_read",
            [("model", "=", relation), ("res_id", "in", source_ids)],
            ["module", "name", "res_id"],
        )
        by_name = {(row["module"], row["name"]): row["res_id"] for row in rows}
        found = self.target_xmlids(target_model, list(by_name))
        resolved = {by_name[name] for name in found}
        missing = [source_id for source_id in source_ids if source_id not in resolved]
        return sum(used[source_id] for source_id in missing), len(missing)
