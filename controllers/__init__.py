from . import mapping_reference
