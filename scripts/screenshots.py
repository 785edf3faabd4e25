"""make screenshots: the README's pictures of the screens, made again from scratch.

A contacts source with generated partners, a target database with the addon and the demo
plan (data/contacts_plan.yaml), a target server with its scheduled actions; then headless
Chromium (Debian's `chromium`, driven over its DevTools protocol) logs in and takes:

    doc/screenshots/run-live.png     a background run's page while it runs
    doc/screenshots/id-map.png       the id map after it
    doc/screenshots/plan-picture.png the plan's picture
    doc/screenshots/preview.png      the preview of the partners' rule

Nothing is kept running afterwards.
"""

import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent))
import local_odoo  # noqa: E402

from odoo.addons.remote_data_migration.tests.source_server import (  # noqa: E402
    SourceServer,
    free_port,
)

SOURCE_DB = "rdm_shots_source"
TARGET_DB = "rdm_shots"
OUT = local_odoo.REPO / "doc" / "screenshots"
WIDTH, HEIGHT = 1440, 900
PREPARE = """
source = env["migration.source"].create({{
    "name": "Legacy contacts", "url": {url!r}, "database": {database!r},
    "login": "admin", "secret": "admin",
}})
plan = env["migration.plan"].import_yaml({plan!r}, source=source)
plan.write({{"batch_size": 100}})  # small batches: a run's page has time to move
plan.validate()
env.cr.commit()
print("RDM-PLAN", plan.id)
"""


class Browser:
    """Just enough of the DevTools protocol: navigate, evaluate, screenshot."""

    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="rdm-chromium-")
        port = free_port()
        self.process = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--remote-debugging-port={port}", f"--user-data-dir={self.profile}",
             f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _attempt in range(100):
            try:
                pages = requests.get(f"http://127.0.0.1:{port}/json", timeout=2).json()
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        page = next(p for p in pages if p["type"] == "page")
        self.socket = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60)
        self.next_id = 0
        self.send("Emulation.setDeviceMetricsOverride", width=WIDTH, height=HEIGHT,
                  deviceScaleFactor=1, mobile=False)  # fmt: skip

    def send(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def cookie(self, url, name, value):
        self.send("Network.setCookie", url=url, name=name, value=value)

    def open(self, url, ready):
        self.send("Page.navigate", url=url)
        self.wait_for(ready)

    def evaluate(self, expression):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, selector, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(f"!!document.querySelector({json.dumps(selector)})"):
                time.sleep(0.6)  # the last requests of the page, its animations
                return
            time.sleep(0.2)
        raise RuntimeError(f"the page never showed {selector}")

    def click(self, expression):
        if not self.evaluate(
            f"(() => {{ const e = {expression}; if (e) e.click(); return !!e; }})()"
        ):
            raise RuntimeError(f"nothing to click: {expression}")

    def screenshot(self, name):
        data = self.send("Page.captureScreenshot", format="png")["data"]
        path = OUT / name
        path.write_bytes(base64.b64decode(data))
        print(f"  {path.relative_to(local_odoo.REPO)}")

    def close(self):
        self.socket.close()
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    print("source: contacts and 6,000 generated partners...", flush=True)
    source = SourceServer(database=SOURCE_DB, generated=6000)
    source.start()
    target = browser = None
    try:
        print("target: a fresh database with the addon and the demo plan...", flush=True)
        local_odoo.create_database(TARGET_DB)
        plan_text = (local_odoo.REPO / "data" / "contacts_plan.yaml").read_text()
        shell = subprocess.run(
            local_odoo.odoo_command("-d", TARGET_DB, "--no-http", "--log-level=warn", command="shell"),
            input=PREPARE.format(url=source.url, database=SOURCE_DB, plan=plan_text),
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        (plan_id,) = [
            int(line.split()[1])
            for line in shell.stdout.splitlines()
            if line.startswith("RDM-PLAN")
        ]
        port = free_port()
        target = subprocess.Popen(
            local_odoo.odoo_command("-d", TARGET_DB, f"--db-filter=^{TARGET_DB}$",
                                    "--http-interface=127.0.0.1", f"--http-port={port}",
                                    "--max-cron-threads=1", "--log-level=warn"),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        session = requests.Session()
        for _attempt in range(240):
            try:
                session.post(f"{url}/web/session/authenticate", timeout=30, json={
                    "params": {"db": TARGET_DB, "login": "admin", "password": "admin"}}).raise_for_status()  # fmt: skip
                break
            except requests.ConnectionError:
                time.sleep(0.5)

        def call(model, method, *args, **kwargs):
            answer = session.post(f"{url}/web/dataset/call_kw", timeout=60, json={"params": {
                "model": model, "method": method, "args": list(args), "kwargs": kwargs}}).json()  # fmt: skip
            if "error" in answer:
                raise RuntimeError(answer["error"]["data"]["message"])
            return answer["result"]

        browser = Browser()
        browser.cookie(url, "session_id", session.cookies["session_id"])
        plan_page = f"{url}/odoo/action-remote_data_migration.migration_plan_action/{plan_id}"
        browser.open(plan_page, ".o_form_view .o_field_widget[name=model_rule_ids] .o_data_row")

        print("screenshots:", flush=True)
        browser.click(
            "[...document.querySelectorAll('.o_notebook_headers a')].find(a => a.textContent.includes('Picture'))"
        )
        browser.wait_for(".o_field_widget[name=picture] svg")
        browser.screenshot("plan-picture.png")

        browser.click(
            "[...document.querySelectorAll('.o_notebook_headers a')].find(a => a.textContent.includes('Models'))"
        )
        browser.click(
            "[...document.querySelectorAll('.o_field_widget[name=model_rule_ids] .o_data_row')]"
            ".find(r => r.querySelector('td[name=source_model]').textContent.trim() === 'res.partner')"
            ".querySelector('button[name=action_preview]')"
        )
        browser.wait_for(".modal .o_rdm_preview")
        browser.screenshot("preview.png")

        wizard = call("migration.run.wizard", "create", {"plan_id": plan_id, "background": True})
        run_id = call("migration.run.wizard", "action_run", [wizard])["res_id"]
        browser.open(f"{url}/odoo/action-remote_data_migration.migration_run_action/{run_id}",
                     ".o_form_view .o_field_widget[name=progress]")  # fmt: skip
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            (run,) = call("migration.run", "read", [run_id], ["state", "progress"])
            if run["state"] == "running" and 25 <= run["progress"] <= 80:
                time.sleep(1.5)  # the page's own update (bus, or its two-second poll)
                browser.screenshot("run-live.png")
                break
            if run["state"] in ("done", "failed", "cancelled"):
                raise RuntimeError(f"the run ended ({run['state']}) before a mid-run picture")
            time.sleep(0.3)
        while call("migration.run", "read", [run_id], ["state"])[0]["state"] not in (
            "done",
            "failed",
        ):
            time.sleep(1)
        browser.open(f"{url}/odoo/action-remote_data_migration.migration_id_map_action",
                     ".o_list_view .o_data_row")  # fmt: skip
        browser.screenshot("id-map.png")
    finally:
        if browser:
            browser.close()
        if target:
            target.terminate()
            target.wait(30)
        source.stop()


if __name__ == "__main__":
    main()
