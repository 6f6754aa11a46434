"""Run INSIDE GIMP 3's GUI (under Xvfb) by harness.gimp_gui_preview: two Replace Sky runs on one
photo at once as a user starts them (the test's shortcut Ctrl+F12 in the image window, then OK
in the dialog, twice, while the first still waits on the slowed worker), then Ctrl+Z twice in
the image window (GIMP 3 has no procedure that undoes, nor one that reads the undo history).
Writes the layer stack after the runs and after each Ctrl+Z to /e2e/gui_preview.json, and the
most skyseg plug-in processes seen at once; then creates /e2e/done. (Two calls from two
threads of one script do not work: a plug-in's pipe to GIMP carries one call at a time.)"""

import json
import os
import subprocess
import threading
import time

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, Gio  # noqa: E402

IMAGE_WINDOW = "contains:[Untitled]"  # the photo loaded by a script has no file name
OK = ("310", "741")  # Replace Sky's OK button, as in test_hosts_gimp.PREVIEW_CLICKS
result = {"stacks": []}


def stack(image):
    """Each top-level item: its id, name and, for a group, its children's names."""
    return [
        {
            "id": item.get_id(),
            "name": item.get_name(),
            "children": [child.get_name() for child in item.get_children()]
            if item.is_group()
            else [],
        }
        for item in image.get_layers()
    ]


def save():
    with open("/e2e/gui_preview.json", "w") as fh:
        json.dump(result, fh)


def skyseg_processes():
    """The skyseg plug-in processes running now (GIMP starts one per call, with "-gimp" and
    its protocol's arguments), as their command lines. A plug-in's child between fork and exec
    (starting the worker) still shows its parent's command line: it is not counted."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                args = fh.read().decode(errors="replace").split("\0")
            with open(f"/proc/{pid}/stat") as fh:
                parent = fh.read().rsplit(")", 1)[1].split()[1]  # after "(comm)": state, ppid
        except (OSError, IndexError):
            continue  # ended meanwhile
        if "-gimp" in args and any(arg.endswith("/skyseg/skyseg.py") for arg in args):
            found[pid] = (parent, " ".join(args[:4]))
    return [line for parent, line in found.values() if parent not in found]


def watch(stop):
    while not stop.is_set():
        running = skyseg_processes()
        if len(running) > result.get("most_at_once", 0):
            result["most_at_once"], result["running_then"] = len(running), running
        time.sleep(0.1)


def press(window, key, delay=0):
    subprocess.run(["python3", "/e2e/click_window.py", window, key, "-", str(delay)], check=True)


def wait_for_change(image, before, seconds):
    deadline = time.monotonic() + seconds
    while stack(image) == before and time.monotonic() < deadline:
        time.sleep(0.2)


try:
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path("/e2e/photo.png"))
    photo = image.get_layers()[0]
    photo.set_name("photo")
    Gimp.Display.new(image)
    Gimp.displays_flush()
    image.clean_all()
    result["undo_procedures"] = [
        name
        for name in ("gimp-edit-undo", "gimp-image-undo", "gimp-edit-strong-undo")
        if Gimp.get_pdb().procedure_exists(name)
    ]
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(stop,))
    watcher.start()
    before = stack(image)
    for _ in range(2):  # Ctrl+F12 (the test's shortcut for Replace Sky), then OK in its dialog
        press(IMAGE_WINDOW, "Control+F12")
        subprocess.run(["python3", "/e2e/click_window.py", "Replace Sky", *OK, "4"], check=True)
        time.sleep(2)  # the dialog gone before the next one opens
    deadline = time.monotonic() + 180
    while (len(stack(image)) < 3 or skyseg_processes()) and time.monotonic() < deadline:
        time.sleep(0.2)  # both groups made and both runs ended
    stop.set()
    watcher.join()
    subprocess.run(["python3", "/e2e/grab_screen.py", "0", "/e2e/two_runs.png"], check=True)
    result["stacks"].append(stack(image))
    result["dirty"] = image.is_dirty()
    save()
    for _ in range(2):
        before = stack(image)
        press(IMAGE_WINDOW, "Control+z")
        wait_for_change(image, before, 20)
        time.sleep(1)  # a merged step would have taken more by now
        result["stacks"].append(stack(image))
        save()
    result["dirty_after_undo"] = image.is_dirty()
except Exception as exc:  # noqa: BLE001 - the test reads it instead of a silent timeout
    result["exception"] = f"{type(exc).__name__}: {exc}"
save()
open("/e2e/done", "w").close()
