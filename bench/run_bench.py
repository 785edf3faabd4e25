"""End-to-end benchmark: N generated source partners migrated into a fresh target database.

    .venv-python bench/run_bench.py --partners 10000 [--batch-size 500] [--transport jsonrpc]

Starts the source server (database ``rdm_bench_source``, N generated partners, made once),
creates the target database ``rdm_bench_target`` with the addon, and runs the migration in a
separate ``odoo-bin shell`` process, as an integrator would; prints per model the records,
seconds and records/s, the wall time, and that process's peak memory. Not part of the tests.
Needs ``make setup`` first.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / ".build"
CONFIG = BUILD / "odoo.conf"
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

# Runs inside `odoo-bin shell` on the target: the migration, then its figures as JSON.
SHELL_SCRIPT = """
import json, resource, time
source = env["migration.source"].create({{
    "name": "Bench source", "url": {url!r}, "database": {database!r},
    "login": "admin", "secret": "admin", "transport": {transport!r},
}})
plan = env["migration.plan"].import_yaml({plan!r}, source=source)
env.cr.commit()
started = time.monotonic()
run = plan.run()
wall = time.monotonic() - started
lines = [{{"model": l.source_model, "records": l.read_count, "created": l.created_count,
          "failed": l.failed_count, "seconds": l.seconds}} for l in run.model_ids]
errors = run.log_ids.filtered(lambda l: l.level == "error")[:5].mapped("message")
print("BENCH-RESULT " + json.dumps({{"state": run.state, "error": run.error or "", "errors": errors, "wall": wall,
      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "models": lines}}))
"""


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--partners", type=int, default=10_000, choices=(1_000, 10_000, 100_000))
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--transport", default="jsonrpc", choices=("xmlrpc", "jsonrpc"))
    args = parser.parse_args()
    if not CONFIG.exists():
        sys.exit("run 'make setup' first")

    import odoo  # noqa: PLC0415 - after the checks: importing Odoo takes a while
    from odoo.tools import config  # noqa: PLC0415

    config.parse_config(["-c", str(CONFIG)])
    odoo.addons.__path__.append(str(BUILD / "addons"))
    from odoo.addons.remote_data_migration.tests.source_server import SourceServer  # noqa: PLC0415

    odoo_bin = [sys.executable, str(Path(odoo.__file__).resolve().parent.parent / "odoo-bin")]
    print(f"source: {args.partners} generated partners (made once, kept)...", flush=True)
    server = SourceServer(database="rdm_bench_source", generated=args.partners)
    server.start()
    try:
        print("target: a fresh database with the addon...", flush=True)
        subprocess.run(["dropdb", "--if-exists", TARGET_DB], check=True)
        subprocess.run(
            [*odoo_bin, "-c", str(CONFIG), "-d", TARGET_DB, "-i", "remote_data_migration",
             "--without-demo=all", "--stop-after-init", "--log-level=warn"],
            check=True,
        )  # fmt: skip
        script = SHELL_SCRIPT.format(
            url=server.url,
            database=server.database,
            transport=args.transport,
            plan=PLAN.format(batch_size=args.batch_size),
        )
        print("migrating...", flush=True)
        started = time.monotonic()
        shell = subprocess.run(
            [
                *odoo_bin,
                "shell",
                "-c",
                str(CONFIG),
                "-d",
                TARGET_DB,
                "--no-http",
                "--log-level=warn",
            ],
            input=script,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.monotonic() - started
    finally:
        server.stop()
    result_lines = [line for line in shell.stdout.splitlines() if line.startswith("BENCH-RESULT ")]
    if not result_lines:
        sys.exit(
            f"the migration printed no result:\n{shell.stdout[-3000:]}\n{shell.stderr[-3000:]}"
        )
    result = json.loads(result_lines[-1].removeprefix("BENCH-RESULT "))
    print(f"\nrun: {result['state']} {result['error']}")
    for error in result["errors"]:
        print(f"  {error}")
    print(
        f"{'model':<24}{'records':>10}{'created':>10}{'failed':>8}{'seconds':>10}{'records/s':>11}"
    )
    for line in result["models"]:
        rate = line["records"] / line["seconds"] if line["seconds"] else 0
        print(
            f"{line['model']:<24}{line['records']:>10}{line['created']:>10}{line['failed']:>8}"
            f"{line['seconds']:>10.1f}{rate:>11.0f}"
        )
    total = sum(line["records"] for line in result["models"])
    print(
        f"run wall time: {result['wall']:.1f} s ({total / result['wall']:.0f} records/s end to end)"
    )
    print(
        f"target process: peak memory {result['peak_rss_mb']:.0f} MB; shell process wall time {elapsed:.1f} s"
    )


if __name__ == "__main__":
    main()
