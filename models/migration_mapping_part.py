from odoo import api, models


class MigrationMappingPart(models.AbstractModel):
    """A part of a plan's mapping (a model rule, a statement): creating, changing or
    removing one sends its plan back to draft, for a new validation."""

    _name = "migration.mapping.part"
    _description = "Part of a Data Migration Plan's Mapping"
    # fields a validation writes, or the order of the lines: not a change of the mapping
    _not_mapping_fields = frozenset({"sequence"})

    @api.model_create_multi
    def create(self, vals_list):
        parts = super().create(vals_list)
        parts.plan_id._mapping_changed()
        return parts

    def write(self, vals):
        if set(vals) - self._not_mapping_fields:
            self.plan_id._mapping_changed()
        return super().write(vals)

    def unlink(self):
        plans = self.plan_id
        result = super().unlink()
        plans._mapping_changed()
        return result
