from odoo import fields, models


class MigrationRunTally(models.AbstractModel):
    """What a part of a run counted and where its time went.

    A range keeps what the job working on it adds, in its own row: jobs side by side never
    write the same row. A model line holds the sum of its ranges (``_fold_ranges``).
    """

    _name = "migration.run.tally"
    _description = "Data Migration Run Counters"

    read_count = fields.Integer(string="Read", default=0)
    created_count = fields.Integer(string="Created", default=0)
    updated_count = fields.Integer(string="Updated", default=0)
    unchanged_count = fields.Integer(string="Unchanged", default=0)
    skipped_count = fields.Integer(string="Skipped", default=0)
    failed_count = fields.Integer(string="Failed", default=0)
    unreadable_count = fields.Integer(
        string="Unreadable", default=0, help="Rows the source could not send (not counted as read)"
    )
    seconds = fields.Float(digits=(16, 2), default=0.0)
    read_seconds = fields.Float(string="Reading", digits=(16, 2), default=0.0)
    resolve_seconds = fields.Float(string="Resolving", digits=(16, 2), default=0.0)
    transform_seconds = fields.Float(string="Transforming", digits=(16, 2), default=0.0)
    write_seconds = fields.Float(string="Writing", digits=(16, 2), default=0.0)
    id_map_seconds = fields.Float(string="Id Map", digits=(16, 2), default=0.0)
    second_pass_seconds = fields.Float(string="Second Pass s", digits=(16, 2), default=0.0)
    checkpoint_seconds = fields.Float(string="Checkpoints", digits=(16, 2), default=0.0)
