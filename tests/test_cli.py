"""``odoo-bin data-migrate`` in a terminal, on a database of its own (it commits)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import odoo
from odoo.tools import config

from .source_server import get_source_server

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
    env = dict(os.environ)
    env.pop("RDM_SOURCE_SECRET", None)
    if secret is not None:
        env["RDM_SOURCE_SECRET"] = secret
    return subprocess.run(
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
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        check=False,
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
    assert summary == [["res.partner.category", str(categories), str(categories), "0", "0", "0"]]
    assert "%" in done.stdout, "a progress bar"

    again = data_migrate("--plan", "Categories and titles", "--models", "res.partner.category")
    assert again.returncode == 0, again.stdout + again.stderr
    summary = [
        line.split()
        for line in again.stdout.splitlines()
        if line.startswith("res.partner.category ")
    ]
    assert summary == [["res.partner.category", str(categories), "0", "0", str(categories), "0"]]


def test_refused_login_fails_without_showing_the_secret(cli_database, source_server):
    refused = data_migrate(
        "--file", str(DATA / "small.yaml"), *source_args(source_server), secret="wrong-cli-secret"
    )
    assert refused.returncode == 1
    assert "login refused" in refused.stdout
    assert "wrong-cli-secret" not in refused.stdout + refused.stderr


def test_invalid_input_exit_code_2(cli_database, source_server, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("mapping:\n  base:\n    res.partner.fax: __forgot__\n")
    bad = data_migrate("--file", str(broken), *source_args(source_server))
    assert bad.returncode == 2
    assert "res.partner.fax" in bad.stderr and "__forgot__" in bad.stderr
    no_secret = data_migrate(
        "--file", str(DATA / "small.yaml"), *source_args(source_server), secret=None
    )
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
    assert "0 plans are named 'No such plan'" in unknown.stderr
