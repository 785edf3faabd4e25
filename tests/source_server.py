"""The remote source for the tests: a real Odoo server in its own process.

A test cannot call its own server process over RPC (the request would wait for the test's
transaction: a deadlock), so the source is a second database served by a separate
``odoo-bin`` on a free loopback port. The database is created once (``contacts`` with its
demo data, plus generated partners for volume) and kept between runs; the server starts on
first use and stops when the test session ends, whatever happens.

The tests write to their source (records to migrate, then their clean-up). A session killed
half-way skips its clean-ups, so the test servers never serve the kept database itself: each
session serves a fresh copy of it (``<kept>_session``, made by ``createdb --template``), and
nothing a former session left behind can change what the next one counts.

``SOURCE_ODOO_SRC`` points at another Odoo source tree (16.0, 17.0) to use it as the source;
``SOURCE_PYTHON`` at the interpreter that runs it (default: this one).
"""

import atexit
import binascii
import ctypes
import logging
import os
import re
import shutil
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

from ..engine.transport import make_transport

_logger = logging.getLogger(__name__)

LOGIN = "admin"
PASSWORD = "admin"
GENERATED_PARTNERS = 2100
START_TIMEOUT = 180
# set in a kept database once its seeds have run (the generated partners, the apps' set-ups)
SEEDED_KEY = "remote_data_migration_tests.seeded"


def _die_with_parent():
    """Runs in the child before exec: the kernel sends it SIGTERM if the test process dies."""
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_major_version(src):
    text = (Path(src) / "odoo" / "release.py").read_text()
    match = re.search(r"^version_info = \((\d+), (\d+)", text, re.MULTILINE)
    if not match:
        raise RuntimeError(f"{src} is not an Odoo source tree (no version_info in odoo/release.py)")
    return int(match.group(1))


class SourceServer:
    def __init__(
        self,
        database=None,
        generated=GENERATED_PARTNERS,
        detached=False,
        src=None,
        python=None,
        modules=("contacts",),
        session_copy=False,
        seed=(),
    ):
        default_src = Path(odoo.__file__).resolve().parent.parent
        self.src = Path(src or os.environ.get("SOURCE_ODOO_SRC") or default_src).resolve()
        self.python = python or os.environ.get("SOURCE_PYTHON") or sys.executable
        self.major = odoo_major_version(self.src)
        self.modules = list(modules)
        suffix = "" if self.modules == ["contacts"] else "_apps"
        self.kept = database or f"rdm_source_{self.major}{suffix}"
        self.session_copy = session_copy
        self.database = f"{self.kept}_session" if session_copy else self.kept
        self.generated = generated
        self.seed = seed  # callables of the server that fill the kept database, once
        self.detached = detached  # outlives this process (make demo leaves it serving)
        self.login = LOGIN
        self.password = PASSWORD
        self.build_dir = Path(config["data_dir"]).resolve().parent
        # The database outlives any checkout, so its filestore lives beside it, not in .build/.
        self.data_dir = Path.home() / ".local/share/remote_data_migration" / self.kept
        self.log_file = self.build_dir / f"source-server-{self.kept}.log"
        self.db_user = config["db_user"] or None
        self.port = None
        self.process = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _odoo_command(self, *args):
        return [
            self.python,
            str(self.src / "odoo-bin"),
            "--addons-path",
            f"{self.src / 'odoo' / 'addons'},{self.src / 'addons'}",
            "--data-dir",
            str(self.data_dir),
            "--max-cron-threads",
            "0",
            "--log-level",
            "warn",
            "--logfile",
            str(self.log_file),
            *(["--db_user", self.db_user] if self.db_user else []),
            *args,
        ]

    def sql(self, query, params=None, database=None):
        """Run SQL on the source database (set-up of cases the API cannot create)."""
        with (
            psycopg2.connect(dbname=database or self.database, user=self.db_user) as conn,
            conn.cursor() as cr,
        ):
            cr.execute(query, params)
            return cr.fetchall() if cr.description else None

    def _database_ready(self):
        try:
            rows = self.sql(
                "SELECT count(*) FROM ir_module_module WHERE name = ANY(%s) AND state = 'installed'",
                [self.modules],
                database=self.kept,
            )
        except psycopg2.Error:
            return False
        return rows == [(len(self.modules),)]

    def ensure_database(self):
        if self._database_ready():
            return
        _logger.info("creating source database %s with Odoo %s", self.kept, self.major)
        subprocess.run(["dropdb", "--if-exists", self.kept], check=True)
        subprocess.run(
            self._odoo_command("-d", self.kept, "-i", ",".join(self.modules), "--stop-after-init"),
            check=True,
            stdin=subprocess.DEVNULL,
        )
        if not self._database_ready():
            raise RuntimeError(f"source database {self.kept} was not created: see {self.log_file}")

    def _seeded(self):
        rows = self.sql(
            "SELECT value FROM ir_config_parameter WHERE key = %s", [SEEDED_KEY], database=self.kept
        )
        return bool(rows)

    def _copy_kept(self):
        """The session's database: a fresh copy of the kept one, its filestore too."""
        subprocess.run(["dropdb", "--if-exists", self.database], check=True)
        subprocess.run(["createdb", "--template", self.kept, self.database], check=True)
        filestore = self.data_dir / "filestore"
        shutil.rmtree(filestore / self.database, ignore_errors=True)
        if (filestore / self.kept).is_dir():
            shutil.copytree(filestore / self.kept, filestore / self.database)

    def start(self, port=None):
        self.ensure_database()
        if not self.session_copy:
            self._serve(port)
            self._seed()
            return self
        session, self.database = self.database, self.kept
        try:
            if not self._seeded():
                self._serve(port)
                self._seed()
                self.sql(
                    "INSERT INTO ir_config_parameter (key, value) VALUES (%s, 'yes')", [SEEDED_KEY]
                )
                self.stop()
        finally:
            self.database = session
        self._copy_kept()
        self._serve(port)
        return self

    def _seed(self):
        self._generate_partners()
        for seed in self.seed:
            seed(self)

    def _serve(self, port=None):
        self.port = port or free_port()
        self.process = subprocess.Popen(
            self._odoo_command(
                "-d",
                self.database,
                "--db-filter",
                f"^{self.database}$",
                "--http-interface",
                "127.0.0.1",
                "--http-port",
                str(self.port),
            ),
            stdin=subprocess.DEVNULL,
            # a detached server must not hold the caller's output open (it logs to its file)
            stdout=subprocess.DEVNULL if self.detached else None,
            stderr=subprocess.DEVNULL if self.detached else None,
            start_new_session=True,  # its own process group, so stop() reaches every child
            preexec_fn=None if self.detached else _die_with_parent,
        )
        if not self.detached:
            atexit.register(self.stop)  # the end of the test session, however it ends
        self._wait_until_answering()

    def _wait_until_answering(self):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the source server exited with {self.process.returncode}: see {self.log_file}"
                )
            try:
                requests.post(
                    f"{self.url}/web/webclient/version_info", json={"params": {}}, timeout=5
                )
                return
            # a server starting on a loaded machine may also accept and answer late
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the source server did not answer within {START_TIMEOUT} s")

    def _generate_partners(self):
        """Enough source partners for paging tests; created once, kept with the database."""
        if not self.generated:
            return
        client = self.transport()
        existing = client.search_count("res.partner", [("ref", "=like", "RDM-GEN-%")])
        missing = range(existing, self.generated)
        for start in range(missing.start, missing.stop, 500):
            client.call(
                "res.partner",
                "create",
                [
                    {
                        "name": f"Generated partner {i:05d}",
                        "ref": f"RDM-GEN-{i:05d}",
                        "email": f"partner{i:05d}@example.com",
                        "is_company": i % 10 == 0,
                        "city": f"City {i % 97}",
                    }
                    for i in range(start, min(start + 500, missing.stop))
                ],
            )

    def transport(self, kind="xmlrpc", **options):
        options.setdefault("timeout", 30)
        return make_transport(kind, self.url, self.database, self.login, self.password, **options)

    def make_api_key(self, name, expiration=None):
        """A new API key of the source's admin, as Odoo's own ``_generate`` makes it (hashed,
        indexed by its first digits); ``expiration``: a datetime, or None for no expiry."""
        from odoo.addons.base.models.res_users import API_KEY_SIZE, INDEX_SIZE, KEY_CRYPT_CONTEXT

        key = binascii.hexlify(os.urandom(API_KEY_SIZE)).decode()
        has_expiry = self.sql(
            "SELECT 1 FROM information_schema.columns"
            " WHERE table_name = 'res_users_apikeys' AND column_name = 'expiration_date'"
        )
        columns = "name, user_id, scope, key, index" + (", expiration_date" if has_expiry else "")
        ((user_id,),) = self.sql("SELECT id FROM res_users WHERE login = %s", [self.login])
        values = [name, user_id, "rpc", KEY_CRYPT_CONTEXT.hash(key), key[:INDEX_SIZE]]
        values += [expiration] if has_expiry else []
        placeholders = ", ".join(["%s"] * len(values))
        (key_id,) = self.sql(
            f"INSERT INTO res_users_apikeys ({columns}) VALUES ({placeholders}) RETURNING id",
            values,
        )[0]
        return key_id, key

    def kill(self):
        """Kill the server at once (SIGKILL), as a crash or a network cut would."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self):
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


_server = None


def get_source_server():
    """The running source server, started on first use."""
    global _server
    if _server is None:
        _server = SourceServer(session_copy=True).start()
    return _server


# The source of whole applications: an older Odoo (17.0 by default) with the apps and their
# demo data. APPS_SOURCE_ODOO_SRC and APPS_SOURCE_PYTHON choose another (16.0 needs its own
# interpreter).
APPS = ("sale_management", "purchase", "stock")
DEFAULT_APPS_SOURCE = "/opt/odoo/17.0"
_apps_server = None


def get_apps_source_server():
    """The running source of applications, started on first use; its database is made once
    (the apps and their demo data, two orders locked as users lock them) and kept."""
    global _apps_server
    if _apps_server is None:
        src = os.environ.get("APPS_SOURCE_ODOO_SRC") or DEFAULT_APPS_SOURCE
        if not (Path(src) / "odoo-bin").exists():
            raise RuntimeError(
                f"no Odoo source tree at {src} for the applications' source: make setup puts "
                "Odoo 17.0 there, or set APPS_SOURCE_ODOO_SRC"
            )
        server = SourceServer(
            src=src,
            python=os.environ.get("APPS_SOURCE_PYTHON"),
            modules=APPS,
            generated=0,
            session_copy=True,
            seed=(_lock_two_orders, _pay_two_invoices, _document_with_chatter),
        )
        _apps_server = server.start()
    return _apps_server


PAID_MARK = "RDM paid in the test set-up"
CHATTER_MARK = "RDM chatter of the test set-up"


def _pay_two_invoices(server):
    """One customer invoice paid in full, another in part, by the payment wizard: payments,
    their entries and the reconciliation between their items and the invoices'."""
    client = server.transport("jsonrpc")
    if client.search_count(
        "account.payment", [("ref" if server.major < 18 else "memo", "=", PAID_MARK)]
    ):
        return
    invoices = client.call(
        "account.move", "search_read",
        [("move_type", "=", "out_invoice"), ("state", "=", "posted"), ("payment_state", "=", "not_paid")],
        ["amount_residual"], order="id", limit=2,
    )  # fmt: skip
    for invoice, share in zip(invoices, (1.0, 0.5), strict=False):
        context = {"active_model": "account.move", "active_ids": [invoice["id"]]}
        wizard = client.call(
            "account.payment.register", "create",
            {"amount": round(invoice["amount_residual"] * share, 2), "communication": PAID_MARK},
            context=context,
        )  # fmt: skip
        client.call("account.payment.register", "action_create_payments", [wizard], context=context)


def _document_with_chatter(server):
    """A message with an attachment on an invoice, as users leave them."""
    client = server.transport("jsonrpc")
    if client.search_count("mail.message", [("body", "like", CHATTER_MARK)]):
        return
    invoice = client.call("account.move", "search", [("move_type", "=", "out_invoice")], limit=1)[0]
    attachment = client.call(
        "ir.attachment", "create",
        {"name": "signed-order.txt", "datas": "UkRNIHNpZ25lZCBvcmRlcg==",
         "res_model": "account.move", "res_id": invoice},
    )  # fmt: skip
    client.call(
        "account.move", "message_post", [invoice],
        body=f"<p>{CHATTER_MARK}: the customer signed</p>", attachment_ids=[attachment],
    )  # fmt: skip


def _lock_two_orders(server):
    """Two confirmed sale orders locked, as users lock them (16.0: done; 17.0+: locked)."""
    client = server.transport("jsonrpc")  # the lock methods return None: XML-RPC cannot say it
    if server.major < 17:
        locked, method = [("state", "=", "done")], "action_done"
    else:
        locked, method = [("locked", "=", True)], "action_lock"
    missing = 2 - client.search_count("sale.order", locked)
    if missing > 0:
        orders = client.call(
            "sale.order", "search", [("state", "=", "sale")], limit=missing, order="id"
        )
        client.call("sale.order", method, orders)
