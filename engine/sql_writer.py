"""The ``sql`` mode of a model rule: plain tables written with COPY, past the ORM's create.

For models whose ``create`` does nothing more than store the values (no override, no
``_inherits``, no stored field computed from other records): ids are taken from the table's
sequence in one query (so the sequence is past them), the rows go in with one ``COPY``,
many2many links with one ``INSERT`` per relation, and then the ORM does what it would have
done after its own insert: parent paths, stored computed fields, Python constraints.
``sql_mode_refusal`` says why a model is not such a model; the validation refuses the plan.
"""

import io
import json
import logging
from json.encoder import encode_basestring

from psycopg2.extras import Json

from odoo import fields
from odoo.fields import Command, Datetime
from odoo.tools import SQL

from .sql_arrays import pg_array
from .writer import CONCURRENCY_ERRORS, error_message

_logger = logging.getLogger(__name__)

LOG_COLUMNS = ("create_uid", "create_date", "write_uid", "write_date")


def sql_mode_refusal(model):
    """Why ``model`` (a recordset) cannot be written in ``sql`` mode, or None."""
    if model._abstract or not model._auto:
        return "it has no table of its own"
    if model._inherits:
        return f"it stores part of its records in {', '.join(model._inherits)} (_inherits)"
    overriding = sorted(
        {
            cls.__module__.split(".")[2]
            for cls in type(model).__mro__
            if "create" in vars(cls) and cls.__module__.startswith("odoo.addons.")
        }
    )
    if overriding:
        return f"its create() is overridden by {', '.join(overriding)}"
    for field in model._fields.values():
        if field.store and field.compute:
            remote = [d for d in model.pool.field_depends[field] if "." in d]
            if remote:
                return f"its stored field {field.name} is computed from other records ({', '.join(remote)})"
        if field.store and field.type == "binary" and field.attachment:
            return f"its binary field {field.name} is kept in attachments"
    return None


class SqlWriter:
    def __init__(self, env):
        self.env = env
        self.sequences = {}  # table -> the sequence of its ids, asked for once

    def create_batch(self, model_name, items):
        """Insert ``items`` (key, vals) with COPY; ``({key: new id}, {})``.

        Raises what the database or a constraint refuses: the caller falls back to the ORM.
        """
        if not items:
            return {}, {}
        model = self.env[model_name].with_context(active_test=False)
        self.env.flush_all()
        names = sorted({name for _key, vals in items for name in vals})
        defaults = model.default_get(
            [
                name
                for name, field in model._fields.items()
                if field.store and name not in names and name not in LOG_COLUMNS and name != "id"
            ]
        )
        columns = [n for n in [*names, *defaults] if model._fields[n].column_type]
        links = [n for n in names if model._fields[n].type == "many2many"]
        ids = self._new_ids(model, len(items))
        paths = self._parent_paths(model, ids, [vals for _key, vals in items])
        path_column = ["parent_path"] if paths is not None else []
        uid, now = str(self.env.uid), Datetime.now().isoformat()
        cell_of = [(name, _column_cell(model, name)) for name in columns]
        lines = io.StringIO()
        for target_id, (_key, vals), path in zip(ids, items, paths or ids, strict=True):
            values = defaults | vals
            cells = [str(target_id)]
            cells += [cell(values.get(name), values) for name, cell in cell_of]
            if paths is not None:
                cells.append(_copy_text(path))
            cells += [uid, now, uid, now]
            lines.write("\t".join(cells) + "\n")
        lines.seek(0)
        copy = SQL(
            "COPY %s (%s) FROM STDIN",
            SQL.identifier(model._table),
            SQL(", ").join(
                SQL.identifier(name) for name in ["id", *columns, *path_column, *LOG_COLUMNS]
            ),
        )
        self.env.cr.copy_expert(copy.code, lines)
        for name in links:
            self._link(model, name, ids, [vals.get(name) for _key, vals in items])
        records = model.browse(ids)
        self._after_insert(records, names, paths_written=paths is not None)
        return {key: target_id for (key, _vals), target_id in zip(items, ids, strict=True)}, {}

    def _link(self, model, name, ids, commands_of):
        field = model._fields[name]
        pairs = [
            (record_id, other_id)
            for record_id, commands in zip(ids, commands_of, strict=True)
            for other_id in _linked_ids(commands)
        ]
        if pairs:
            self.env.cr.execute(
                SQL(
                    "INSERT INTO %s (%s, %s) SELECT * FROM unnest(%s::int[], %s::int[])"
                    " ON CONFLICT DO NOTHING",
                    SQL.identifier(field.relation),
                    SQL.identifier(field.column1),
                    SQL.identifier(field.column2),
                    pg_array(p[0] for p in pairs),
                    pg_array(p[1] for p in pairs),
                )
            )

    def _new_ids(self, model, count):
        """``count`` ids from the table's sequence, which moves past them."""
        if model._table not in self.sequences:
            self.env.cr.execute(SQL("SELECT pg_get_serial_sequence(%s, 'id')", model._table))
            self.sequences[model._table] = self.env.cr.fetchone()[0]
        self.env.cr.execute(
            SQL(
                "SELECT nextval(%s) FROM generate_series(1, %s)",
                self.sequences[model._table],
                count,
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _parent_paths(self, model, ids, values):
        """The ``parent_path`` of each new row, written by the COPY itself rather than by an
        UPDATE of the new rows afterwards (what ``_parent_store_create`` does); None when the model
        keeps no parent paths, or when a row's parent comes later in the same batch."""
        if not model._parent_store or "parent_path" in values[0]:
            return None
        parent_of = [vals.get(model._parent_name) or None for vals in values]
        known = {}
        existing = {parent for parent in parent_of if parent} - set(ids)
        if existing:
            self.env.cr.execute(
                SQL(
                    "SELECT id, parent_path FROM %s WHERE id = ANY(%s::int[])",
                    SQL.identifier(model._table),
                    pg_array(existing),
                )
            )
            known.update(self.env.cr.fetchall())
        paths = []
        for target_id, parent in zip(ids, parent_of, strict=True):
            if parent and not known.get(parent):
                return None  # a parent of this batch written after its child, or unknown
            known[target_id] = f"{known[parent] if parent else ''}{target_id}/"
            paths.append(known[target_id])
        return paths

    def _after_insert(self, records, names, paths_written=False):
        """What the ORM's create does after its INSERT, for the rows we inserted."""
        records.invalidate_model()
        if records._parent_store and not paths_written:
            records._parent_store_create()
        for field in records._fields.values():
            if field.store and field.compute and field.name not in names:
                self.env.add_to_compute(field, records)
        records.modified(names, create=True)
        self.env.flush_all()
        records._validate_fields(names)


def create_with_fallback(sql_writer, orm_writer, model_name, items):
    """``sql_writer.create_batch``; when the batch is refused, the ORM's, which finds the
    records responsible. ``(created, refused, why COPY was refused or None)``."""
    try:
        with sql_writer.env.cr.savepoint():
            return (*sql_writer.create_batch(model_name, items), None)
    except CONCURRENCY_ERRORS:  # the runner retries the whole batch
        raise
    except Exception as exc:  # noqa: BLE001 - refused by the database or a constraint
        _logger.warning("COPY of %s %s refused (%s): through the ORM", len(items), model_name, exc)
        sql_writer.env.invalidate_all()
        return (*orm_writer.create_batch(model_name, items), error_message(exc))


def _linked_ids(commands):
    ids = []
    for command in commands or ():
        if command[0] == Command.SET:
            ids = list(command[2])
        elif command[0] == Command.LINK:
            ids.append(command[1])
    return ids


def _column_cell(model, name):
    """``cell(value, values)``: the COPY text of column ``name`` for a row of ``values``, as
    the ORM's ``convert_to_column_insert`` would store it; chosen once per batch."""
    field = model._fields[name]
    if field.translate and isinstance(field, fields._String) and not field.company_dependent:
        # what ``_String.convert_to_column_insert`` stores, without a Json box to dump per cell
        convert, langs = (
            field.convert_to_column,
            dict.fromkeys(["en_US", model.env.lang or "en_US"]),
        )

        def translated(value, values):
            value = convert(value, model, values, validate=False)
            if value is None:
                return NULL
            if not isinstance(value, str):
                return _copy_text(Json(dict.fromkeys(langs, value)))
            text = encode_basestring(value)
            return _escaped("{" + ", ".join(f'"{lang}": {text}' for lang in langs) + "}")

        return translated
    convert = field.convert_to_column_insert
    return lambda value, values: _copy_text(convert(value, model, values, validate=False))


NULL = r"\N"


def _copy_text(value):
    """One value in COPY's text format."""
    if value is None:
        return NULL
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is bool:
        return "t" if value else "f"
    if isinstance(value, Json):
        value = json.dumps(value.adapted)
    elif isinstance(value, SQL):
        raise ValueError("a value computed in SQL cannot be copied")
    elif not isinstance(value, str):
        value = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return _escaped(value)


def _escaped(text):
    """``text`` with the characters COPY's text format gives a meaning escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
