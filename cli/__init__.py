from . import data_migrate
