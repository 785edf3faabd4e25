from odoo import api, fields, models


class MigrationCredential(models.Model):
    """The password or API key of a source, in a table of its own.

    Kept apart from the source so that nothing that reads, exports or copies sources ever
    carries it: only managers have access to this model, and the engine reads it as sudo
    at the moment it logs in.
    """

    _name = "migration.credential"
    _description = "Data Migration Source Credential"

    source_id = fields.Many2one("migration.source", required=True, ondelete="cascade", index=True)
    secret = fields.Char(string="Password or API Key", required=True)

    _sql_constraints = [
        ("one_per_source", "UNIQUE(source_id)", "A source has one credential."),
    ]

    @api.model
    def _set_secret(self, source, secret):
        credential = self.search([("source_id", "=", source.id)])
        if not secret:
            credential.unlink()
        elif credential:
            credential.secret = secret
        else:
            self.create({"source_id": source.id, "secret": secret})
