"""Plain Python that the models call: no Odoo models, unit-testable with a fake source."""
