# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Remote Data Migration: Scale Out on Job Queue",
    "summary": "A background run of remote_data_migration as a graph of queue_job jobs over "
    "source id ranges, carried out by every Odoo worker of every server",
    "version": "18.0.1.0.0",
    "category": "Tools",
    "license": "LGPL-3",
    "author": "remote_data_migration developers",
    "website": "https://github.com/remote-data-migration/remote_data_migration",
    "depends": ["remote_data_migration", "queue_job"],
    "data": [
        "data/queue_job_data.xml",
        "views/migration_run_views.xml",
        "views/migration_plan_views.xml",
    ],
    "auto_install": True,
    "installable": True,
}
