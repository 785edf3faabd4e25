"""End-to-end benchmark: N generated source partners migrated into a fresh target database.

    ~/.venvs/remote_data_migration-18.0/bin/python bench/run_bench.py --partners 10000

Starts the source server (database ``rdm_bench_source``, N generated partners, made once),
creates the target database ``rdm_bench_target`` with the addon, and runs the migration in a
separate ``odoo-bin shell`` process, as an integrator would; prints per model the records,
seconds and records/s, the wall time, and that process's peak memory. Not part of the tests.
Needs ``make setup`` first.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
import local_odoo  # noqa: E402

from odoo.addons.remote_data_migration.tests.source_server import SourceServer  # noqa: E402

TARGET_DB = "rdm_bench_target"
PLAN = """
format: 1
plan: Bench partners
options:
  batch_size: {batch_size}
  unresolved: "null"
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "RDM-GEN-%"]]
    res.partner.*:
    res.partner.user_id: __forget__
    res.partner.category_id: __forget__
    res.partner.message_main_attachment_id: __forget__
"""
SCRIPT = """
import time
source = env["migration.source"].create({{
    "name": "Bench source", "url": {url!r}, "database": {database!r},
    "login": "admin", "secret": "admin", "transport": {transport!r},
}})
plan = env["migration.plan"].import_yaml({plan!r}, source=source)
env.cr.commit()
started = time.monotonic()
run = plan.run()
extra = {{"wall": time.monotonic() - started}}
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=10_000, choices=(1_000, 10_000, 100_000))
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--transport", default="jsonrpc", choices=("xmlrpc", "jsonrpc"))
    args = parser.parse_args()

    print(f"source: {args.partners} generated partners (made once, kept)...", flush=True)
    server = SourceServer(database="rdm_bench_source", generated=args.partners)
    server.start()
    try:
        print("target: a fresh database with the addon...", flush=True)
        local_odoo.create_database(TARGET_DB)
        print("migrating...", flush=True)
        started = time.monotonic()
        script = SCRIPT.format(
            url=server.url,
            database=server.database,
            transport=args.transport,
            plan=PLAN.format(batch_size=args.batch_size),
        )
        result = local_odoo.run_in_shell(TARGET_DB, script)
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    local_odoo.print_result(result)
    total = sum(line["records"] for line in result["models"])
    print(
        f"run wall time: {result['wall']:.1f} s ({total / result['wall']:.0f} records/s end to end)"
    )
    print(
        f"target process: peak memory {result['peak_rss_mb']:.0f} MB; shell process wall time {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
