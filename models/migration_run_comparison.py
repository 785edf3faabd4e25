"""The comparison of a run: source against target, per model and, with accounting, the
trial balance and the partners' balances, kept on the run as a report."""

from markupsafe import Markup

from odoo import fields, models
from odoo.exceptions import UserError

from ..engine.comparison import (
    Comparison,
    compare_balances,
    compare_counts,
    source_trial_balance,
)
from ..engine.transport import RemoteError


class MigrationRun(models.Model):
    _inherit = "migration.run"

    comparison = fields.Html(
        readonly=True, sanitize=False, help="The last comparison with the source"
    )
    compared_at = fields.Datetime(readonly=True)
    compared_equal = fields.Boolean(
        readonly=True, string="Equal to the Source", help="The last comparison found no difference"
    )

    def compare(self):
        """Compare the target with the source: per model, the source's records (less those
        the plan skips on purpose) against the records migrated; with accounting, the trial
        balance per account code and the balance per partner. Returns the ``Comparison``;
        the report is kept on the run."""
        self.ensure_one()
        try:
            transport = self.source_id._transport()
            result = Comparison()
            compare_counts(result, self._compared_counts(transport))
            if "account.move.line" in self.env and self._source_has(transport, "account.move.line"):
                self._compare_accounting(result, transport)
        except RemoteError as exc:
            raise UserError(self.source_id._remote_failure_message(exc)) from exc
        self.write(
            {
                "comparison": _report(result),
                "compared_at": fields.Datetime.now(),
                "compared_equal": result.equal,
            }
        )
        return result

    def action_compare(self):
        result = self.compare()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if result.equal else "warning",
                "message": self.env._("Equal to the source.")
                if result.equal
                else self.env._("%s differences: see the Comparison tab.", len(result.differences)),
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def _compared_counts(self, transport):
        context = {"active_test": False}
        counts = []
        for line in self.model_ids.sorted("sequence"):
            rule = self.plan_id.model_rule_ids.filtered(
                lambda r, m=line.source_model: r.source_model == m
            )[:1]
            source = transport.search_count(
                line.source_model, rule._domain_list() or [], context=context
            )
            skipped = len(
                set(
                    self.log_ids.filtered(
                        lambda log, m=line.source_model: log.source_model == m
                        and log.level == "info"
                        and log.message.startswith("skipped:")
                    ).mapped("source_res_id")
                )
            )
            counts.append((line.source_model, source - skipped, self._migrated_count(line)))
        return counts

    def _migrated_count(self, line):
        """The target records the id map holds for the source records of ``line``."""
        target = self.env[line.target_model]
        self.env.cr.execute(
            f'SELECT count(DISTINCT m.source_res_id) FROM migration_id_map m JOIN "{target._table}" t'
            " ON t.id = m.target_res_id WHERE m.source_id = %s AND m.source_model = %s"
            " AND m.target_model = %s",
            [self.source_id.id, line.source_model, line.target_model],
        )
        return self.env.cr.fetchone()[0]

    def _source_has(self, transport, model):
        try:
            transport.search_count(model, [("id", "=", 0)])
        except RemoteError as exc:
            if exc.kind != "server":
                raise
            return False
        return True

    def _compare_accounting(self, result, transport):
        source = source_trial_balance(transport, {"active_test": False})
        lines = self.env["account.move.line"].with_context(active_test=False)
        domain = [("parent_state", "=", "posted")]
        accounts = {
            account.code: (debit, credit, balance)
            for account, debit, credit, balance in lines._read_group(
                domain, ["account_id"], ["debit:sum", "credit:sum", "balance:sum"]
            )
        }
        to_source = {
            target_id: source_id
            for (source_id, _model), target_id in self._id_map_of("res.partner").items()
        }
        partners = {}
        for partner, balance in lines._read_group(domain, ["partner_id"], ["balance:sum"]):
            key = to_source.get(partner.id, f"target {partner.id}") if partner else False
            partners[key] = partners.get(key, 0.0) + balance
        source_ids = [key for key in set(source[1]) | set(partners) if isinstance(key, int) and key]
        names = {
            row["id"]: row["display_name"]
            for row in transport.call(
                "res.partner", "read", source_ids, ["display_name"], context={"active_test": False}
            )
        }
        compare_balances(result, source, (accounts, partners), names)

    def _id_map_of(self, source_model):
        self.env.cr.execute(
            "SELECT source_res_id, target_model, target_res_id FROM migration_id_map"
            " WHERE source_id = %s AND source_model = %s AND target_model = %s",
            [self.source_id.id, source_model, source_model],
        )
        return {
            (source_id, model): target_id for source_id, model, target_id in self.env.cr.fetchall()
        }


def _report(result):
    """The comparison as HTML tables, differences first."""
    cell = Markup("<td>%s</td>")

    def table(header, rows):
        head = Markup("").join(Markup("<th>%s</th>") % name for name in header)
        body = Markup("").join(
            Markup("<tr>%s</tr>") % Markup("").join(cell % value for value in row) for row in rows
        )
        return Markup("<table class='table table-sm'><tr>%s</tr>%s</table>") % (head, body)

    parts = [
        Markup("<p><strong>%s</strong></p>")
        % ("Equal to the source" if result.equal else f"{len(result.differences)} differences")
    ]
    if result.differences:
        parts.append(
            Markup("<ul>%s</ul>")
            % Markup("").join(Markup("<li>%s</li>") % d for d in result.differences)
        )
    parts.append(table(("model", "source", "target"), result.models))
    if result.trial_balance:
        rows = [
            (
                code,
                f"{s[0]:.2f}",
                f"{s[1]:.2f}",
                f"{s[2]:.2f}",
                f"{t[0]:.2f}",
                f"{t[1]:.2f}",
                f"{t[2]:.2f}",
            )
            for code, s, t in result.trial_balance
        ]
        header = ("account", "source debit", "source credit", "source balance",
                  "target debit", "target credit", "target balance")  # fmt: skip
        parts.append(table(header, rows))
        parts.append(
            table(
                ("partner", "source balance", "target balance"),
                [(name, f"{s:.2f}", f"{t:.2f}") for name, s, t in result.partners],
            )  # fmt: skip
        )
    return Markup("").join(parts)
