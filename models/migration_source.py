import logging

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..engine.generator import is_technical_model
from ..engine.transport import TRANSPORTS, RemoteError, make_transport

_logger = logging.getLogger(__name__)

API_KEY_WARNING_DAYS = 14  # how long before its expiry an API key is warned about


class MigrationSource(models.Model):
    _name = "migration.source"
    _description = "Remote Odoo Source"
    _order = "name, id"

    name = fields.Char(required=True)
    url = fields.Char(
        string="URL",
        required=True,
        help="Base URL of the remote Odoo, e.g. https://old.example.com",
    )
    database = fields.Char(required=True)
    login = fields.Char(required=True)
    secret = fields.Char(
        string="Password or API Key",
        compute="_compute_secret",
        inverse="_inverse_secret",
        groups="remote_data_migration.group_manager",
        copy=False,
        exportable=False,
        help="Readable by Data Migration managers only; never logged nor exported. "
        "Kept in its own table (migration.credential), not with the source.",
    )
    secret_kind = fields.Selection(
        selection=[("password", "Password"), ("api_key", "API Key")],
        required=True,
        default="password",
        help="An API key (Odoo 14+: Preferences > Account Security) can be revoked without "
        "changing the user's password, and can expire.",
    )
    api_key_expiration = fields.Date(
        string="API Key Expires On",
        help="The key's expiration date on the source. Runs warn in the last "
        f"{API_KEY_WARNING_DAYS} days and refuse to start once it has passed.",
    )
    api_key_warning = fields.Char(compute="_compute_api_key_warning")
    transport = fields.Selection(
        selection=[
            ("xmlrpc", "XML-RPC"),
            ("jsonrpc", "JSON-RPC"),
            ("json2", "JSON-2 (Odoo 19+, API key)"),
        ],
        required=True,
        default="jsonrpc",
    )
    timeout = fields.Float(
        string="Timeout (s)", default=60.0, help="Seconds to wait for each answer of the remote."
    )
    retries = fields.Integer(
        default=2, help="How many times a call that could not connect or timed out is tried again."
    )
    remote_version = fields.Char(readonly=True, copy=False)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("timeout_positive", "CHECK(timeout > 0)", "The timeout must be positive."),
        ("retries_not_negative", "CHECK(retries >= 0)", "Retries cannot be negative."),
    ]

    def _compute_secret(self):
        credentials = (
            self.env["migration.credential"].sudo().search([("source_id", "in", self.ids)])
        )
        by_source = {credential.source_id.id: credential.secret for credential in credentials}
        for source in self:
            source.secret = by_source.get(source.id, False)

    def _inverse_secret(self):
        Credential = self.env["migration.credential"].sudo()
        for source in self:
            Credential._set_secret(source, source.secret)

    @api.depends("secret_kind", "api_key_expiration")
    def _compute_api_key_warning(self):
        for source in self:
            source.api_key_warning = source._api_key_warning()

    def _api_key_warning(self):
        """A sentence when the API key expires soon or has expired, else False."""
        if self.secret_kind != "api_key" or not self.api_key_expiration:
            return False
        today = fields.Date.context_today(self)
        days = (self.api_key_expiration - today).days
        if days < 0:
            return self.env._(
                "The API key of %(name)s expired on %(date)s: make a new key on the source "
                "and enter it here.",
                name=self.name,
                date=self.api_key_expiration,
            )
        if days <= API_KEY_WARNING_DAYS:
            return self.env._(
                "The API key of %(name)s expires on %(date)s, in %(days)s days: make a new "
                "key on the source before then.",
                name=self.name,
                date=self.api_key_expiration,
                days=days,
            )
        return False

    def _api_key_expired(self):
        return (
            self.secret_kind == "api_key"
            and self.api_key_expiration
            and self.api_key_expiration < fields.Date.context_today(self)
        )

    @api.constrains("url")
    def _check_url(self):
        for source in self:
            if not source.url.startswith(("http://", "https://")):
                raise ValidationError(
                    self.env._("The URL of %s must start with http:// or https://", source.name)
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_mapped(self):
        # what the id map's foreign key did (it has none: see LooseMany2one)
        mapped = (
            self.env["migration.id.map"].sudo().search([("source_id", "in", self.ids)], limit=1)
        )
        if mapped:
            raise UserError(
                self.env._(
                    "%s has id map entries: re-runs of its plans need them. Delete them first.",
                    mapped.source_id.name,
                )
            )

    def _transport(self):
        """The engine's client for this source; the secret is read here and nowhere else."""
        self.ensure_one()
        if self.transport not in TRANSPORTS:
            raise UserError(self.env._("Unknown transport %s.", self.transport))
        if self._api_key_expired():
            raise UserError(self._api_key_warning())
        return make_transport(
            self.transport,
            self.url,
            self.database,
            self.login,
            self.sudo().secret or "",
            timeout=self.timeout,
            retries=self.retries,
        )

    def _remote_call(self, func):
        """Run ``func(transport)``, turning a remote failure into a UserError for the user."""
        self.ensure_one()
        try:
            return func(self._transport())
        except RemoteError as exc:
            _logger.info("source %s: %s", self.name, exc)
            raise UserError(self._remote_failure_message(exc)) from exc

    def _remote_failure_message(self, exc):
        """What went wrong with the source, in the words of what happened: no answer, a
        refused login, a refused access or the source's own failure."""
        self.ensure_one()
        values = {
            "name": self.name,
            "url": self.url,
            "database": self.database,
            "login": self.login,
            "error": exc.server_message,
        }
        failure = exc.failure
        if failure == "unreachable":
            return self.env._("Cannot reach the source %(name)s at %(url)s: %(error)s", **values)
        if failure == "login":
            return self.env._(
                "The source %(name)s (%(url)s) answered and refused the login '%(login)s' on "
                "database %(database)s: %(error)s. Check the login, the password or API key "
                "and the database name.",
                **values,
            )
        if failure == "access":
            return self.env._(
                "The source %(name)s refused '%(login)s' access: %(error)s. The migration reads "
                "with this user's rights: give it read access, or leave the model out.",
                **values,
            )
        return self.env._("The source %(name)s failed on a call: %(error)s", **values)

    def _fetch_schema(self, model_names, attributes):
        """``{model: fields_get(model)}`` of the source; a model it lacks is left out."""

        def fetch(transport):
            schema = {}
            for model in model_names:
                try:
                    schema[model] = transport.fields_get(model, attributes)
                except RemoteError as exc:
                    if exc.kind != "server":
                        raise
                    _logger.info(
                        "source %s has no model %s: %s", self.name, model, exc.server_message
                    )
            return schema

        return self._remote_call(fetch)

    def _xmlid_models(self, model_names):
        """The models among ``model_names`` whose source records have external ids."""
        if not model_names:
            return set()
        groups = self._remote_call(
            lambda t: t.call(
                "ir.model.data",
                "read_group",
                [("model", "in", list(model_names))],
                ["model"],
                ["model"],
            )
        )
        return {group["model"] for group in groups}

    def _models_with_records(self):
        """Every source model holding records, minus transient and technical ones."""

        def with_records(transport):
            rows = transport.call("ir.model", "search_read", [("transient", "=", False)], ["model"])
            names = []
            for model in sorted(row["model"] for row in rows):
                if is_technical_model(model):
                    continue
                try:
                    if transport.search_count(model, []):
                        names.append(model)
                except RemoteError as exc:
                    if exc.kind != "server":
                        raise
            return names

        return self._remote_call(with_records)

    def _read_remote_version(self, transport):
        info = transport.version()
        return str(info.get("server_version") or "")

    def action_refresh_version(self):
        for source in self:
            source.remote_version = source._remote_call(source._read_remote_version)
        return True

    def action_test_connection(self):
        self.ensure_one()

        def check(transport):
            version = self._read_remote_version(transport)
            uid = transport.authenticate()
            return version, transport.call("res.users", "read", [uid], ["name", "login"])[0]

        version, remote_user = self._remote_call(check)
        self.remote_version = version
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Connection successful"),
                "message": self.env._(
                    "Odoo %(version)s at %(url)s, database %(db)s, "
                    "logged in as %(user)s (%(login)s).%(warning)s",
                    version=version,
                    url=self.url,
                    db=self.database,
                    user=remote_user["name"],
                    login=remote_user["login"],
                    warning=f" {self.api_key_warning}" if self.api_key_warning else "",
                ),
                "type": "warning" if self.api_key_warning else "success",
                "sticky": False,
            },
        }
