"""A run over many small models: how long the passes wait for the source.

    python bench/many_models.py [--runs 3]

Ten reference models of the bench's source database (``rdm_bench_source``, made by
``run_bench.py``; any Odoo database with base data does): currencies and their rates,
countries, their groups and states, titles, industries, languages, banks and the bench's
tag tree, 2,500 records or so. Each pass is short and bound by the source: what a run of a
whole application's small models looks like. Prints, per run, the wall time, the passes'
seconds and, of these, the seconds spent waiting for the source (the ``read`` phase).

Not part of the tests. Needs ``make setup`` first.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import local_odoo  # noqa: E402

from odoo.addons.remote_data_migration.tests.source_server import SourceServer  # noqa: E402

SOURCE_DB = "rdm_bench_source"
TARGET_DB = "rdm_many_target"

PLAN = """
format: 1
plan: Many models
options:
  batch_size: 500
  unresolved: "null"
mapping:
  '*':
    res.currency.*:
    res.country.group.*:
    res.country.group.country_ids: __forget__
    res.country.*:
    res.country.country_group_ids: __forget__
    res.country.state.*:
    res.partner.title.*:
    res.partner.industry.*:
    res.lang.*:
    res.currency.rate.*:
    res.bank.*:
    res.partner.category.__query__: [["name", "=like", "Bench group %"]]
    res.partner.category.*:
    res.partner.category.partner_ids: __forget__
"""

SCRIPT = """
import time
source = env["migration.source"].create({{
    "name": "Many models", "url": {url!r}, "database": {database!r},
    "login": "admin", "secret": "admin", "transport": "jsonrpc",
}})
plan = env["migration.plan"].import_yaml({plan!r}, source=source)
env.cr.commit()
runs = []
for _i in range({runs}):
    started = time.monotonic()
    run = plan.run()
    wall = time.monotonic() - started
    env.cr.commit()
    runs.append({{
        "wall": wall, "state": run.state, "error": run.error or "",
        "models": len(run.model_ids), "records": sum(run.model_ids.mapped("read_count")),
        "passes": sum(run.model_ids.mapped("seconds")),
        "read": sum(line.phase_seconds().get("read", 0) for line in run.model_ids),
    }})
extra = {{"runs": runs}}
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    server = SourceServer(database=SOURCE_DB, generated=0)
    server.start()
    try:
        local_odoo.create_database(TARGET_DB)
        script = SCRIPT.format(url=server.url, database=server.database, plan=PLAN, runs=args.runs)
        result = local_odoo.run_in_shell(TARGET_DB, script)
    finally:
        server.stop()
    print(f"{'run':<6}{'models':>8}{'records':>9}{'wall s':>9}{'passes s':>10}{'waiting s':>11}")
    for number, run in enumerate(result["runs"], 1):
        print(
            f"{number:<6}{run['models']:>8}{run['records']:>9}{run['wall']:>9.2f}"
            f"{run['passes']:>10.2f}{run['read']:>11.2f}  {run['state']} {run['error'][:80]}"
        )


if __name__ == "__main__":
    main()
