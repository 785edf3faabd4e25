"""Values at the edges: migrated intact, or refused alone with a message naming the value."""

import base64
import hashlib
import os
from datetime import date
from unittest.mock import patch

from .common import RunCase

PLAN = """
format: 1
plan: Odd values
options:
  unresolved: "null"
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "ODD-%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.comment:
    res.partner.type:
"""

LONG_TEXT = "<p>" + "long text, " * 9_090 + "</p>"  # 100,000 characters
ODD_NAME = "Zoë Ωmega 🚀 ‮reversed‬ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u200b\u00a0end"


class TestRunBadValues(RunCase):
    def test_odd_values_migrate_intact_and_an_unknown_selection_fails_alone(self):
        create = self.client.call
        ids = create(
            "res.partner",
            "create",
            [
                {"name": ODD_NAME, "ref": "ODD-1"},
                {"name": "Long comment", "ref": "ODD-2", "comment": LONG_TEXT},
                {"name": "Legacy kind", "ref": "ODD-3"},
            ],
        )
        self.addCleanup(create, "res.partner", "unlink", ids)
        # a selection value the target does not know (an older version's, or a module's)
        self.server.sql("UPDATE res_partner SET type = 'legacy_kind' WHERE id = %s", [ids[2]])
        self.addCleanup(
            self.server.sql, "UPDATE res_partner SET type = 'contact' WHERE id = %s", [ids[2]]
        )
        source = self.make_source("Odd values")
        run = self.env["migration.plan"].import_yaml(PLAN, source=source).run()

        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.summary()["res.partner"]["created"], 2)
        self.assertEqual(run.summary()["res.partner"]["failed"], 1)
        odd = self.env["res.partner"].browse(
            self.target_of(source, "res.partner", ids[0], "res.partner")
        )
        self.assertEqual(odd.name, ODD_NAME)
        long = self.env["res.partner"].browse(
            self.target_of(source, "res.partner", ids[1], "res.partner")
        )
        self.assertEqual(len(long.comment), len(LONG_TEXT))
        self.assertEqual(str(long.comment), LONG_TEXT)
        failure = run.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(failure.source_res_id, ids[2])
        self.assertIn("legacy_kind", failure.message)
        self.assertFalse(self.target_of(source, "res.partner", ids[2], "res.partner"))

    def test_a_value_that_does_not_fit_its_field_fails_its_row_alone(self):
        ids = self.client.call(
            "res.partner",
            "create",
            [{"name": "Fits", "ref": "FIT-1", "partner_latitude": 4.5},
             {"name": "Does not fit", "ref": "FIT-2"}],
        )  # fmt: skip
        self.addCleanup(self.client.call, "res.partner", "unlink", ids)
        # a float the source holds and no integer can: its row only fails
        self.server.sql("UPDATE res_partner SET partner_latitude = 'NaN' WHERE id = %s", [ids[1]])
        source = self.make_source("Not fitting")
        run = self.env["migration.plan"].import_yaml(FIT_PLAN, source=source).run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            {k: v for k, v in run.summary()["res.partner"].items() if v},
            {"read": 2, "created": 1, "failed": 1},
        )
        fits = self.env["res.partner"].browse(
            self.target_of(source, "res.partner", ids[0], "res.partner")
        )
        self.assertEqual((fits.name, fits.color), ("Fits", 4))
        failure = run.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(failure.source_res_id, ids[1])
        self.assertEqual(failure.statement, "partner_latitude -> res.partner.color (copy)")
        self.assertIn("nan does not fit a integer field", failure.message)


FIT_PLAN = """
format: 1
plan: Not fitting
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "FIT-%"]]
    res.partner.name:
    res.partner.partner_latitude:
      res.partner.color: __copy__
"""

BINARY_PLAN = """
format: 1
plan: Big binary
mapping:
  '*':
    ir.attachment.__query__: [["name", "=like", "RDM-BIG-%"]]
    ir.attachment.name:
    ir.attachment.datas:
    ir.attachment.mimetype:
"""

RATES_PLAN = """
format: 1
plan: Dates at the edges
options:
  unresolved: "null"
mapping:
  '*':
    res.currency.rate.__query__: [["rate", "in", [1.2345, 1.2346]]]
    res.currency.rate.name:
    res.currency.rate.rate:
    res.currency.rate.currency_id:
"""

GONE_PLAN = """
format: 1
plan: Gone records
mapping:
  '*':
    res.partner.__query__: [["ref", "=like", "GONE-%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.company_registry:
    mail.followers.__query__: [["partner_id.ref", "=", "GONE-F"]]
    mail.followers.res_model:
    mail.followers.res_id: __ref__ res_model
    mail.followers.partner_id:
"""

BIG_IDS_PLAN = """
format: 1
plan: Big ids
options:
  unresolved: "null"
mapping:
  '*':
    res.partner.industry.__query__: [["id", ">", 2147483647]]
    res.partner.industry.name:
    res.partner.__query__: [["ref", "=like", "BIGID-%"]]
    res.partner.name:
    res.partner.ref:
    res.partner.industry_id:
"""


class TestRunBadInput(RunCase):
    def test_a_20_mb_binary_migrates_intact(self):
        payload = os.urandom(20 * 1024 * 1024)
        (attachment_id,) = self.client.call(
            "ir.attachment",
            "create",
            [{"name": "RDM-BIG-1", "datas": base64.b64encode(payload).decode()}],
        )
        self.addCleanup(self.client.call, "ir.attachment", "unlink", [attachment_id])
        source = self.make_source("Big binary")
        source.timeout = 120
        run = self.env["migration.plan"].import_yaml(BINARY_PLAN, source=source).run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.summary()["ir.attachment"]["created"], 1)
        attachment = self.env["ir.attachment"].browse(
            self.target_of(source, "ir.attachment", attachment_id, "ir.attachment")
        )
        self.assertEqual(attachment.file_size, len(payload))
        self.assertEqual(attachment.checksum, hashlib.sha1(payload).hexdigest())
        self.assertEqual(attachment.raw, payload)

    def test_dates_at_the_edges_migrate_or_fail_alone(self):
        """Year 1 is a date for both sides; year 12345 is one PostgreSQL holds and Python
        cannot: the source fails to read that row, and only that row fails."""
        rows = self.server.sql(
            "INSERT INTO res_currency_rate (name, rate, currency_id, company_id)"
            " SELECT day::date, rate, c.id, 1 FROM res_currency c,"
            " (VALUES ('0001-01-01', 1.2345), ('12345-06-01', 1.2346)) AS v(day, rate)"
            " WHERE c.name = 'EUR' RETURNING id, rate"
        )
        ids = {rate: rate_id for rate_id, rate in rows}
        self.addCleanup(
            self.server.sql,
            "DELETE FROM res_currency_rate WHERE id = ANY(%s)",
            [list(ids.values())],
        )
        source = self.make_source("Dates")
        run = self.env["migration.plan"].import_yaml(RATES_PLAN, source=source).run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(
            run.summary()["res.currency.rate"],
            {
                "read": 1,
                "created": 1,
                "updated": 0,
                "unchanged": 0,
                "skipped": 0,
                "failed": 0,
                "unreadable": 1,
            },  # fmt: skip
        )
        year_one = self.env["res.currency.rate"].browse(
            self.target_of(source, "res.currency.rate", ids[1.2345], "res.currency.rate")
        )
        self.assertEqual(year_one.name, date(1, 1, 1))
        self.assertEqual(year_one.currency_id, self.env.ref("base.EUR"))
        failure = run.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(failure.source_res_id, ids[1.2346])
        self.assertEqual(failure.statement, "read")
        self.assertIn("the source cannot read this record", failure.message)
        self.assertIn("year 12345 is out of range", failure.message)

    def test_a_relation_to_a_gone_record_and_a_field_the_source_lacks(self):
        """A follower of a record deleted behind the ORM's back (what old databases hold):
        that row alone fails, naming the gone id; a field an older source does not have is
        left out, said once."""
        client = self.client
        follower, kept, gone = client.call(
            "res.partner",
            "create",
            [{"name": f"Gone test {n}", "ref": f"GONE-{n}"} for n in ("F", "KEPT", "GONE")],
        )
        self.addCleanup(client.call, "res.partner", "unlink", [follower, kept])
        client.call("res.partner", "message_subscribe", [kept, gone], partner_ids=[follower])
        # mail_followers.res_id has no foreign key: its rows outlive the record
        self.server.sql("DELETE FROM res_partner WHERE id = %s", [gone])
        self.addCleanup(
            self.server.sql, "DELETE FROM mail_followers WHERE partner_id = %s", [follower]
        )
        followers = dict(
            self.server.sql(
                "SELECT res_id, id FROM mail_followers WHERE partner_id = %s", [follower]
            )
        )
        source = self.make_source("Gone records")
        real_fields_get = type(client).fields_get

        def older_fields_get(transport, model, *args, **kwargs):
            described = real_fields_get(transport, model, *args, **kwargs)
            if model == "res.partner":
                described.pop("company_registry", None)  # as an older source would answer
            return described

        with patch.object(type(client), "fields_get", older_fields_get):
            plan = self.env["migration.plan"].import_yaml(GONE_PLAN, source=source)
            run = plan.run()
        self.assertEqual(run.state, "done", run.error)
        self.assertEqual(run.summary()["res.partner"]["created"], 2)
        self.assertEqual(
            run.summary()["mail.followers"],
            {
                "read": 2,
                "created": 1,
                "updated": 0,
                "unchanged": 0,
                "skipped": 0,
                "failed": 1,
                "unreadable": 0,
            },  # fmt: skip
        )
        failure = run.log_ids.filtered(lambda log: log.level == "error")
        self.assertEqual(failure.source_res_id, followers[gone])
        self.assertIn(f"res.partner {gone} has no target res.partner", failure.message)
        warnings = run.log_ids.filtered(lambda log: log.level == "warning").mapped("message")
        self.assertEqual(
            warnings, ["the source has no field company_registry: its statements are left out"]
        )
        migrated = self.env["mail.followers"].browse(
            self.target_of(source, "mail.followers", followers[kept], "mail.followers")
        )
        self.assertEqual(
            migrated.res_id, self.target_of(source, "res.partner", kept, "res.partner")
        )
        self.assertEqual(
            migrated.partner_id.id, self.target_of(source, "res.partner", follower, "res.partner")
        )

    def test_ids_beyond_32_bits(self):
        big_id = 2**31 + 6
        self.server.sql(
            "ALTER TABLE res_partner_industry ALTER COLUMN id TYPE bigint;"
            " ALTER TABLE res_partner ALTER COLUMN industry_id TYPE bigint;"
            " INSERT INTO res_partner_industry (id, name, active) VALUES (%s, %s, true)"
            " ON CONFLICT (id) DO NOTHING",
            [big_id, '{"en_US": "Beyond 32 bits"}'],
        )
        (partner_id,) = self.client.call(
            "res.partner", "create", [{"name": "Big id", "ref": "BIGID-1", "industry_id": big_id}]
        )
        self.addCleanup(self.client.call, "res.partner", "unlink", [partner_id])
        source = self.make_source("Big ids")
        run = self.env["migration.plan"].import_yaml(BIG_IDS_PLAN, source=source).run()
        self.assertEqual(run.state, "done", run.error)
        ((beyond,),) = self.server.sql(
            "SELECT count(*) FROM res_partner_industry WHERE id > 2147483647"
        )
        self.assertEqual(run.summary()["res.partner.industry"]["created"], beyond)
        self.assertEqual(run.summary()["res.partner"]["created"], 1)
        industry_id = self.target_of(source, "res.partner.industry", big_id, "res.partner.industry")
        self.assertTrue(industry_id)
        partner = self.env["res.partner"].browse(
            self.target_of(source, "res.partner", partner_id, "res.partner")
        )
        self.assertEqual(partner.industry_id.id, industry_id)
        self.assertEqual(partner.industry_id.name, "Beyond 32 bits")
