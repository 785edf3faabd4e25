from . import migration_source
from . import migration_plan
from . import migration_plan_finding
from . import migration_model_rule
from . import migration_field_rule
from . import migration_run
