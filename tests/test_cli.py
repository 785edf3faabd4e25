"""``odoo-bin data-migrate`` in a terminal, on a database of its own (it commits)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

import odoo
from odoo.tools import config

from .source_server import get_source_server
from .target_faults import CONCURRENCY_FAULTS, DROP_CONCURRENCY_FAULTS

source_server = pytest.fixture(scope="session")(get_source_server)

CLI_DB = "rdm_cli_test"
DATA = Path(__file__).parent / "data"
ODOO_BIN = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"


@pytest.fixture(scope="module")
def cli_database():
    subprocess.run(["dropdb", "--if-exists", CLI_DB], check=True)
    subprocess.run(
        [sys.executable, ODOO_BIN, "-c", config.rcfile, "-d", CLI_DB, "-i", "remote_data_migration",
         "--without-demo=all", "--stop-after-init", "--log-level=warn"],
        check=True,
    )  # fmt: skip
    yield CLI_DB
    subprocess.run(["dropdb", "--if-exists", CLI_DB], check=True)


def data_migrate(*args, secret="admin"):
    command, env = data_migrate_command(*args, secret=secret)
    return subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
    )


def data_migrate_command(*args, secret="admin"):
    env = dict(os.environ)
    env.pop("RDM_SOURCE_SECRET", None)
    if secret is not None:
        env["RDM_SOURCE_SECRET"] = secret
    return (
        # Odoo finds the sub-commands of addons on the --addons-path given first
        [
            sys.executable,
            ODOO_BIN,
            f"--addons-path={config['addons_path']}",
            "data-migrate",
            "-c",
            config.rcfile,
            "-d",
            CLI_DB,
            *args,
        ],
        env,
    )


def source_args(server):
    return [
        "--source-url",
        server.url,
        "--source-db",
        server.database,
        "--source-login",
        server.login,
    ]


def test_file_run_then_plan_rerun(cli_database, source_server):
    done = data_migrate("--file", str(DATA / "small.yaml"), *source_args(source_server))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "run 1: done" in done.stdout
    categories = source_server.transport().search_count(
        "res.partner.category", [], context={"active_test": False}
    )
    summary = [
        line.split()
        for line in done.stdout.splitlines()
        if line.startswith("res.partner.category ")
    ]
    # read, created, updated, unchanged, skipped, failed, unreadable
    assert summary == [
        ["res.partner.category", str(categories), str(categories), "0", "0", "0", "0", "0"]
    ]
    assert "%" in done.stdout, "a progress bar"

    again = data_migrate("--plan", "Categories and titles", "--models", "res.partner.category")
    assert again.returncode == 0, again.stdout + again.stderr
    summary = [
        line.split()
        for line in again.stdout.splitlines()
        if line.startswith("res.partner.category ")
    ]
    assert summary == [
        ["res.partner.category", str(categories), "0", "0", str(categories), "0", "0", "0"]
    ]


def test_refused_or_unreachable_source_exits_3_without_showing_the_secret(
    cli_database, source_server, tmp_path
):
    plan_file = tmp_path / "refused.yaml"
    plan_file.write_text(
        (DATA / "small.yaml").read_text().replace("Categories and titles", "Refused")
    )
    args = source_args(source_server)
    args[3] = "rdm_no_such_db"  # another source record, so that its wrong secret is stored
    refused = data_migrate("--file", str(plan_file), *args, secret="wrong-cli-secret")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "refused the login" in refused.stderr
    assert "wrong-cli-secret" not in refused.stdout + refused.stderr
    args = source_args(source_server)
    args[1] = "http://127.0.0.1:9"
    unreachable = data_migrate("--file", str(plan_file), *args)
    assert unreachable.returncode == 3, unreachable.stdout + unreachable.stderr
    assert "Cannot reach the source" in unreachable.stderr


def test_invalid_input_exit_code_2(cli_database, source_server, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("mapping:\n  base:\n    res.partner.fax: __forgot__\n")
    bad = data_migrate("--file", str(broken), *source_args(source_server))
    assert bad.returncode == 2
    assert "res.partner.fax" in bad.stderr and "__forgot__" in bad.stderr
    new_source = source_args(source_server)
    new_source[5] = "nobody-yet"  # an unknown source: its secret is needed
    no_secret = data_migrate("--file", str(DATA / "small.yaml"), *new_source, secret=None)
    assert no_secret.returncode == 2
    assert "RDM_SOURCE_SECRET" in no_secret.stderr
    no_model = data_migrate(
        "--file",
        str(DATA / "small.yaml"),
        *source_args(source_server),
        "--models",
        "res.no.such.model",
    )
    assert no_model.returncode == 2
    assert "has no model res.no.such.model" in no_model.stderr
    unknown = data_migrate("--plan", "No such plan")
    assert unknown.returncode == 2
    assert "no plan is named 'No such plan'" in unknown.stderr
    usage = data_migrate("--dry-run")
    assert usage.returncode == 2 and "give --plan or --file" in usage.stderr


TYPO_PLAN = """
format: 1
plan: Typo
mapping:
  '*':
    res.partner.__query__: [["id", "=", 0]]
    res.partner.name:
    res.partner.usr_id:
      res.partner.user_id: __defer__
"""


def test_an_invalid_plan_prints_its_findings_and_exits_2(cli_database, source_server, tmp_path):
    plan_file = tmp_path / "typo.yaml"
    plan_file.write_text(TYPO_PLAN)
    invalid = data_migrate("--file", str(plan_file), *source_args(source_server))
    assert invalid.returncode == 2, invalid.stdout + invalid.stderr
    assert "is not valid, 1 error(s)" in invalid.stderr
    assert "unknown source field res.partner.usr_id (did you mean user_id?)" in invalid.stderr
    assert not cli_sql("SELECT id FROM migration_run r WHERE r.plan_id IN"
                       " (SELECT id FROM migration_plan WHERE name = 'Typo')"), "no run made"  # fmt: skip


def test_file_twice_updates_one_plan_and_leaves_the_source_as_stored(
    cli_database, source_server, tmp_path
):
    """``--file`` updates the plan of its name; a source found by URL, database and login is
    used as the screens left it (transport, secret) unless ``--update-source``."""
    plan_file = tmp_path / "twice.yaml"
    text = (DATA / "small.yaml").read_text().replace("Categories and titles", "Twice")
    plan_file.write_text(text)
    first = data_migrate("--file", str(plan_file), *source_args(source_server))
    assert first.returncode == 0, first.stdout + first.stderr
    ((source_id, transport),) = cli_sql(
        "SELECT s.id, s.transport FROM migration_plan p JOIN migration_source s"
        " ON s.id = p.source_id WHERE p.name = 'Twice'"
    )
    cli_sql(
        "UPDATE migration_source SET transport = 'xmlrpc' WHERE id = %s RETURNING id", [source_id]
    )
    # the file changes: the plan follows it
    plan_file.write_text(text.replace("    res.partner.title.*:\n", ""))
    second = data_migrate(
        "--file", str(plan_file), *source_args(source_server), "--transport", "json2",
        secret="a-wrong-secret",
    )  # fmt: skip
    assert second.returncode == 0, second.stdout + second.stderr
    plans = cli_sql(
        "SELECT p.id, count(r.id) FROM migration_plan p JOIN migration_model_rule r"
        " ON r.plan_id = p.id WHERE p.name = 'Twice' GROUP BY p.id"
    )
    assert plans == [(plans[0][0], 1)], "one plan, with the file's one model"
    ((transport_now, secret_now),) = cli_sql(
        "SELECT s.transport, c.secret FROM migration_source s JOIN migration_credential c"
        " ON c.source_id = s.id WHERE s.id = %s",
        [source_id],
    )
    assert (transport_now, secret_now) == ("xmlrpc", source_server.password)
    updated = data_migrate(
        "--plan", "Twice", "--source", str(source_id), "--update-source", "--transport", "jsonrpc"
    )
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert cli_sql("SELECT transport FROM migration_source WHERE id = %s", [source_id]) == [
        ("jsonrpc",)
    ]


def test_a_dry_run_shows_its_progress_model_by_model(cli_database, source_server):
    made = data_migrate("--file", str(DATA / "small.yaml"), *source_args(source_server))
    assert made.returncode == 0, made.stdout + made.stderr
    dry = data_migrate("--plan", "Categories and titles", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    steps = dry.stdout.split("\r")
    assert any("res.partner.category" in step and "%" in step for step in steps), dry.stdout
    assert any("res.partner.title" in step and "%" in step for step in steps), dry.stdout


KILLED_PLAN = """
format: 1
plan: Killed worker
options:
  batch_size: 50
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "RDM-GEN-%"]]
    res.partner.name:
    res.partner.ref:
"""


def cli_sql(query, params=None):
    with psycopg2.connect(dbname=CLI_DB, user=config["db_user"] or None) as conn:
        with conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall()


def test_worker_killed_mid_run_then_resumed(cli_database, source_server, tmp_path):
    """The process running a plan is killed (SIGKILL, as the OOM killer or a deploy would):
    its run stays "running", the next start sees no process holds it and resumes it."""
    plan_file = tmp_path / "killed.yaml"
    plan_file.write_text(KILLED_PLAN)
    command, env = data_migrate_command("--file", str(plan_file), *source_args(source_server))
    worker = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    progress_query = (
        "SELECT coalesce(sum(m.created_count), 0) FROM migration_run_model m"
        " JOIN migration_run r ON r.id = m.run_id JOIN migration_plan p ON p.id = r.plan_id"
        " WHERE p.name = 'Killed worker'"
    )
    try:
        deadline = time.monotonic() + 300
        while cli_sql(progress_query)[0][0] < 200:  # four batches committed
            assert worker.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "the run made no progress"
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    expected = source_server.transport().search_count(
        "res.partner", [("ref", "=like", "RDM-GEN-%")]
    )
    ((state, created),) = cli_sql(
        "SELECT r.state, sum(m.created_count) FROM migration_run r"
        " JOIN migration_plan p ON p.id = r.plan_id JOIN migration_run_model m ON m.run_id = r.id"
        " WHERE p.name = 'Killed worker' GROUP BY r.state"
    )
    assert state == "running"
    assert 200 <= created < expected

    resumed = data_migrate("--plan", "Killed worker", "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "done" in resumed.stdout
    ((runs, state, created, read, failed),) = cli_sql(
        "SELECT count(DISTINCT r.id), max(r.state), sum(m.created_count), sum(m.read_count),"
        " sum(m.failed_count) FROM migration_run r JOIN migration_plan p ON p.id = r.plan_id"
        " JOIN migration_run_model m ON m.run_id = r.id WHERE p.name = 'Killed worker'"
    )
    assert (runs, state, created, read, failed) == (1, "done", expected, expected, 0)
    ((mapped, targets, partners),) = cli_sql(
        "SELECT count(*), count(DISTINCT target_res_id),"
        " (SELECT count(*) FROM res_partner WHERE ref LIKE 'RDM-GEN-%%')"
        " FROM migration_id_map WHERE source_model = 'res.partner'"
        " AND run_id IN (SELECT r.id FROM migration_run r JOIN migration_plan p"
        " ON p.id = r.plan_id WHERE p.name = 'Killed worker')"
    )
    assert (mapped, targets, partners) == (expected, expected, expected), "nothing lost or doubled"


RETRIED_PLAN = KILLED_PLAN.replace("Killed worker", "Retried batches").replace(
    "batch_size: 50", "batch_size: 500"
)


def test_batches_refused_for_concurrency_are_retried_in_a_new_transaction(
    cli_database, source_server, tmp_path
):
    """Where the run commits, a batch PostgreSQL refuses (serialization failure, deadlock) is
    rolled back to the last commit and done again in a new transaction."""
    cli_sql(CONCURRENCY_FAULTS + "SELECT 1")
    try:
        plan_file = tmp_path / "retried.yaml"
        plan_file.write_text(RETRIED_PLAN)
        # another source record (same server, by name): an id map of its own
        args = source_args(source_server)
        args[1] = args[1].replace("127.0.0.1", "localhost")
        done = data_migrate("--file", str(plan_file), *args)
    finally:
        cli_sql(DROP_CONCURRENCY_FAULTS + "SELECT 1")
    assert done.returncode == 0, done.stdout + done.stderr
    expected = source_server.transport().search_count(
        "res.partner", [("ref", "=like", "RDM-GEN-%")]
    )
    run_of_plan = (
        "SELECT r.id FROM migration_run r JOIN migration_plan p ON p.id = r.plan_id"
        " WHERE p.name = 'Retried batches'"
    )
    ((created, failed),) = cli_sql(
        "SELECT sum(created_count), sum(failed_count) FROM migration_run_model"
        f" WHERE run_id IN ({run_of_plan})"
    )
    assert (created, failed) == (expected, 0)
    ((mapped, targets),) = cli_sql(
        "SELECT count(*), count(DISTINCT target_res_id) FROM migration_id_map"
        f" WHERE source_model = 'res.partner' AND run_id IN ({run_of_plan})"
    )
    assert (mapped, targets) == (expected, expected), "nothing lost or doubled"
    retried = [
        message
        for (message,) in cli_sql(
            f"SELECT message FROM migration_run_log WHERE run_id IN ({run_of_plan})"
            " AND message LIKE '%%done again%%' ORDER BY id"
        )
    ]
    assert len(retried) == 2, retried
    assert "SERIALIZATION_FAILURE" in retried[0] and "DEADLOCK_DETECTED" in retried[1]


CYCLE_PLAN = """
format: 1
plan: Cycle in a terminal
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "CLICYCLE-%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.parent_id:
      res.partner.parent_id: __defer__
"""


def test_a_second_pass_failure_exits_1(cli_database, source_server, tmp_path):
    """A record the second pass refuses (a parent cycle on the source) is a failed record:
    the run is not clean and the command says so with its exit code."""
    client = source_server.transport()
    first, second = client.call(
        "res.partner", "create",
        [{"name": "CLI cycle A", "ref": "CLICYCLE-A"}, {"name": "CLI cycle B", "ref": "CLICYCLE-B"}],
    )  # fmt: skip
    try:
        source_server.sql("UPDATE res_partner SET parent_id = %s WHERE id = %s", [second, first])
        source_server.sql("UPDATE res_partner SET parent_id = %s WHERE id = %s", [first, second])
        plan_file = tmp_path / "cycle.yaml"
        plan_file.write_text(CYCLE_PLAN)
        done = data_migrate("--file", str(plan_file), *source_args(source_server))
    finally:
        source_server.sql(
            "UPDATE res_partner SET parent_id = NULL WHERE id = ANY(%s)", [[first, second]]
        )
        client.call("res.partner", "unlink", [first, second])
    assert done.returncode == 1, done.stdout + done.stderr
    (counts,) = [
        line.split() for line in done.stdout.splitlines() if line.startswith("res.partner ")
    ]
    # read, created, updated, unchanged, skipped, failed, unreadable
    assert counts[1:] == ["2", "1", "0", "0", "0", "1", "0"], done.stdout
    ((clean, source_res_id),) = cli_sql(
        "SELECT r.clean, l.source_res_id FROM migration_run r JOIN migration_plan p"
        " ON p.id = r.plan_id JOIN migration_run_log l ON l.run_id = r.id"
        " WHERE p.name = 'Cycle in a terminal' AND l.level = 'error'"
    )
    assert (clean, source_res_id) == (False, second)


LOCK_SCRIPT = """
from odoo.addons.remote_data_migration.models.migration_plan import RUN_LOCK_CLASS
from odoo.addons.remote_data_migration.models.migration_run_execution import MigrationRun
plan = env["migration.plan"].search([("name", "=", "Categories and titles")], order="id desc", limit=1)
def failing_summary(run):
    run.env.cr.execute("SELECT 1 / 0")  # the transaction is aborted at the end of the run
MigrationRun._post_summary = failing_summary
try:
    plan.run(models=["res.partner.title"])
    raised = None
except Exception as exc:
    raised = type(exc).__name__
env.cr.execute(
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
    " AND classid = %s AND objid = %s", [RUN_LOCK_CLASS, plan.id])
print("RDM-LOCK", raised, env.cr.fetchone()[0])
"""


def test_the_run_lock_is_released_after_a_failure_that_aborts_the_transaction(
    cli_database, source_server
):
    """A failure that leaves the transaction aborted (here, at the run's very end) is raised
    as itself, and the plan's lock is released: a pooled connection would keep it forever."""
    made = data_migrate("--file", str(DATA / "small.yaml"), *source_args(source_server))
    assert made.returncode in (0, 1), made.stdout + made.stderr
    shell = subprocess.run(
        [sys.executable, ODOO_BIN, "shell", "-c", config.rcfile, "-d", CLI_DB, "--no-http",
         "--log-level=critical"],
        input=LOCK_SCRIPT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    (line,) = [line for line in shell.stdout.splitlines() if line.startswith("RDM-LOCK")]
    assert line.split()[1:] == ["DivisionByZero", "0"], shell.stdout + shell.stderr
