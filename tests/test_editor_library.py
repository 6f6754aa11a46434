"""The sky library of issue 26 (point 5), driven through the real widgets (pytest-qt, offscreen;
the library and its thumbnails in temporary folders): larger thumbnails with a hover preview,
a search box and categories, rename, and no duplicate names."""

from __future__ import annotations

import test_editor
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QInputDialog, QMenu
from test_editor import WAIT_MS, drop, gradient_sky, open_synthetic

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


def shown(view) -> list[str]:
    return [view.item(i).text() for i in range(view.count()) if not view.item(i).isHidden()]


def test_library_search_categories_rename_and_distinct_names(
    qtbot, editor, dialogs, tmp_path, monkeypatch
):
    from effects_gui.library import SkyLibrary, config_dir

    m, _ = open_synthetic(qtbot, editor, tmp_path)
    c, panel = editor.controller, editor.sky_panel
    view = panel.library
    qtbot.waitUntil(lambda: c.library_loads > 0, timeout=WAIT_MS)
    bundled = view.count()
    assert view.iconSize().width() > 96 and view.iconSize().height() > 60, "larger thumbnails"
    assert "<img" in view.item(0).toolTip(), "a larger preview on hover"

    # two of the user's skies with the same file name: told apart by their folders
    for folder in ("trip", "home"):
        loads = c.library_loads
        drop(view.viewport(), gradient_sky(tmp_path / folder / "dawn.png"))
        qtbot.waitUntil(lambda n=loads: c.library_loads > n and m.sky is not None, timeout=WAIT_MS)
    assert shown(view)[bundled:] == ["dawn (trip)", "dawn (home)"]

    # search (every word, in the name or the file) and categories
    qtbot.keyClicks(panel.search, "golden")
    assert shown(view) == ["golden hour"]
    panel.search.clear()
    panel.category.setCurrentIndex(panel.category.findData("own"))
    assert shown(view) == ["dawn (trip)", "dawn (home)"]
    qtbot.keyClicks(panel.search, "home")
    assert shown(view) == ["dawn (home)"]
    panel.category.setCurrentIndex(panel.category.findData("bundled"))
    assert shown(view) == []
    panel.search.clear()
    assert len(shown(view)) == bundled

    # rename from the context menu; kept for the next session
    panel.category.setCurrentIndex(panel.category.findData("all"))
    item = view.item(bundled)
    source = item.data(Qt.ItemDataRole.UserRole)
    monkeypatch.setattr(QMenu, "exec", lambda menu, *a: menu.actions()[0])  # "Rename…"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Red dawn over the lake", True))
    loads = c.library_loads
    view.customContextMenuRequested.emit(view.visualItemRect(item).center())
    qtbot.waitUntil(lambda: c.library_loads > loads, timeout=WAIT_MS)
    assert shown(view)[bundled:] == ["Red dawn over the lake", "dawn"], "no longer a duplicate"
    again = SkyLibrary(config_dir(), None)
    assert {e.source: e.label for e in again.entries()}[source] == "Red dawn over the lake"
    qtbot.waitUntil(lambda: c.render_job is None, timeout=WAIT_MS)
