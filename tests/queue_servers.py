"""Odoo servers of the target, with workers and queue_job's job runner, for the scale-out
tests: separate processes on one database, as several machines would run them."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests

import odoo
from odoo.tools import config

ODOO_BIN = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
RESULT_MARK = "RDM-RESULT "


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def create_database(name, modules):
    subprocess.run(["dropdb", "--if-exists", name], check=True)
    subprocess.run(
        [sys.executable, ODOO_BIN, "-c", config.rcfile, "-d", name, "-i", ",".join(modules),
         "--without-demo=all", "--stop-after-init", "--log-level=warn"],
        check=True,
    )  # fmt: skip


def shell(database, script):
    """Run ``script`` in ``odoo-bin shell`` on ``database``; what it prints after
    ``RESULT_MARK`` (JSON) is the answer."""
    done = subprocess.run(
        [sys.executable, ODOO_BIN, "shell", "-c", config.rcfile, "-d", database, "--no-http",
         "--log-level=warn"],
        input=f"exec({script!r})\n", capture_output=True, text=True, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_MARK)]
    if not lines:
        raise RuntimeError(
            f"the shell printed no result:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return json.loads(lines[-1][len(RESULT_MARK) :])


def sql(database, query, params=None):
    with psycopg2.connect(dbname=database, user=config["db_user"] or None) as conn:
        with conn.cursor() as cr:
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None


class WorkerServer:
    """One Odoo server of the target: ``workers`` HTTP workers carry out the jobs the runner
    dispatches to ``runner_port`` (a balancer in front of every server), no cron."""

    def __init__(self, database, runner_port=None, workers=2, name="worker"):
        self.database = database
        self.workers = workers
        self.port = free_port()
        self.runner_port = runner_port or self.port  # None: the runner sends jobs to this server
        self.log_file = Path(config["data_dir"]).resolve().parent / f"{database}-{name}.log"
        self.process = None

    def start(self):
        env = dict(
            os.environ,
            ODOO_QUEUE_JOB_HOST="127.0.0.1",
            ODOO_QUEUE_JOB_PORT=str(self.runner_port),
            # the runner dispatches no more jobs at once than this, whatever the channels say
            # (queue_job's default: 1)
            ODOO_QUEUE_JOB_MAX_CAPACITY=str(self.workers),
        )
        self.process = subprocess.Popen(
            [sys.executable, ODOO_BIN, "-c", config.rcfile, "-d", self.database,
             "--db-filter", f"^{self.database}$", "--http-interface", "127.0.0.1",
             "--http-port", str(self.port), "--gevent-port", str(free_port()),
             "--workers", str(self.workers), "--max-cron-threads", "0",
             "--load", "base,web,queue_job", "--limit-time-real", "600", "--limit-time-cpu", "600",
             "--logfile", str(self.log_file), "--log-level", "info"],
            env=env, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the target server exited: see {self.log_file}")
            try:
                requests.post(
                    f"http://127.0.0.1:{self.port}/web/webclient/version_info", json={}, timeout=5
                )
                return self
            # a server starting its workers on a loaded machine may also accept and answer late
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.5)
        self.stop()  # not left running, with its workers, under the tests that follow
        raise RuntimeError(f"the target server did not answer: see {self.log_file}")

    def kill(self):
        """SIGKILL: as a crash, an OOM killer or a pulled plug; its jobs die with it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
