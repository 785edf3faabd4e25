"""What a run left on the target next to what the source holds: the report an integrator
hands the accountant.

Per model, the source's records (the rule's domain) against the target records the id map
holds for them; with accounting on both sides, the trial balance (debit, credit and
balance per account code of the posted items) and the balance of each partner. Plain
Python: the models layer gives it the source's client and the target's sums.
"""

from dataclasses import dataclass, field

CENT = 0.005


@dataclass
class Comparison:
    models: list = field(default_factory=list)  # (model, source count, target count)
    trial_balance: list = field(default_factory=list)  # (code, source (d, c, b), target (d, c, b))
    partners: list = field(default_factory=list)  # (partner, source balance, target balance)
    differences: list = field(default_factory=list)  # sentences

    @property
    def equal(self):
        return not self.differences


def compare_counts(comparison, counts):
    """``counts``: [(model, source count, target count)]."""
    for model, source_count, target_count in counts:
        comparison.models.append((model, source_count, target_count))
        if source_count != target_count:
            comparison.differences.append(
                f"{model}: {source_count} records on the source, {target_count} migrated on the target"
            )


def source_trial_balance(transport, context=None):
    """``({account code: (debit, credit, balance)}, {partner id: balance})`` of the posted
    journal items of the source, in two ``read_group``."""
    domain = [("parent_state", "=", "posted")]
    sums = ["debit:sum", "credit:sum", "balance:sum"]
    by_account = transport.call(
        "account.move.line", "read_group", domain, sums, ["account_id"], lazy=False, context=context
    )
    account_ids = [group["account_id"][0] for group in by_account if group["account_id"]]
    codes = {
        row["id"]: row["code"]
        for row in transport.call("account.account", "read", account_ids, ["code"], context=context)
    }
    accounts = {
        codes[group["account_id"][0]]: (group["debit"], group["credit"], group["balance"])
        for group in by_account
        if group["account_id"]
    }
    by_partner = transport.call(
        "account.move.line", "read_group", domain, ["balance:sum"], ["partner_id"], lazy=False,
        context=context,
    )  # fmt: skip
    partners = {
        group["partner_id"][0] if group["partner_id"] else False: group["balance"]
        for group in by_partner
    }
    return accounts, partners


def compare_balances(comparison, source, target, partner_names):
    """``source`` and ``target``: ``(accounts, partners)`` as ``source_trial_balance`` gives
    them, the target's partners already keyed by the source's ids; ``partner_names``:
    ``{source partner id: name}``."""
    source_accounts, source_partners = source
    target_accounts, target_partners = target
    for code in sorted(set(source_accounts) | set(target_accounts)):
        left = source_accounts.get(code, (0.0, 0.0, 0.0))
        right = target_accounts.get(code, (0.0, 0.0, 0.0))
        comparison.trial_balance.append((code, left, right))
        if any(abs(a - b) >= CENT for a, b in zip(left, right, strict=True)):
            comparison.differences.append(
                f"account {code}: debit {left[0]:.2f}, credit {left[1]:.2f} on the source; "
                f"debit {right[0]:.2f}, credit {right[1]:.2f} on the target"
            )
    for partner in sorted(set(source_partners) | set(target_partners), key=str):
        left, right = source_partners.get(partner, 0.0), target_partners.get(partner, 0.0)
        name = partner_names.get(partner) or ("no partner" if not partner else str(partner))
        comparison.partners.append((name, left, right))
        if abs(left - right) >= CENT:
            comparison.differences.append(
                f"partner {name}: balance {left:.2f} on the source, {right:.2f} on the target"
            )
