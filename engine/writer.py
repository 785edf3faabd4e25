"""Batched writes through the ORM, quiet, each batch in a savepoint.

A batch is created with one ``create(vals_list)``. When the target refuses it, the batch is
retried record by record, each in its own savepoint, so that only the refused records fail;
each failure comes back with the target's message. Updates write only what changed.
"""

import contextlib
import logging

import psycopg2

from odoo.exceptions import UserError
from odoo.service.model import PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

# PostgreSQL refusing a write for a concurrent transaction (serialization failure, deadlock,
# lock not available): not the record's fault, so never a record's failure.
CONCURRENCY_ERRORS = PG_CONCURRENCY_EXCEPTIONS_TO_RETRY

_logger = logging.getLogger(__name__)

# Writing history, not doing business: no chatter, no followers, no mails, no tracking.
QUIET_CONTEXT = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "mail_auto_subscribe_no_notify": True,
    "no_reset_password": True,
    "skip_sms": True,
    "sale_no_log_for_new_lines": True,  # no "Extra line with..." note on a confirmed order
}
# A company made by a run must not install its country's localisation on the spot: Odoo
# installs modules "immediately" then, which commits and reloads the registry mid-batch.
MODEL_CONTEXT = {
    "res.company": {"chart_template_load": True},
    # Journal entries are written as they were: their items one batch at a time into the
    # draft entry, then the entry posted by its finish body. Odoo must neither check the
    # balance of a half-written entry nor rebuild its taxes and payment terms.
    "account.move": {"check_move_validity": False, "skip_invoice_sync": True},
    "account.move.line": {"check_move_validity": False, "skip_invoice_sync": True},
}


def error_message(exc):
    """What the target said, in one readable sentence."""
    if isinstance(exc, psycopg2.Error):
        diag = exc.diag
        message = diag.message_primary or str(exc).splitlines()[0]
        if diag.constraint_name:
            message = f"{message} (constraint {diag.constraint_name})"
        return message
    if isinstance(exc, UserError):
        return exc.args[0] if exc.args else str(exc)
    return f"{type(exc).__name__}: {exc}"


# The target's own users and their partners: matched by a plan, never overwritten by one
# unless it says so (option system_records: update).
SYSTEM_XMLIDS = (
    "base.user_root",
    "base.user_admin",
    "base.public_user",
    "base.partner_root",
    "base.partner_admin",
    "base.public_partner",
)


def system_records(cr):
    """``{(model, id): external id}`` of the target's system records."""
    names = [xmlid.split(".", 1)[1] for xmlid in SYSTEM_XMLIDS]
    cr.execute(
        "SELECT model, res_id, name FROM ir_model_data WHERE module = 'base' AND name = ANY(%s)",
        [names],
    )
    return {(model, res_id): f"base.{name}" for model, res_id, name in cr.fetchall()}


class Writer:
    def __init__(self, env, duplicates="update"):
        self.env = env
        self.duplicates = duplicates

    @contextlib.contextmanager
    def _savepoint(self):
        """A savepoint whose writes are flushed here, quietly: Odoo recomputes what they
        changed when it flushes, and tracks tracked computed fields then (an order's total),
        with the context of whoever flushes; a savepoint left unflushed is flushed on exit
        by the transaction, with any context."""
        with self.env.cr.savepoint():
            yield
            self.env.flush_all()

    def model(self, name):
        """The model as a finish body gets it: quiet, and as the target's users see it."""
        return self.env[name].with_context(**QUIET_CONTEXT, **MODEL_CONTEXT.get(name, {}))

    def _writing(self, name):
        """The model a batch is written with. Archived records stay in sight: a record's
        links to them are data to copy and compare like any other. (Odoo would otherwise
        filter every new record's many2many values through their ``active`` flag: a query
        per linked record, per batch.)"""
        return self.model(name).with_context(active_test=False)

    def create_batch(self, model_name, items):
        """Create ``items`` (key, vals); ``({key: new id}, {key: error message})``."""
        if not items:
            return {}, {}
        model = self._writing(model_name)
        try:
            with self._savepoint():
                records = model.create([vals for _key, vals in items])
            return {key: record.id for (key, _vals), record in zip(items, records, strict=True)}, {}
        except CONCURRENCY_ERRORS:  # the runner retries the whole batch
            raise
        except Exception as exc:  # noqa: BLE001 - any refusal: find the records responsible
            _logger.debug(
                "batch of %s %s refused (%s): record by record", len(items), model_name, exc
            )
        created, failed = {}, {}
        for key, vals in items:
            try:
                with self._savepoint():
                    created[key] = model.create(vals).id
            except CONCURRENCY_ERRORS:  # the runner retries the whole batch
                raise
            except Exception as exc:  # noqa: BLE001
                failed[key] = error_message(exc)
        return created, failed

    def duplicates_policy(self, duplicates=None):
        """A rule's own duplicates policy, else the plan's."""
        return duplicates or self.duplicates

    def update_batch(self, model_name, items, duplicates=None):
        """Write ``items`` (key, target id, vals) per the duplicates policy.

        ``(updated keys, unchanged keys, kept keys, {key: error message})``: unchanged, the
        records that already hold the values; kept, those the policy ``skip`` leaves alone.
        """
        if not items:
            return [], [], [], {}
        duplicates = self.duplicates_policy(duplicates)
        if duplicates == "skip":
            return [], [], [key for key, _id, _vals in items], {}
        model = self._writing(model_name)
        records = model.browse([target_id for _key, target_id, _vals in items]).exists()
        # records taken from one recordset read their fields for the whole batch at once
        by_id = {record.id: record for record in records}
        changes = []
        unchanged = []
        failed = {}
        for key, target_id, vals in items:
            record = by_id.get(target_id)
            if record is None:
                failed[key] = f"{model_name} {target_id} of the id map no longer exists"
                continue
            diff = {
                name: value
                for name, value in vals.items()
                if not _same(record, name, value)
                and (duplicates != "update_empty" or _empty(record[name]))
            }
            if diff:
                changes.append((key, record, diff))
            else:
                unchanged.append(key)
        updated = []
        try:
            with self._savepoint():
                for _key, record, diff in changes:
                    record.write(diff)
            updated = [key for key, _record, _diff in changes]
        except CONCURRENCY_ERRORS:  # the runner retries the whole batch
            raise
        except Exception:  # noqa: BLE001
            for key, record, diff in changes:
                try:
                    with self._savepoint():
                        record.write(diff)
                    updated.append(key)
                except CONCURRENCY_ERRORS:  # the runner retries the whole batch
                    raise
                except Exception as exc:  # noqa: BLE001
                    failed[key] = error_message(exc)
        return updated, unchanged, [], failed

    def stamped_table(self, model_name):
        """The table of ``model_name`` when its rows carry the time of their last write
        (``write_date``), else None: a re-run can then tell who wrote a record since."""
        model = self.env[model_name]
        return model._table if model._log_access and "write_date" in model._fields else None

    def write_grouped(self, model_name, writes):
        """Write ``writes`` ({target id: vals}), one ``write`` per distinct vals.

        ``(ids written, {target id: error message})``: the records whose values changed,
        and those refused.
        """
        model = self._writing(model_name)
        groups = {}
        for record in model.browse(list(writes)):  # one recordset: its fields read at once
            diff = {
                name: value
                for name, value in writes[record.id].items()
                if not _same(record, name, value)
            }
            if diff:
                _diff, ids = groups.setdefault(repr(sorted(diff.items())), (diff, []))
                ids.append(record.id)
        written, failed = [], {}
        for diff, ids in groups.values():
            try:
                with self._savepoint():
                    model.browse(ids).write(diff)
                written += ids
            except CONCURRENCY_ERRORS:  # the runner retries the whole batch
                raise
            except Exception:  # noqa: BLE001
                for target_id in ids:
                    try:
                        with self._savepoint():
                            model.browse(target_id).write(diff)
                        written.append(target_id)
                    except CONCURRENCY_ERRORS:  # the runner retries the whole batch
                        raise
                    except Exception as exc:  # noqa: BLE001
                        failed[target_id] = error_message(exc)
        return written, failed


def _empty(value):
    return not value and value != 0 or (hasattr(value, "_name") and not value)


def _same(record, name, value):
    """Whether writing ``value`` into ``record.name`` would change nothing."""
    field = record._fields[name]
    current = record[name]
    if field.type == "many2one":
        return current.id == (value or False)
    if field.type in ("many2many", "one2many"):
        if isinstance(value, list) and len(value) == 1 and value[0][0] == 6:
            wanted = set(value[0][2])
            if field.comodel_name == "res.groups" and record._name == "res.users":
                # a user also gets the groups its groups imply: the target adds them itself
                wanted |= set(current.browse(wanted).trans_implied_ids.ids)
            return set(current.ids) == wanted
        return False
    if field.type in ("float", "monetary"):
        return abs((current or 0.0) - (value or 0.0)) < 1e-9
    if field.type == "binary":
        if isinstance(value, str):
            value = value.encode()
        if (current or False) == (value or False):
            return True
        if not (current and value) or not hasattr(field, "_image_process"):
            return False
        # an image is stored as the target processed it (resized, re-encoded): compare that
        try:
            processed = field._image_process(value, record.env)
        except Exception:  # noqa: BLE001 - not an image the target takes: it differs
            return False
        if isinstance(processed, str):
            processed = processed.encode()
        return current == processed
    if field.type in ("char", "text", "html", "selection"):
        return (current or False) == (value or False)
    return current == value
