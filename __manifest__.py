# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Remote Data Migration",
    "summary": "Move data from another Odoo database, of any version, over its external API",
    "version": "18.0.1.0.0",
    "category": "Tools",
    "license": "LGPL-3",
    "author": "remote_data_migration developers",
    "website": "https://github.com/remote-data-migration/remote_data_migration",
    "depends": ["base", "mail"],
    "external_dependencies": {"python": ["pyyaml"]},
    "data": [
        "security/remote_data_migration_security.xml",
        "security/ir.model.access.csv",
        "views/migration_source_views.xml",
        "views/migration_plan_views.xml",
        "views/migration_run_views.xml",
        "views/remote_data_migration_menus.xml",
    ],
    "application": True,
    "installable": True,
}
