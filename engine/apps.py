"""The models of applications on the source: what ``generate(apps=[...])`` starts from.

An application's models are those defined by its module and by the modules it depends on
that are neither applications themselves (``account`` under ``sale``) nor Odoo's framework
(``base``, ``mail``, ``portal``, ``payment``...). A model is defined by the first module
that registered it (the oldest ``model_*`` external id of its ``ir.model`` record).
"""

FRAMEWORK_MODULES = frozenset(
    {
        "base", "web", "mail", "bus", "portal", "digest", "onboarding", "base_setup",
        "http_routing", "auth_signup", "auth_totp", "auth_totp_mail", "auth_totp_portal",
        "iap", "iap_mail", "sms", "snailmail", "phone_validation", "privacy_lookup",
        "web_editor", "web_tour", "web_unsplash", "base_import", "base_import_module",
        "base_install_request", "google_gmail", "mail_bot", "partner_autocomplete",
        "resource", "barcodes", "barcodes_gs1_nomenclature", "payment", "account_payment",
        "spreadsheet", "spreadsheet_dashboard", "html_editor", "rpc", "uom_base",
    }
)  # fmt: skip


def app_modules(transport, apps):
    """The modules of ``apps`` (names): each app and its dependencies that are neither
    applications nor framework, installed on the source."""
    rows = transport.call(
        "ir.module.module",
        "search_read",
        [("state", "=", "installed")],
        ["name", "application", "dependencies_id"],
    )
    by_name = {row["name"]: row for row in rows}
    missing = sorted(set(apps) - set(by_name))
    if missing:
        raise ValueError(f"not installed on the source: {', '.join(missing)}")
    dependency_ids = sorted({i for row in rows for i in row["dependencies_id"]})
    names = {
        row["id"]: row["name"]
        for row in transport.call("ir.module.module.dependency", "read", dependency_ids, ["name"])
    }
    modules, queue = set(), list(apps)
    while queue:
        name = queue.pop()
        if name in modules or name not in by_name:
            continue
        modules.add(name)
        for dependency in (names.get(i) for i in by_name[name]["dependencies_id"]):
            row = by_name.get(dependency)
            if row and not row["application"] and dependency not in FRAMEWORK_MODULES:
                queue.append(dependency)
    return modules


def app_models(transport, apps):
    """The source models defined by the modules of ``apps``, transient ones left out."""
    modules = app_modules(transport, apps)
    xmlids = transport.call(
        "ir.model.data",
        "search_read",
        [("model", "=", "ir.model"), ("module", "in", sorted(modules))],
        ["res_id"],
    )
    model_ids = sorted({row["res_id"] for row in xmlids})
    first = {}
    for row in transport.call(
        "ir.model.data",
        "search_read",
        [("model", "=", "ir.model"), ("res_id", "in", model_ids)],
        ["module", "res_id"],
        order="id",
    ):
        first.setdefault(row["res_id"], row["module"])
    defined = [model_id for model_id, module in first.items() if module in modules]
    rows = transport.call("ir.model", "read", defined, ["model", "transient"])
    return sorted(row["model"] for row in rows if not row["transient"])
