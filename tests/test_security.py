"""Who reads what, which code runs, and where a secret never goes; against the live source."""

import logging
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from ..engine.bodies import check_body
from .common import RunCase

MODELS = [
    "migration.source",
    "migration.plan",
    "migration.plan.finding",
    "migration.model.rule",
    "migration.field.rule",
    "migration.run",
    "migration.run.model",
    "migration.run.log",
    "migration.id.map",
    "migration.credential",
]

TAGS_PLAN = """
format: 1
plan: {name}
mapping:
  '*':
    res.partner.category.__query__: [["name", "=like", "RDM-SEC-%"]]
    res.partner.category.name:
"""


class CapturedLog(logging.Handler):
    """Every record logged anywhere while it is installed, formatted as the server would."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def __enter__(self):
        root = logging.getLogger()
        self._level = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self._level)


class TestSecurity(RunCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="rdm_sec_manager",
            name="Manager Rdm",
            groups="base.group_user,base.group_allow_export,remote_data_migration.group_manager",
        )
        cls.employee = new_test_user(cls.env, login="rdm_sec_employee", groups="base.group_user")
        tags = cls.client.call(
            "res.partner.category", "create", [{"name": f"RDM-SEC-{n}"} for n in range(3)]
        )
        cls.addClassCleanup(cls.client.call, "res.partner.category", "unlink", tags)

    def tags_plan(self, source, name="Security tags", **hooks):
        text = TAGS_PLAN.format(name=name)
        if hooks:
            text = text.replace(
                "mapping:",
                "hooks:\n" + "".join(f"  {k}: {v!r}\n" for k, v in hooks.items()) + "mapping:",
            )
        return self.env["migration.plan"].import_yaml(text, source=source)

    def test_only_managers_read_the_addons_records(self):
        source = self.make_source("Read rights")
        run = self.tags_plan(source).run()
        self.assertEqual(run.state, "done", run.error)
        self.assertTrue(run.log_ids or run.model_ids)
        for model in MODELS:
            with self.subTest(model=model):
                with self.assertRaises(AccessError):
                    self.env[model].with_user(self.employee).search_read([], limit=1)
                self.env[model].with_user(self.manager).search_read([], limit=1)
        menu = self.env.ref("remote_data_migration.remote_data_migration_menu")
        self.assertFalse(menu.with_user(self.employee)._filter_visible_menus())
        self.assertFalse(self.env.ref("remote_data_migration.group_user", raise_if_not_found=False))

    def test_a_secret_reaches_no_read_export_log_chatter_or_server_log(self):
        _key_id, api_key = self.server.make_api_key("rdm security test")
        wrong = f"wrong-{uuid.uuid4().hex}"
        with CapturedLog() as captured:
            good = self.make_source("Key source")
            good.write({"secret": api_key, "secret_kind": "api_key"})
            done = self.tags_plan(good, "With the key").run()
            bad = self.make_source("Wrong secret")
            bad.secret = wrong
            refused = self.tags_plan(bad, "With a wrong secret").run()
            with self.assertRaises(UserError) as failed_test:
                bad.with_user(self.manager).action_test_connection()
            yaml_texts = [plan.export_yaml() for plan in (done.plan_id, refused.plan_id)]
        self.assertEqual(done.state, "done", done.error)
        self.assertEqual(done.summary()["res.partner.category"]["created"], 3, "the key works")
        self.assertEqual(refused.state, "failed")
        self.assertIn("login refused", refused.error)
        secrets = {"api key": api_key, "wrong secret": wrong}
        sources = good | bad
        # who is not a manager reads no secret, over RPC read or export
        for source in sources:
            with self.assertRaises(AccessError):
                source.with_user(self.employee).read(["secret"])
            with self.assertRaises(UserError):  # AccessError or "no right to export"
                source.with_user(self.employee).export_data(["name", "secret"])
        # a manager's export does not offer it
        fields = (
            self.env["migration.source"]
            .with_user(self.manager)
            .fields_get(attributes=["exportable"])
        )
        self.assertFalse(fields["secret"]["exportable"])
        exportable = [name for name, desc in fields.items() if desc["exportable"]]
        exported = str(sources.with_user(self.manager).export_data(exportable))
        runs = done | refused
        places = {
            "export": exported,
            "export_yaml": "\n".join(yaml_texts),
            "run log": "\n".join(
                f"{log.message} {log.values or ''} {log.statement or ''}" for log in runs.log_ids
            ),
            "run error": "\n".join(run.error or "" for run in runs),
            "chatter": "\n".join(
                str(message.body)
                for message in self.env["mail.message"].search(
                    [
                        "|",
                        "&",
                        ("model", "=", "migration.run"),
                        ("res_id", "in", runs.ids),
                        "&",
                        ("model", "=", "migration.plan"),
                        ("res_id", "in", runs.plan_id.ids),
                    ]
                )
            ),
            "test connection error": str(failed_test.exception),
            "server log": "\n".join(captured.lines),
            "source server log": Path(self.server.log_file).read_text(errors="replace"),
        }
        self.assertGreater(len(captured.lines), 10, "the log was captured")
        self.assertIn("login refused", places["chatter"])
        for place, text in places.items():
            for what, secret in secrets.items():
                with self.subTest(place=place, secret=what):
                    self.assertNotIn(secret, text)

    def test_bodies_cannot_import_reach_dunders_or_commit(self):
        refusals = {
            "import os\nreturn 1": "IMPORT_NAME",
            "return __import__('os')": "__import__",
            "return source_row.__class__": "__class__",
            "return env.cr.commit()": "'commit' is refused",
            "env.cr.rollback()\nreturn 1": "'rollback' is refused",
            "return env.cr._cnx": "'_cnx' is refused",
            "return env.registry.cursor()": "'cursor' is refused",
            "return [x for x in [env.cr.commit]]": "'commit' is refused",
        }
        for body, expected in refusals.items():
            with self.subTest(body=body):
                self.assertIn(expected, check_body(body) or "")
        # the same refusals reach whoever imports such a plan
        with self.assertRaises(UserError) as imported:
            self.env["migration.plan"].import_yaml(
                TAGS_PLAN.format(name="Commits").replace(
                    "res.partner.category.name:",
                    'res.partner.category.name: "env.cr.commit()\\nreturn 1"',
                )
            )
        self.assertIn("res.partner.category.name", str(imported.exception))
        self.assertIn("'commit' is refused", str(imported.exception))
        # a stored body that slipped past the checks is refused when the run compiles it
        source = self.make_source("Stored commit")
        plan = self.tags_plan(source, "Stored commit")
        rule = plan.model_rule_ids.field_rule_ids.filtered(lambda r: r.target_field == "name")
        self.env.cr.execute(
            "UPDATE migration_field_rule SET statement = 'python',"
            " python_code = 'env.cr.commit()' || chr(10) || 'return 1' WHERE id = %s",
            [rule.id],
        )
        self.env.invalidate_all()
        run = plan.run()
        self.assertEqual(run.state, "failed")
        self.assertIn("'commit' is refused", run.error + " ".join(run.log_ids.mapped("message")))
        # and sql() runs no statement that would end the run's transaction
        committing = self.tags_plan(source, "SQL commit", pre="sql('target', 'select 1; COMMIT')")
        run = committing.run()
        self.assertEqual(run.state, "failed")
        self.assertIn("sql() refuses 'COMMIT'", run.error)
        self.assertFalse(run.summary()["res.partner.category"]["created"])

    def test_sql_and_sudo_are_for_settings_administrators(self):
        source = self.make_source("SQL rights")
        Plan = self.env["migration.plan"].with_user(self.manager)
        for body in ("sql('target', 'select 1')", "env['res.users'].sudo().search([])"):
            with self.subTest(body=body), self.assertRaises(UserError) as refused:
                Plan.import_yaml(TAGS_PLAN.format(name="Manager SQL"), source=source).write(
                    {"pre_hook": body}
                )
            self.assertIn("for Settings administrators only", str(refused.exception))
        with self.assertRaises(UserError) as refused:
            Plan.import_yaml(
                TAGS_PLAN.format(name="Manager SQL body").replace(
                    "res.partner.category.name:",
                    "res.partner.category.name: \"return sql('target', 'select 1')[0][0]\"",
                )
            )
        self.assertIn("res.partner.category.name: sql is for Settings", str(refused.exception))
        # written by an administrator: a manager still may not run it
        plan = self.tags_plan(source, "Admin SQL", pre="sql('target', 'select 1')")
        run = plan.with_user(self.manager).run()
        self.assertEqual(run.state, "failed")
        self.assertEqual(
            run.error,
            "Manager Rdm may not run this plan: pre hook uses sql, which only Settings "
            "administrators may run.",
        )
        self.assertFalse(run.summary(), "nothing was read")
        run = plan.run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.summary()["res.partner.category"]["created"], 3)

    def test_plans_and_runs_stay_in_their_company(self):
        company_a = self.env["res.company"].create({"name": "RDM Company A"})
        company_b = self.env["res.company"].create({"name": "RDM Company B"})
        manager_a = new_test_user(
            self.env,
            login="rdm_sec_manager_a",
            groups="base.group_user,remote_data_migration.group_manager",
            company_id=company_a.id,
            company_ids=[Command.set(company_a.ids)],
        )
        source = self.make_source("Companies")
        plan_b = self.tags_plan(source, "Plan of B")
        plan_b.company_id = company_b
        plan_b.model_rule_ids.field_rule_ids.filtered(lambda r: r.target_field == "name").write(
            {"statement": "python", "python_code": "return env.company.name"}
        )
        run_b = plan_b.run()
        self.assertEqual(run_b.state, "done", run_b.error)
        self.assertEqual(run_b.company_id, company_b)
        created = self.env["res.partner.category"].browse(
            self.env["migration.id.map"].search([("run_id", "=", run_b.id)]).mapped("target_res_id")
        )
        self.assertEqual(set(created.mapped("name")), {"RDM Company B"}, "the run writes as B")
        shared = self.tags_plan(source, "Shared plan")
        shared.company_id = False
        as_a = self.env["migration.plan"].with_user(manager_a)
        self.assertEqual(as_a.search([("id", "in", (plan_b | shared).ids)]), shared)
        with self.assertRaises(AccessError):
            plan_b.with_user(manager_a).read(["name"])
        with self.assertRaises(AccessError):
            run_b.with_user(manager_a).read(["state"])
        self.assertFalse(
            self.env["migration.run.log"].with_user(manager_a).search([("run_id", "=", run_b.id)])
        )
        self.assertEqual(
            self.env["migration.plan"].with_user(manager_a).create({"name": "New"}).company_id,
            company_a,
        )


class TestApiKeys(RunCase):
    def test_an_api_key_logs_in_warns_before_expiry_and_is_refused_after(self):
        key_id, api_key = self.server.make_api_key(
            "rdm expiry test", datetime.now() + timedelta(days=30)
        )
        self.addCleanup(self.server.sql, "DELETE FROM res_users_apikeys WHERE id = %s", [key_id])
        source = self.make_source("API key")
        source.write(
            {
                "secret": api_key,
                "secret_kind": "api_key",
                "api_key_expiration": date.today() + timedelta(days=5),
            }
        )
        self.assertIn("expires on", source.api_key_warning)
        self.assertIn("in 5 days", source.api_key_warning)
        action = source.action_test_connection()
        self.assertEqual(action["params"]["type"], "warning")
        self.assertIn("in 5 days", action["params"]["message"])
        plan = self.env["migration.plan"].import_yaml(
            TAGS_PLAN.format(name="API key"), source=source
        )
        run = plan.run()
        self.assertEqual(run.state, "done", run.error)
        warnings = run.log_ids.filtered(lambda log: log.level == "warning").mapped("message")
        self.assertTrue(any("expires on" in message for message in warnings), warnings)

        source.api_key_expiration = date.today() + timedelta(days=60)
        self.assertFalse(source.api_key_warning)
        source.api_key_expiration = date.today() - timedelta(days=1)
        run = plan.run()
        self.assertEqual(run.state, "failed")
        self.assertIn("The API key of API key expired on", run.error)
        self.assertFalse(run.model_ids, "nothing was read")
        if self.server.major < 18:
            return  # API keys expire on the source from Odoo 18 on
        # a key the source itself has expired is refused at login
        self.server.sql(
            "UPDATE res_users_apikeys SET expiration_date = now() - interval '1 day' WHERE id = %s",
            [key_id],
        )
        source.api_key_expiration = False
        run = plan.run()
        self.assertEqual(run.state, "failed")
        self.assertIn("login refused", run.error)
