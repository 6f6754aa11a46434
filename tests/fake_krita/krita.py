"""A small stand-in for Krita's ``krita`` module: enough of the scripting API for the plug-in.

It keeps pixels the way Krita hands them out (8-bit RGBA layers as B, G, R, A bytes; masks and
selections one byte per pixel) so the plug-in's adapter and logic run unchanged in tests.
Child nodes are listed bottom to top and ``addChildNode(child, above)`` puts ``child`` directly
above ``above`` (at the bottom when ``above`` is None), as in Krita.
"""

from __future__ import annotations

import itertools

_ids = itertools.count(1)


class _Pixels:
    def __init__(self, width, height, channels):
        self.width, self.height, self.channels = width, height, channels
        self.data = bytearray(width * height * channels)

    def get(self, x, y, w, h):
        c, out = self.channels, bytearray()
        for row in range(y, y + h):
            start = (row * self.width + x) * c
            out += self.data[start : start + w * c]
        return bytes(out)

    def set(self, data, x, y, w, h):
        c = self.channels
        if len(data) < w * h * c:
            raise ValueError("not enough data to write to the paint device")
        for i, row in enumerate(range(y, y + h)):
            start = (row * self.width + x) * c
            self.data[start : start + w * c] = data[i * w * c : (i + 1) * w * c]


class Selection:
    def __init__(self, width=0, height=0):
        self._pixels = None

    def setPixelData(self, data, x, y, w, h):
        if self._pixels is None:
            self._pixels = _Pixels(x + w, y + h, 1)
        self._pixels.set(data, x, y, w, h)

    def pixelData(self, x, y, w, h):
        return self._pixels.get(x, y, w, h) if self._pixels else b""


class Node:
    def __init__(self, doc, name, node_type, channels):
        self._doc, self._name, self._type = doc, name, node_type
        self._children: list[Node] = []
        self._parent: Node | None = None
        self._pixels = _Pixels(doc.width(), doc.height(), channels) if channels else None
        self._id = next(_ids)
        self._space = ("RGBA", "U8") if channels == 4 else ("GRAYA", "U8")

    def name(self):
        return self._name

    def setName(self, name):
        self._name = name

    def type(self):
        return self._type

    def uniqueId(self):
        return self._id

    def colorModel(self):
        return self._space[0]

    def colorDepth(self):
        return self._space[1]

    def setColorSpace(self, model, depth, profile):
        self._space = (model, depth)
        return True

    def parentNode(self):
        return self._parent

    def childNodes(self):
        return list(self._children)

    def addChildNode(self, child, above):
        if child._parent is not None:
            raise RuntimeError("node already has a parent")
        index = 0 if above is None else self._children.index(above) + 1
        self._children.insert(index, child)
        child._parent = self
        return True

    def pixelData(self, x, y, w, h):
        return self._pixels.get(x, y, w, h) if self._pixels else b""

    _blending, _opacity, _visible = "normal", 255, True

    def blendingMode(self):
        return self._blending

    def setBlendingMode(self, mode):
        self._blending = mode

    def opacity(self):
        return self._opacity

    def setOpacity(self, value):
        self._opacity = value

    def visible(self):
        return self._visible

    def setVisible(self, value):
        self._visible = value

    def setPixelData(self, data, x, y, w, h):
        if self._pixels is not None:
            self._pixels.set(bytes(data), x, y, w, h)
        return self._pixels is not None

    def thumbnail(self, w, h):  # pragma: no cover - only for non-8-bit layers
        raise NotImplementedError


class SelectionMask(Node):
    def setSelection(self, selection):
        self._pixels = _Pixels(self._doc.width(), self._doc.height(), 1)
        self._pixels.set(
            selection.pixelData(0, 0, self._doc.width(), self._doc.height()),
            0,
            0,
            self._doc.width(),
            self._doc.height(),
        )

    def selection(self):
        s = Selection()
        s.setPixelData(
            self.pixelData(0, 0, self._doc.width(), self._doc.height()),
            0,
            0,
            self._doc.width(),
            self._doc.height(),
        )
        return s


class TransparencyMask(SelectionMask):
    pass


class Document:
    """``api_version`` "5.2" has createTransparencyMask; "5.1" (Debian 12's Krita) has not."""

    def __init__(self, width, height, api_version="5.2"):
        self._width, self._height = width, height
        self._root = Node(self, "root", "grouplayer", 0)
        self._active = None
        self._selection = None
        self.refreshes = 0
        if api_version == "5.2":
            self.createTransparencyMask = lambda name: TransparencyMask(
                self, name, "transparencymask", 0
            )

    def width(self):
        return self._width

    def height(self):
        return self._height

    def rootNode(self):
        return self._root

    def activeNode(self):
        return self._active

    def setActiveNode(self, node):
        self._active = node

    def createNode(self, name, node_type):
        if node_type == "paintlayer":
            return Node(self, name, node_type, 4)
        if node_type == "transparencymask":  # Krita 5.1: a mask without pixels, as the real one
            return Node(self, name, node_type, 0)
        raise ValueError(node_type)

    def createGroupLayer(self, name):
        return Node(self, name, "grouplayer", 0)

    def createSelectionMask(self, name):
        return SelectionMask(self, name, "selectionmask", 0)

    def setSelection(self, selection):
        self._selection = selection

    def selection(self):
        return self._selection

    def refreshProjection(self):
        self.refreshes += 1

    def waitForDone(self):
        pass


class _Signal:
    def __init__(self):
        self.slots = []

    def connect(self, slot):
        self.slots.append(slot)


class _Notifier:
    def __init__(self):
        self.applicationClosing = _Signal()
        self.windowCreated = _Signal()


class Krita:
    _instance = None

    def __init__(self):
        self.document = None
        self.settings = {}
        self.extensions = []
        self.docker_factories = []
        self._notifier = _Notifier()

    @classmethod
    def instance(cls):
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def activeDocument(self):
        return self.document

    def activeWindow(self):
        return None

    def action(self, name):
        return None

    def notifier(self):
        return self._notifier

    def readSetting(self, group, name, default):
        return self.settings.get((group, name), default)

    def writeSetting(self, group, name, value):
        self.settings[(group, name)] = value

    def addExtension(self, extension):
        self.extensions.append(extension)

    def addDockWidgetFactory(self, factory):
        self.docker_factories.append(factory)


class Extension:
    def __init__(self, parent=None):
        self.parent = parent


try:  # Krita's DockWidget is a QDockWidget
    from PyQt6.QtWidgets import QDockWidget as _DockBase
except ImportError:  # pragma: no cover
    from PyQt5.QtWidgets import QDockWidget as _DockBase


class DockWidget(_DockBase):
    def canvasChanged(self, canvas):  # pragma: no cover - Krita calls it
        pass


class DockWidgetFactoryBase:
    DockRight = 1


class DockWidgetFactory:
    def __init__(self, name, area, cls):
        self.name, self.area, self.cls = name, area, cls


class InfoObject:
    pass
