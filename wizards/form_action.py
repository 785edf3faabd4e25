def open_form(record):
    """The action showing ``record`` in its form view: where a wizard lands when done."""
    record.ensure_one()
    return {
        "type": "ir.actions.act_window",
        "res_model": record._name,
        "res_id": record.id,
        "view_mode": "form",
        "target": "current",
    }
