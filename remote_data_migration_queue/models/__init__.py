from . import migration_plan
from . import migration_run
from . import migration_run_jobs
