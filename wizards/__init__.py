from . import migration_plan_yaml
from . import migration_plan_generator
