"""make test-upgrade: databases made by the released versions upgraded to this tree.

For each release (18.0.1.0.0 to 18.0.4.0.0, and the previous version 18.0.4.1.0):

1. the released commit is checked out in a git worktree and installed in a new database;
2. through its API: a source with its secret, the plan of every statement, the contacts
   plan run against the live source server (a finished run with logs and id map entries);
3. ``-u remote_data_migration`` with this tree's addons path;
4. every record of the addon's models and every value survived, the secret too (now in
   its own model, its old column gone), plans and runs have their company, the User
   group is gone and its users read no plan, each model line has its id range and is the
   sum of its ranges, the clean run's lines have their incremental start point, the id
   map has no foreign key on its run and source, nor an index on the source, and a new
   run of the old plan updates
   what the old version migrated and creates nothing, its counts adding up;
5. a second ``-u`` changes nothing and logs no warning.

Exits 1 with the differences when anything does not hold.
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_odoo  # noqa: E402

from odoo.addons.remote_data_migration.tests.source_server import get_source_server  # noqa: E402

# see the README's changelog
RELEASES = {
    "18.0.1.0.0": "4413633089dc267c4b920eb1d814dad952a80f25",
    "18.0.2.0.0": "c28f7d6eb27985ca5afa5f28bea947321a1186ea",
    "18.0.3.0.0": "793ff8f184c74888482a05543b55ae8c2b559bd9",
    "18.0.4.0.0": "c0cdfd9a50969d203f4cdca5dd4ce3de002d9f9e",
    "18.0.4.1.0": "aa0f6c7e85cb2cdc40af0426c363d4ec54cac8d0",
}
MODELS = [
    "migration.source",
    "migration.plan",
    "migration.plan.finding",
    "migration.model.rule",
    "migration.field.rule",
    "migration.run",
    "migration.run.model",
    "migration.run.log",
    "migration.id.map",
]
WARNING_LINE = re.compile(r"^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) ")

# What the addon holds, as plain JSON: every stored field of every record of its models.
SNAPSHOT = """
import json
def take_snapshot():
    snapshot = dict()
    for model_name in %r:
        model = env[model_name].sudo().with_context(active_test=False)
        names = sorted(n for n, f in model._fields.items() if f.store and f.type != "one2many")
        records = model.search([], order="id")
        # many2one as ids: what the data holds, not how a version names the record
        rows = records.read(names, load=None)
        snapshot[model_name] = json.loads(json.dumps(rows, default=str))
    return snapshot
""" % (MODELS,)

MAKE_DATA = (
    """
source = env["migration.source"].create({{
    "name": "Released source", "url": {url!r}, "database": {database!r},
    "login": "admin", "secret": "admin", "transport": "jsonrpc",
}})
# the User group of releases before 18.0.3.0.0, which the upgrade removes
old_user_group = env.ref("remote_data_migration.group_user", raise_if_not_found=False)
env["res.users"].create({{
    "name": "Old viewer", "login": "rdm_old_viewer",
    "groups_id": [(6, 0, [env.ref("base.group_user").id] + ([old_user_group.id] if old_user_group else []))],
}})
env["migration.plan"].import_yaml({every_statement!r})
plan = env["migration.plan"].import_yaml({contacts!r}, source=source)
run = plan.run()
errors = run.log_ids.filtered(lambda l: l.level == "error")[:3].mapped("message")
assert run.state == "done", (run.state, run.error, errors)
mapped = env["migration.id.map"].search_count([("run_id", "=", run.id)])
assert run.log_ids and mapped, ("no log line or id map entry", len(run.log_ids), mapped)
env.cr.commit()
"""
    + SNAPSHOT
    + """
extra = {{"snapshot": take_snapshot(), "plan_id": plan.id}}
"""
)

CHECK = (
    SNAPSHOT
    + """
snapshot = take_snapshot()
source = env["migration.source"].search([("name", "=", "Released source")])
env.cr.execute(
    "SELECT column_name FROM information_schema.columns WHERE table_name = 'migration_source'"
)
columns = {{row[0] for row in env.cr.fetchall()}}
gone_columns = {{}}
for table in ("migration_run", "migration_run_model"):
    env.cr.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", [table])
    gone_columns[table] = [row[0] for row in env.cr.fetchall()]
env.cr.execute("SELECT conname FROM pg_constraint WHERE conrelid = 'migration_id_map'::regclass"
               " AND contype = 'f'")
id_map_foreign_keys = sorted(row[0] for row in env.cr.fetchall())
env.cr.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'migration_id_map'")
id_map_indexes = sorted(row[0] for row in env.cr.fetchall())
partners = env["res.partner"].with_context(active_test=False).search_count([])
id_map = env["migration.id.map"].search_count([])
run = env["migration.run"].browse()
drifted = env["res.partner"]
if {run_again}:
    source.url = {url!r}
    # a record changed on the target since: the new run puts the source's value back
    env.cr.execute("SELECT target_res_id FROM migration_id_map WHERE source_model = 'res.partner'"
                   " AND target_model = 'res.partner' ORDER BY id LIMIT 1")
    drifted = env["res.partner"].browse(env.cr.fetchone()[0])
    name = drifted.name
    drifted.name = "Changed on the target"
    env.cr.commit()
    run = env["migration.plan"].browse({plan_id}).run()
    env.cr.commit()
env.cr.execute("SELECT count(*) FROM migration_plan WHERE company_id IS NULL")
plans_without_company = env.cr.fetchone()[0]
env.cr.execute("SELECT count(*) FROM migration_run WHERE company_id IS NULL")
runs_without_company = env.cr.fetchone()[0]
old_viewer = env["res.users"].search([("login", "=", "rdm_old_viewer")])
old_run = env["migration.run"].search([("id", "!=", run.id)], order="id", limit=1)
extra = {{
    "old_run": {{
        "balanced": old_run.balanced,
        "hooks_done": old_run.hooks_done,
        "ranges": sorted((r.source_model, r.state) for r in old_run.range_ids),
        # what each line counted, and what its ranges hold: the sums runs make now
        "sums": sorted(
            (l.source_model, l.read_count, l.created_count, l.failed_count,
             sum(l.range_ids.mapped("read_count")), sum(l.range_ids.mapped("created_count")),
             sum(l.range_ids.mapped("failed_count")))
            for l in old_run.model_ids
        ),
        "lines": sorted((l.source_model, l.state, bool(l.next_since)) for l in old_run.model_ids),
    }},
    "new_run_balanced": run.balanced if run else None,
    "snapshot": snapshot,
    "old_viewer_reads_plans": env["migration.plan"].with_user(old_viewer).has_access("read"),
    "without_company": [plans_without_company, runs_without_company],
    "user_group": bool(env.ref("remote_data_migration.group_user", raise_if_not_found=False)),
    "secret": source.sudo().secret,
    "credentials": env["migration.credential"].sudo().search_count([]),
    "columns": sorted(columns),
    "gone_columns": gone_columns,
    "id_map_foreign_keys": id_map_foreign_keys,
    "id_map_indexes": id_map_indexes,
    "partners_before": partners,
    "partners_after": env["res.partner"].with_context(active_test=False).search_count([]),
    "id_map_before": id_map,
    "id_map_after": env["migration.id.map"].search_count([]),
    "run": run.summary() if run else None,
    "run_state": run.state if run else None,
    "drift_restored": bool(drifted) and drifted.name == name,
    "snapshot_end": take_snapshot(),
}}
if not run:
    run = env["migration.run"].search([], limit=1)
"""
)


def addons_path(addon_dir):
    odoo_src = Path(local_odoo.ODOO_BIN[1]).parent
    return f"{odoo_src / 'odoo' / 'addons'},{odoo_src / 'addons'},{addon_dir}"


def upgrade(database, path, log_file):
    subprocess.run(
        local_odoo.odoo_command(
            "-d", database, "-u", "remote_data_migration", "--stop-after-init",
            "--log-level=info", f"--logfile={log_file}", addons_path=path,
        ),
        check=True,
    )  # fmt: skip
    return [line for line in Path(log_file).read_text().splitlines() if WARNING_LINE.match(line)]


def differences(before, after):
    """What changed between two snapshots, on the fields both versions store."""
    found = []
    for model_name in MODELS:
        old, new = before[model_name], after[model_name]
        if [r["id"] for r in old] != [r["id"] for r in new]:
            found.append(f"{model_name}: records {len(old)} -> {len(new)}")
            continue
        for old_record, new_record in zip(old, new, strict=True):
            for name, value in old_record.items():
                if name in new_record and new_record[name] != value:
                    found.append(
                        f"{model_name} {old_record['id']}.{name}: {value!r} -> {new_record[name]!r}"
                    )
    return found


def check_upgraded(after):
    """What does not hold in ``after``, the state of an upgraded database."""
    failures = []
    if after["secret"] != "admin":
        failures.append(f"the source's secret did not survive: {after['secret']!r}")
    if after["credentials"] != 1:
        failures.append(f"{after['credentials']} credentials for 1 source with a secret")
    for column in ("secret", "rdm_legacy_secret"):
        if column in after["columns"]:
            failures.append(f"migration_source.{column} is still there")
    for table, column in (("migration_run", "since"), ("migration_run_model", "checkpoint")):
        if column in after["gone_columns"][table]:
            failures.append(f"{table}.{column} is still there")
    for name in ("migration_id_map_run_id_fkey", "migration_id_map_source_id_fkey"):
        if name in after["id_map_foreign_keys"]:
            failures.append(f"the id map still has the foreign key {name}")
    if "migration_id_map__source_id_index" in after["id_map_indexes"]:
        failures.append("the id map's source index is still there")
    if after["without_company"] != [0, 0]:
        plans, runs = after["without_company"]
        failures.append(f"{plans} plans and {runs} runs without a company")
    if after["user_group"]:
        failures.append("the User group is still there")
    if after["old_viewer_reads_plans"]:
        failures.append("a user of the old User group still reads plans")
    return failures + check_runs(after)


def check_runs(after):
    """What does not hold of the runs in ``after``: the one made before the upgrade, and the
    new run of its plan."""
    failures = []
    if after["run_state"] != "done":
        failures.append(f"the old plan's new run ended {after['run_state']}")
    created = sum(line["created"] for line in (after["run"] or {}).values())
    if created or after["partners_after"] != after["partners_before"]:
        failures.append(
            f"the old plan's new run created {created} records"
            f" ({after['partners_before']} -> {after['partners_after']} partners)"
        )
    if not after["drift_restored"] or not after["run"]["res.partner"]["updated"]:
        failures.append("the old plan's new run did not update a partner changed since")
    old_run = after["old_run"]
    lines = old_run["lines"]
    if [tuple(r) for r in old_run["ranges"]] != sorted((m, "done") for m, _state, _since in lines):
        failures.append(f"the old run's ranges: {old_run['ranges']} for lines {lines}")
    if not lines or any(state != "done" or not since for _model, state, since in lines):
        failures.append(f"the old clean run's lines lack their start point: {lines}")
    sums = old_run["sums"]
    if not any(read for _model, read, *_ in sums) or any(s[1:4] != s[4:] for s in sums):
        failures.append(f"the old run's lines are not the sums of their ranges: {sums}")
    if not old_run["balanced"] or old_run["hooks_done"] != "pre":
        failures.append(f"the old run: balanced, hooks {old_run}")
    if not after["new_run_balanced"]:
        failures.append("the new run's counts do not add up")
    if after["id_map_after"] != after["id_map_before"]:
        failures.append(f"id map {after['id_map_before']} -> {after['id_map_after']} entries")
    return failures


def check_release(version, commit, server, work):
    """The failures of upgrading a database made by ``commit`` (``version``)."""
    failures = []
    database = f"rdm_upgrade_{version.replace('.', '_')}"
    released = work / f"released-{version}"
    subprocess.run(
        ["git", "-C", str(local_odoo.REPO), "worktree", "add", "--detach", str(released), commit],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        (work / version / "old").mkdir(parents=True)
        (work / version / "old" / "remote_data_migration").symlink_to(released)
        old_path, new_path = addons_path(work / version / "old"), addons_path(work / "new")

        print(f"[upgrade {version}] installing the release ({commit[:8]}) in {database}")
        local_odoo.create_database(database, addons_path=old_path)
        print(f"[upgrade {version}] creating its data: a source, two plans, a finished run")
        made = local_odoo.run_in_shell(
            database,
            MAKE_DATA.format(
                url=server.url,
                database=server.database,
                every_statement=(released / "tests/data/every_statement.yaml").read_text(),
                # with hooks, so that the run has log lines
                contacts=(released / "data/contacts_plan.yaml")
                .read_text()
                .replace("mapping:", "hooks:\n  pre: \"sql('target', 'select 1')\"\nmapping:", 1),
            ),
            addons_path=old_path,
        )
        before = made["snapshot"]
        counts = {model: len(rows) for model, rows in before.items()}
        print(f"[upgrade {version}] made: {json.dumps(counts)}")

        print(f"[upgrade {version}] -u remote_data_migration with this tree")
        log = work / version / "upgrade.log"
        failures += [f"upgrade log: {line}" for line in upgrade(database, new_path, log)]
        if version < "18.0.3.0.0" and "1 users lose access to Data" not in log.read_text():
            failures.append("the end script did not name the User group's user losing access")
        after = local_odoo.run_in_shell(
            database, CHECK.format(run_again=True, url=server.url, plan_id=made["plan_id"]),
            addons_path=new_path,
        )  # fmt: skip
        failures += differences(before, after["snapshot"]) + check_upgraded(after)
        print(f"[upgrade {version}] new run of the old plan: {json.dumps(after['run'])}")

        print(f"[upgrade {version}] a second -u")
        again_log = work / version / "upgrade-again.log"
        failures += [
            f"second upgrade log: {line}" for line in upgrade(database, new_path, again_log)
        ]
        again = local_odoo.run_in_shell(
            database, CHECK.format(run_again=False, url=server.url, plan_id=made["plan_id"]),
            addons_path=new_path,
        )  # fmt: skip
        failures += [
            f"second -u: {difference}"
            for difference in differences(after["snapshot_end"], again["snapshot"])
        ]
    finally:
        subprocess.run(
            ["git", "-C", str(local_odoo.REPO), "worktree", "remove", "--force", str(released)],
            check=False,
        )
    return [f"{version}: {failure}" for failure in failures]


def main():
    failures = []
    server = get_source_server()
    with tempfile.TemporaryDirectory(prefix="rdm-upgrade-") as work:
        work = Path(work)
        (work / "new").mkdir()
        (work / "new" / "remote_data_migration").symlink_to(local_odoo.REPO)
        for version, commit in RELEASES.items():
            failures += check_release(version, commit, server, work)
    if failures:
        print("[upgrade] FAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("[upgrade] passed: every record and value kept, the secret moved, no duplicate")


if __name__ == "__main__":
    main()
