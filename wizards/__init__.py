from . import migration_plan_yaml
from . import migration_plan_generator
from . import migration_run_wizard
from . import migration_rule_preview
