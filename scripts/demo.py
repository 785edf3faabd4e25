"""make demo: the main job on a fresh set-up, in one command.

A source database with the demo data of contacts, served on a loopback port; a target
database with the addon; the sample plan data/contacts_plan.yaml imported and run; the
summary printed; both servers left running, the target's URL and login printed, their
process ids written to .build/demo.pids for `make demo-stop`.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_odoo  # noqa: E402

from odoo.addons.remote_data_migration.tests.source_server import (  # noqa: E402
    SourceServer,
    free_port,
)

PIDS = local_odoo.BUILD / "demo.pids"
SOURCE_DB = "rdm_demo_source"
TARGET_DB = "rdm_demo"
SCRIPT = """
source = env["migration.source"].create({{
    "name": "Demo source (contacts)", "url": {url!r}, "database": {database!r},
    "login": "admin", "secret": "admin",
}})
plan = env["migration.plan"].import_yaml({plan!r}, source=source)
env.cr.commit()
run = plan.run()
env.cr.commit()
extra = {{}}
"""


def main():
    port = int(os.environ.get("DEMO_PORT") or free_port())
    print("source: contacts with their demo data...", flush=True)
    source = SourceServer(database=SOURCE_DB, generated=0, detached=True)
    source.start()
    print(f"source: {source.url} (database {SOURCE_DB}, admin / admin)")
    add_legacy_records(source.transport())
    print("target: a fresh database with the addon...", flush=True)
    local_odoo.create_database(TARGET_DB)
    plan = (local_odoo.REPO / "data" / "contacts_plan.yaml").read_text()
    result = local_odoo.run_in_shell(
        TARGET_DB, SCRIPT.format(url=source.url, database=SOURCE_DB, plan=plan)
    )
    local_odoo.print_result(result)
    log = local_odoo.BUILD / "demo-target.log"
    target = subprocess.Popen(
        [*local_odoo.ODOO_BIN, "-c", str(local_odoo.CONFIG), "-d", TARGET_DB, f"--db-filter=^{TARGET_DB}$",
         "--http-interface=127.0.0.1", f"--http-port={port}", f"--logfile={log}"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # it logs to its file, and must not hold our output open
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # keeps serving after `make demo` returns
    )  # fmt: skip
    # process groups: each server and the workers it forks
    PIDS.write_text(f"{source.process.pid}\n{target.pid}\n")
    url = f"http://127.0.0.1:{port}"
    for _attempt in range(120):
        try:
            requests.get(f"{url}/web/login", timeout=2)
            break
        except requests.ConnectionError:
            time.sleep(0.5)
    page = f"{url}/odoo/action-remote_data_migration.migration_run_action/{result['run_id']}"
    status = check_page(url, page)
    print(f"\ntarget: {page}  (HTTP {status} after logging in)")
    print(f"login: admin / admin  (stop both servers with: make demo-stop; their pids: {PIDS})")
    sys.exit(0 if result["state"] == "done" and status == 200 else 1)


def add_legacy_records(client):
    """What an old database holds and a fresh one lacks: records of its own, not base data."""
    if not client.search_count("res.partner.title", [("name", "=", "Maître")]):
        client.call("res.partner.title", "create", {"name": "Maître", "shortcut": "Me"})


def check_page(url, page):
    """Log in as an integrator would, then open the run's page."""
    session = requests.Session()
    session.post(
        f"{url}/web/session/authenticate",
        json={"params": {"db": TARGET_DB, "login": "admin", "password": "admin"}},
        timeout=30,
    ).raise_for_status()
    response = session.get(page, timeout=30)
    # the web client itself, at that address, for a logged-in user (not the login page)
    served = response.ok and response.url == page and "odoo.__session_info__" in response.text
    return response.status_code if served else 0


if __name__ == "__main__":
    main()
