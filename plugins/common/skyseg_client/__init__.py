"""Client for the ``skyseg worker`` process, shared by the GIMP and Krita plug-ins.

Standard library only: it runs inside the hosts' own Pythons (GIMP 3: the system python3;
Krita: its embedded Python), which have no numpy. The one source of this package is
``plugins/common/skyseg_client/`` in the skyseg repository; ``skyseg install-plugin`` copies the
folder next to each plug-in, which puts it on ``sys.path`` and imports ``skyseg_client``.

One module per role, the public names gathered here:

- :mod:`.contract`: what the worker and the plug-ins must agree on (protocol version, the names
  of the files ``install-plugin`` writes);
- :mod:`.errors`: :class:`WorkerError` and its kinds;
- :mod:`.launch`: the recorded configuration, the worker's command line, environment and log;
- :mod:`.client`: :class:`SkysegClient`, the supervised worker process and its requests;
- :mod:`.shared`: the per-user shared worker on a Unix socket (GIMP's short-lived processes);
- :mod:`.pixels`: the pixel exchange, binary Netpbm;
- :mod:`.controls`: the parameter schema and the controls both plug-ins build from it;
- :mod:`.preview`: the live preview on a working copy with a cached matte (:class:`Preview`,
  :class:`LatestRender`).
"""

from .client import SkysegClient
from .contract import CONFIG_NAME, PROTOCOL_VERSION, SCHEMA_NAME
from .controls import (
    SKY_FILE,
    SKY_NONE,
    STOP_LABELS,
    control_defaults,
    default_look,
    effect_actions,
    effect_controls,
    effect_identity,
    effect_looks,
    effect_names,
    effect_params,
    load_schema,
    look_values,
    method_choices,
    rgba_actions,
    sky_choices,
    source_controls,
)
from .errors import (
    RequestFailed,
    SharedUnavailable,
    WorkerDied,
    WorkerError,
    WorkerNotConfigured,
    WorkerTimeout,
)
from .launch import LOG_MAX_BYTES, default_log_path, load_config, worker_command
from .pixels import ORIGINAL_LAYER, read_layers, read_netpbm, require_sky, write_netpbm
from .preview import LONG_SIDE, LatestRender, Preview, RenderResult, working_size
from .shared import shared_socket_path

__all__ = [
    "CONFIG_NAME",
    "LONG_SIDE",
    "LOG_MAX_BYTES",
    "ORIGINAL_LAYER",
    "PROTOCOL_VERSION",
    "SCHEMA_NAME",
    "LatestRender",
    "Preview",
    "RenderResult",
    "SKY_FILE",
    "SKY_NONE",
    "STOP_LABELS",
    "RequestFailed",
    "SharedUnavailable",
    "SkysegClient",
    "WorkerDied",
    "WorkerError",
    "WorkerNotConfigured",
    "WorkerTimeout",
    "control_defaults",
    "default_log_path",
    "default_look",
    "effect_actions",
    "effect_controls",
    "effect_identity",
    "effect_looks",
    "effect_names",
    "effect_params",
    "load_config",
    "load_schema",
    "look_values",
    "method_choices",
    "rgba_actions",
    "read_layers",
    "read_netpbm",
    "require_sky",
    "shared_socket_path",
    "sky_choices",
    "source_controls",
    "worker_command",
    "working_size",
    "write_netpbm",
]
