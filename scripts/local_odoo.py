"""The Odoo that `make setup` prepared, for scripts run outside the tests (bench, demo).

Import this first: it reads .build/odoo.conf and makes the addon importable.
"""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / ".build"
CONFIG = BUILD / "odoo.conf"
RESULT_MARK = "RDM-RESULT "

if not CONFIG.exists():
    sys.exit("run 'make setup' first")

import odoo  # noqa: E402
from odoo.tools import config  # noqa: E402

config.parse_config(["-c", str(CONFIG)])
odoo.addons.__path__.append(str(BUILD / "addons"))

ODOO_BIN = [sys.executable, str(Path(odoo.__file__).resolve().parent.parent / "odoo-bin")]

# What a script run in `odoo-bin shell` prints last: the run's figures, as JSON.
RESULT_SCRIPT = (
    """
import json, resource
errors = run.log_ids.filtered(lambda l: l.level == "error")[:5].mapped("message")
# the counters this version of the addon has (an upgrade check runs it on older releases)
names = [n for n in ("created", "updated", "unchanged", "skipped", "failed", "unreadable")
         if n + "_count" in run.model_ids._fields]
lines = [dict({n: l[n + "_count"] for n in names}, model=l.source_model, records=l.read_count,
              seconds=l.seconds)
         for l in run.model_ids]
print("%s" + json.dumps({"run_id": run.id, "state": run.state, "error": run.error or "", "errors": errors,
      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "models": lines, **extra}))
"""
    % RESULT_MARK
)


def odoo_command(*args, command=None, addons_path=None):
    """``odoo-bin [command]`` with the set-up's configuration; ``addons_path`` replaces its own."""
    return [
        *ODOO_BIN,
        *([command] if command else []),
        "-c",
        str(CONFIG),
        *(["--addons-path", addons_path] if addons_path else []),
        *args,
    ]


def create_database(name, addons_path=None):
    """A new database with the addon installed (no demo data)."""
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    subprocess.run(
        odoo_command("-d", name, "-i", "remote_data_migration", "--without-demo=all",
                     "--stop-after-init", "--log-level=warn", addons_path=addons_path),
        check=True,
    )  # fmt: skip


def run_in_shell(database, script, addons_path=None, wrapper=()):
    """Run ``script`` (which sets ``run`` and ``extra``) in `odoo-bin shell`; its figures.
    ``wrapper``: a command the shell runs under (a profiler)."""
    shell = subprocess.run(
        [
            *wrapper,
            *odoo_command(
                "-d",
                database,
                "--no-http",
                "--log-level=warn",
                command="shell",
                addons_path=addons_path,
            ),
        ],
        input=script + RESULT_SCRIPT,
        capture_output=True,
        text=True,
        check=False,
    )
    if wrapper:  # what the profiler said (where it wrote, how many samples)
        sys.stderr.write("".join(f"{line}\n" for line in shell.stderr.splitlines()[-4:]))
    results = [line for line in shell.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if not results:
        sys.exit(f"the run printed no result:\n{shell.stdout[-3000:]}\n{shell.stderr[-3000:]}")
    return json.loads(results[-1].removeprefix(RESULT_MARK))


def print_result(result):
    print(f"\nrun {result['run_id']}: {result['state']} {result['error']}")
    for error in result["errors"]:
        print(f"  {error}")
    # every counter: read = created + updated + unchanged + skipped + failed (+ unreadable)
    counters = ("records", "created", "updated", "unchanged", "skipped", "failed", "unreadable")
    print(f"{'model':<24}" + "".join(f"{name:>11}" for name in counters)
          + f"{'seconds':>9}{'records/s':>11}")  # fmt: skip
    for line in result["models"]:
        rate = line["records"] / line["seconds"] if line["seconds"] else 0
        print(
            f"{line['model']:<24}" + "".join(f"{line.get(name, 0):>11}" for name in counters)
            + f"{line['seconds']:>9.1f}{rate:>11.0f}"
        )  # fmt: skip
