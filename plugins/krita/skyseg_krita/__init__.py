"""skyseg for Krita: sky masks, sky replacement, tint and relighting.

Krita imports this package from its pykrita folder (``skyseg install-plugin krita``). It uses
only Krita's API, PyQt and the standard library; the sky work runs in a ``skyseg worker``
process started from the skyseg environment recorded in ``skyseg_worker.json``.
"""

from krita import DockWidgetFactory, DockWidgetFactoryBase, Krita

from .docker import SkysegDocker
from .extension import DOCKER_ID, SkysegExtension

_app = Krita.instance()
extension = SkysegExtension(_app)
_app.addExtension(extension)
_app.addDockWidgetFactory(
    DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, SkysegDocker)
)
