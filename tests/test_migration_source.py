"""The source record: connection checks against the live source server, and who sees the secret."""

from unittest.mock import patch

import requests

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, TransactionCase, new_test_user

from .source_server import get_source_server


class TestMigrationSource(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = get_source_server()
        cls.manager = new_test_user(
            cls.env,
            login="rdm_manager",
            groups="base.group_user,remote_data_migration.group_manager",
        )
        cls.viewer = new_test_user(cls.env, login="rdm_viewer", groups="base.group_user")
        cls.source = cls.env["migration.source"].create(
            {
                "name": "Live source",
                "url": cls.server.url,
                "database": cls.server.database,
                "login": cls.server.login,
                "secret": cls.server.password,
                "timeout": 30,
            }
        )

    def test_test_connection_notifies_version_and_user(self):
        action = self.source.with_user(self.manager).action_test_connection()
        self.assertEqual(action["tag"], "display_notification")
        message = action["params"]["message"]
        self.assertIn(f"Odoo {self.server.major}.0", message)
        client = self.server.transport()
        admin_name = client.call("res.users", "read", [client.authenticate()], ["name"])[0]["name"]
        self.assertIn(f"logged in as {admin_name} (admin)", message)
        self.assertEqual(self.source.remote_version, f"{self.server.major}.0")

    def test_each_transport_speaks_its_own_protocol(self):
        posted = []
        post = requests.Session.post

        def recording(session, url, *args, **kwargs):
            posted.append(url)
            return post(session, url, *args, **kwargs)

        for transport, path in (("jsonrpc", "/jsonrpc"), ("xmlrpc", "/xmlrpc/2/object")):
            self.source.transport = transport
            posted.clear()
            with patch.object(requests.Session, "post", recording):
                action = self.source.action_test_connection()
            self.assertEqual(action["params"]["type"], "success")
            self.assertIn(self.server.url + path, posted, transport)
            self.assertTrue(all(transport in url for url in posted), (transport, posted))

    def test_refresh_version(self):
        self.source.remote_version = False
        self.source.action_refresh_version()
        self.assertEqual(self.source.remote_version, f"{self.server.major}.0")

    def test_wrong_password_is_a_clear_user_error(self):
        self.source.secret = "wrong-secret-77a1"
        with self.assertRaises(UserError) as caught:
            self.source.action_test_connection()
        message = str(caught.exception)
        self.assertIn(self.server.url, message)
        self.assertIn("'admin'", message)
        self.assertIn("login refused", message)
        self.assertIn("answered and refused the login", message)
        self.assertNotIn("Cannot reach", message)
        self.assertNotIn("wrong-secret-77a1", message)

    def test_unreachable_source_is_a_user_error(self):
        self.source.write({"url": "http://127.0.0.1:9", "retries": 0, "timeout": 2})
        with self.assertRaisesRegex(UserError, "Cannot reach the source .*cannot connect"):
            self.source.action_refresh_version()

    def test_a_refused_model_is_told_apart_from_a_refused_login(self):
        """Logged in, then refused a model: an access failure, worded as such."""
        reader = self.server.transport().call(
            "res.users", "create", {"name": "No rights", "login": "rdm-no-rights",
                                    "password": "rdm-no-rights", "groups_id": [(6, 0, [])]}
        )  # fmt: skip
        self.source.write({"login": "rdm-no-rights", "secret": "rdm-no-rights"})
        try:
            with self.assertRaises(UserError) as caught:
                self.source._remote_call(lambda t: t.search_count("res.partner.bank", []))
        finally:
            self.server.transport().call("res.users", "unlink", [reader])
        message = str(caught.exception)
        self.assertIn("refused 'rdm-no-rights' access", message)
        self.assertNotIn("refused the login", message)

    def test_secret_readable_by_managers_only(self):
        self.assertEqual(self.source.with_user(self.manager).secret, self.server.password)
        viewer_source = self.source.with_user(self.viewer)
        with self.assertRaises(AccessError):
            viewer_source.read(["secret"])
        with self.assertRaises(AccessError):
            viewer_source.read(["name"])
        self.assertNotIn("secret", viewer_source.fields_get())
        with self.assertRaises(AccessError):
            viewer_source.write({"name": "renamed"})

    def test_secret_is_kept_apart_from_the_source(self):
        """In migration.credential: not a column of the source, not readable by viewers,
        not carried by a copy, gone when cleared."""
        self.env.cr.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'migration_source'"
        )
        self.assertNotIn("secret", {row[0] for row in self.env.cr.fetchall()})
        Credential = self.env["migration.credential"]
        self.assertEqual(
            Credential.search([("source_id", "=", self.source.id)]).secret, self.server.password
        )
        with self.assertRaises(AccessError):
            Credential.with_user(self.viewer).search([])
        copy = self.source.copy()
        self.assertFalse(copy.sudo().secret)
        copy.secret = False
        self.source.secret = False
        self.assertFalse(Credential.search([("source_id", "in", (self.source | copy).ids)]))

    def test_settings_administrators_are_managers(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("remote_data_migration.group_manager"))

    def test_url_must_be_http(self):
        with self.assertRaises(ValidationError):
            self.source.url = "ftp://example.com"

    def test_form_creates_a_source(self):
        form = Form(self.env["migration.source"].with_user(self.manager))
        form.name = "From the form"
        form.url = "https://old.example.com"
        form.database = "old"
        form.login = "admin"
        form.secret = "s3cret"
        source = form.save()
        self.assertEqual(source.transport, "jsonrpc", "JSON: several times cheaper to decode")
        self.assertEqual(source.sudo().secret, "s3cret")
