from . import migration_source
from . import migration_plan
from . import migration_run
