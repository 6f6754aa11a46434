"""What the worker and the plug-ins must agree on, declared once here.

``skyseg_core.resources.plugin_contract`` reads these three assignments (parsed, not run: the
client cannot import skyseg, nor skyseg this package), so they stay plain literals.
"""

CONFIG_NAME = "skyseg_worker.json"
SCHEMA_NAME = "skyseg_schema.json"
PROTOCOL_VERSION = 2
