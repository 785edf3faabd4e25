"""From source ids to target ids: the id map, then external ids, then discriminators.

Every lookup works on a whole batch: one query on the id map, one call on the source's
``ir.model.data`` and one on the target's, one search per discriminated model; never a
query per record. Answers are kept for the run (reference data is asked for once).
"""

import logging

import psycopg2.errors

from .sql_arrays import pg_array

_logger = logging.getLogger(__name__)

ID_MAP_TABLE = "migration_id_map"


class IdMap:
    """``(source model, source id, target model) -> target id`` of one source, in SQL."""

    # what its queries filter and join on: the columns its statistics are kept for
    QUERIED_COLUMNS = (
        "source_id", "source_model", "source_res_id", "target_model", "target_res_id", "run_id"
    )  # fmt: skip

    def __init__(self, cr, source_key, run_key=None):
        self.cr = cr
        self.source_key = source_key
        self.run_key = run_key

    def lookup(self, source_model, source_ids, target_model=None):
        """``{(source id, target model): target id}`` for ``source_ids`` of ``source_model``."""
        if not source_ids:
            return {}
        query = (
            f"SELECT source_res_id, target_model, target_res_id FROM {ID_MAP_TABLE}"
            " WHERE source_id = %s AND source_model = %s AND source_res_id = ANY(%s::bigint[])"
        )
        params = [self.source_key, source_model, pg_array(source_ids)]
        if target_model:
            query += " AND target_model = %s"
            params.append(target_model)
        self.cr.execute(query, params)
        return {(source_id, model): target_id for source_id, model, target_id in self.cr.fetchall()}

    def written_unchanged(self, source_model, target_model, table, wanted):
        """The source ids of ``wanted`` ({source id: (target id, values digest)}) whose
        record the last run wrote with these very values, and nobody wrote since (its
        ``write_date`` is not after the entry's): one query, on the id map and ``table``."""
        if not wanted:
            return set()
        ids = list(wanted)
        self.cr.execute(
            "SELECT e.i FROM unnest(%s::bigint[], %s::int[], %s::varchar[]) AS e(i, ti, d)"
            f" JOIN {ID_MAP_TABLE} m ON m.source_id = %s AND m.source_model = %s"
            " AND m.source_res_id = e.i AND m.target_model = %s AND m.target_res_id = e.ti"
            " AND m.values_digest = e.d"
            f' JOIN "{table}" t ON t.id = e.ti AND t.write_date <= m.write_date',
            [
                pg_array(ids),
                pg_array(wanted[i][0] for i in ids),
                pg_array(wanted[i][1] for i in ids),
                self.source_key,
                source_model,
                target_model,
            ],
        )
        return {row[0] for row in self.cr.fetchall()}

    def store(self, entries):
        """Record ``(source model, source id, target model, target id[, values digest])``
        entries, in one query; an entry without a digest keeps the one stored.

        The entries name no user: a run writes them (``run_id``), and each user column is a
        foreign key PostgreSQL would check row by row (3 ms of 12 per 500 entries)."""
        self._insert(
            entries,
            " ON CONFLICT (source_id, source_model, source_res_id, target_model)"
            " DO UPDATE SET target_res_id = EXCLUDED.target_res_id, run_id = EXCLUDED.run_id,"
            " values_digest = COALESCE(EXCLUDED.values_digest, migration_id_map.values_digest),"
            " write_date = EXCLUDED.write_date",
        )

    def add(self, entries):
        """``store`` entries the id map had none of when the batch looked them up: a plain
        INSERT, without the upsert's check of each row (a third of the time). Should another
        transaction have added one since, they are stored as ``store`` does."""
        if not entries:
            return
        try:
            with self.cr.savepoint(flush=False):
                self._insert(entries)
        except psycopg2.errors.UniqueViolation:
            self.store(entries)

    def _insert(self, entries, on_conflict=""):
        if not entries:
            return
        entries = [(*entry, None) if len(entry) == 4 else entry for entry in entries]
        models, ids, targets, target_ids, digests = zip(*entries, strict=True)
        self.cr.execute(
            f"INSERT INTO {ID_MAP_TABLE} (source_id, source_model, source_res_id, target_model,"
            " target_res_id, values_digest, run_id, create_date, write_date)"
            " SELECT %s, m, i, t, ti, d, %s, now() at time zone 'UTC', now() at time zone 'UTC'"
            " FROM unnest(%s::varchar[], %s::bigint[], %s::varchar[], %s::int[], %s::varchar[])"
            " AS e(m, i, t, ti, d)" + on_conflict,
            [
                self.source_key,
                self.run_key,
                pg_array(models),
                pg_array(ids),
                pg_array(targets),
                pg_array(target_ids),
                pg_array(digests),
            ],
        )


class Resolver:
    """Resolves references of a batch to target ids, by the order of MAPPING.md."""

    def __init__(self, env, transport, id_map, discriminators, migrated_targets):
        self.env = env
        self.transport = transport
        self.id_map = id_map
        # source model -> (target model, [target field names]) for models matched by value
        self.discriminators = discriminators
        # source model -> target model, for the models the plan migrates
        self.migrated_targets = migrated_targets
        self.cache = {}  # (source model, source id, target model) -> target id or None
        # (source model, source id) -> its (module, name) on the source, None when it has none:
        # read ahead with the rows, so that the batch needs no call to the source for them
        self.source_xmlids = {}
        self._relations = {}  # source model -> {field: relation}, for discriminators

    def target_model_of(self, source_model, fallback=None):
        return self.migrated_targets.get(source_model) or fallback or source_model

    def resolve(self, wanted):
        """Fill the cache for ``wanted``, a set of (source model, source id, target model)."""
        missing = {key for key in wanted if key not in self.cache and key[1]}
        if not missing:
            return
        by_model = {}
        for source_model, source_id, target_model in missing:
            by_model.setdefault((source_model, target_model), set()).add(source_id)
        for (source_model, target_model), ids in by_model.items():
            found = self.id_map.lookup(source_model, ids, target_model)
            for source_id in ids:
                target_id = found.get((source_id, target_model))
                if target_id:
                    self.cache[(source_model, source_id, target_model)] = target_id
            left = {i for i in ids if (source_model, i, target_model) not in self.cache}
            if left:
                self._by_external_id(source_model, target_model, left)
            left = {i for i in left if (source_model, i, target_model) not in self.cache}
            if left and source_model in self.discriminators:
                self._by_discriminator(source_model, target_model, left)
            if source_model not in self.migrated_targets:
                # reference data: an unknown id stays unknown for the whole run
                for source_id in left:
                    self.cache.setdefault((source_model, source_id, target_model), None)

    def get(self, source_model, source_id, target_model):
        return self.cache.get((source_model, source_id, target_model))

    def forget_migrated(self):
        """Drop what is known of the migrated models (the id map has it): only reference
        data stays cached, so the cache does not grow with the number of records."""
        migrated = self.migrated_targets
        self.cache = {key: value for key, value in self.cache.items() if key[0] not in migrated}
        self.source_xmlids = {
            key: value for key, value in self.source_xmlids.items() if key[0] not in migrated
        }

    def know_source_xmlids(self, source_model, xmlids):
        """``xmlids`` ({source id: (module, name) or None}) as read by ``source_xmlids``."""
        for source_id, xmlid in xmlids.items():
            self.source_xmlids[(source_model, source_id)] = xmlid

    def remember(self, source_model, source_id, target_model, target_id):
        self.cache[(source_model, source_id, target_model)] = target_id

    def _by_external_id(self, source_model, target_model, ids):
        known = {i for i in ids if (source_model, i) in self.source_xmlids}
        by_xmlid = {
            self.source_xmlids[(source_model, i)]: i
            for i in known
            if self.source_xmlids[(source_model, i)]
        }
        if ids - known:
            by_xmlid.update(source_xmlids(self.transport, source_model, ids - known))
        if not by_xmlid:
            return
        self.env.cr.execute(
            "SELECT module, name, res_id FROM ir_model_data WHERE model = %s"
            " AND (module, name) IN (SELECT * FROM unnest(%s::varchar[], %s::varchar[]))",
            [target_model, [m for m, _n in by_xmlid], [n for _m, n in by_xmlid]],
        )
        for module, name, target_id in self.env.cr.fetchall():
            self.cache[(source_model, by_xmlid[(module, name)], target_model)] = target_id

    def _by_discriminator(self, source_model, target_model, ids):
        _target, names = self.discriminators[source_model]
        model = self.env[target_model].with_context(active_test=False)
        fields = model._fields
        rows = self.transport.call(source_model, "read", sorted(ids), names)
        # relational discriminator values (a state's country, a variant's attribute values)
        # are resolved first
        wanted = set()
        for row in rows:
            for name in names:
                if fields[name].type in ("many2one", "many2many"):
                    relation_model = self._source_relation(source_model, name)
                    for source_id in _ids(row.get(name)):
                        wanted.add((relation_model, source_id, fields[name].comodel_name))
        self.resolve(wanted)
        keys = {}
        for row in rows:
            key = [self._key_value(source_model, fields[name], row.get(name)) for name in names]
            if None not in key:  # a relational value not found: no match possible
                keys[tuple(key)] = row["id"]
        matches = match_by_values(model, names, list(keys))
        for key, target_id in matches.items():
            self.cache[(source_model, keys[key], target_model)] = target_id

    def _key_value(self, source_model, field, value):
        """A discriminator value of a source row as the target's: a many2one as its target id,
        a many2many as the sorted tuple of its target ids; None when one is not found."""
        if field.type not in ("many2one", "many2many"):
            return value or False
        relation = self._source_relation(source_model, field.name)
        targets = [self.get(relation, i, field.comodel_name) for i in _ids(value)]
        if not all(targets):
            return None
        if field.type == "many2one":
            return targets[0] if targets else False
        return tuple(sorted(targets))

    def _source_relation(self, source_model, field_name):
        if source_model not in self._relations:
            described = self.transport.fields_get(source_model, ["relation"])
            self._relations[source_model] = {
                name: desc.get("relation") for name, desc in described.items()
            }
        return self._relations[source_model][field_name]


def source_xmlids(transport, source_model, ids):
    """``{(module, name): source id}`` of the source records ``ids`` that have one."""
    rows = transport.call(
        "ir.model.data",
        "search_read",
        [("model", "=", source_model), ("res_id", "in", sorted(ids))],
        ["module", "name", "res_id"],
    )
    return {(row["module"], row["name"]): row["res_id"] for row in rows}


def match_by_values(model, names, keys):
    """``{values tuple: target id}`` of records of ``model`` whose ``names`` equal a key.

    One search for the whole list; many2one values compare as ids, many2many values as
    sorted tuples of ids (the empty tuple: no value), False as empty.
    """
    if not keys:
        return {}
    domain = []
    for position, name in enumerate(names):
        if model._fields[name].type == "many2many":
            continue  # compared below, as sets
        values = {key[position] for key in keys}
        term = [(name, "in", sorted(values - {False}, key=str))]
        if False in values:
            term = ["|", *term, (name, "=", False)]
        domain += term
    found = {}
    wanted = set(keys)
    for record in model.search_fetch(domain, names):
        key = tuple(_comparable(model._fields[name], record[name]) for name in names)
        if key in wanted and key not in found:
            found[key] = record.id
    return found


def _comparable(field, value):
    if field.type == "many2many":
        return tuple(sorted(value.ids))
    if field.type == "many2one":
        return value.id or False
    return value


def _ids(value):
    """Source ids in a raw value: False, [id, name] (many2one) or [ids] (many2many)."""
    if not value:
        return []
    if isinstance(value, list | tuple) and len(value) == 2 and isinstance(value[1], str):
        return [value[0]]
    return [i for i in value if isinstance(i, int)]
