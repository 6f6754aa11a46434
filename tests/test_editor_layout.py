"""The editor's window layout kept across sessions and its Help menu (issue 26, point 5), driven
through the real widgets (pytest-qt, offscreen; settings in a temporary folder)."""

from __future__ import annotations

import test_editor
from PyQt6.QtCore import Qt

dialogs, editor = test_editor.dialogs, test_editor.editor  # the editor's fixtures


def new_window(qtbot):
    from effects_gui.window import MainWindow

    window = MainWindow(proxy_long_side=256)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_window_size_and_splitter_are_kept_for_the_next_session(qtbot, dialogs):
    first = new_window(qtbot)
    assert first.isMaximized(), "the first time on a small screen (offscreen's is 800x800)"
    first.showNormal()
    first.resize(700, 560)
    splitter = first.sky_panel.splitter
    sizes = splitter.sizes()
    splitter.setSizes([sizes[0] + 120, sizes[1] - 120])
    kept = splitter.sizes()
    qtbot.wait(20)
    assert first.close(), "nothing unsaved: it closes"

    second = new_window(qtbot)
    try:
        assert (second.width(), second.height()) == (700, 560) and not second.isMaximized()
        assert second.sky_panel.splitter.sizes() == kept
    finally:
        second.shutdown()


def test_help_lists_every_shortcut_from_the_actions(qtbot, editor):
    qtbot.keyClick(editor, Qt.Key.Key_F1)
    box = editor.shortcuts_box
    qtbot.waitUntil(box.isVisible)
    table = box.table
    rows = {table.item(r, 1).text(): table.item(r, 0).text() for r in range(table.rowCount())}
    assert rows["Harder brush"] == "Ctrl+]" and rows["Softer brush"] == "Ctrl+["
    assert rows["Zoom in"].startswith("Ctrl+=") and rows["Find sky"] == "Ctrl+R"
    assert "Space + drag" in [table.item(r, 0).text() for r in range(table.rowCount())]
    menus = [a.text() for a in editor.menuBar().actions()]
    assert menus[-1] == "&Help"
    box.close()


def test_every_tool_fits_the_default_window_and_split_is_no_chevron(qtbot, editor):
    from PyQt6.QtWidgets import QStyle, QToolBar

    assert (editor.width(), editor.height()) == (1280, 820)
    bar = editor.findChild(QToolBar, "mainToolbar")
    hidden = [
        a.text() or a.objectName()
        for a in bar.actions()
        if bar.widgetForAction(a) is not None and not bar.widgetForAction(a).isVisible()
    ]
    assert hidden == [], f"behind the overflow chevron: {hidden}"
    chevron = editor.style().standardIcon(QStyle.StandardPixmap.SP_ToolBarHorizontalExtensionButton)
    split = editor.split_action.icon()
    assert not split.isNull()
    assert split.pixmap(32, 32).toImage() != chevron.pixmap(32, 32).toImage()


def test_long_tooltips_are_wrapped(qtbot, editor):
    from PyQt6.QtCore import QEvent
    from PyQt6.QtGui import QHelpEvent
    from PyQt6.QtWidgets import QApplication, QToolTip

    control = editor.brush_panel.matte_form.controls["close_gaps"]
    text = control.toolTip()
    assert len(text) > 100 and not Qt.mightBeRichText(text), "a long plain tip"
    editor.show_panel(editor.brush_panel)
    centre = control.rect().center()
    event = QHelpEvent(QEvent.Type.ToolTip, centre, control.mapToGlobal(centre))
    QApplication.sendEvent(control, event)
    qtbot.waitUntil(QToolTip.isVisible)
    shown = QToolTip.text()
    assert shown.startswith("<p>") and "detail stage" in shown, "shown as a paragraph Qt wraps"
    assert control.toolTip() == text, "the widget keeps its own text"
    QToolTip.hideText()


def test_methods_are_offered_by_plain_names_with_the_technical_one_in_the_tip(editor):
    from skyseg_core.methods import PLAIN_NAMES

    combo = editor.method_combo
    i = combo.findData("color")
    assert combo.itemText(i) == PLAIN_NAMES["color"] != "color"
    assert combo.itemData(i, Qt.ItemDataRole.ToolTipRole).startswith("color: ")
