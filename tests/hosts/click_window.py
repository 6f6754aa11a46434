"""Click inside an X window found by its title, as a user would (for screenshots under Xvfb,
which has no window manager and no xdotool): click_window.py TITLE X Y [DELAY], the delay in
seconds before looking for the window (then waiting up to a minute for it to appear);
click_window.py TITLE KEY - [DELAY] presses KEY in it instead (Escape, or with Control: Control+z).
A TITLE "contains:TEXT" is any window whose title holds TEXT (GIMP's image window title changes).

Sends the pointer's enter, press and release events with libX11 (ctypes; the chroot has no
libXtst). The target must take core events: GTK 3 does with GDK_CORE_DEVICE_EVENTS=1.
"""

import ctypes
import sys
import time

X11 = ctypes.cdll.LoadLibrary("libX11.so.6")
X11.XOpenDisplay.restype = ctypes.c_void_p
X11.XOpenDisplay.argtypes = [ctypes.c_char_p]
X11.XDefaultRootWindow.restype = ctypes.c_ulong
X11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
X11.XQueryTree.argtypes = [
    ctypes.c_void_p,
    ctypes.c_ulong,
    ctypes.POINTER(ctypes.c_ulong),
    ctypes.POINTER(ctypes.c_ulong),
    ctypes.POINTER(ctypes.POINTER(ctypes.c_ulong)),
    ctypes.POINTER(ctypes.c_uint),
]
X11.XFetchName.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.POINTER(ctypes.c_char_p)]
X11.XSendEvent.argtypes = [
    ctypes.c_void_p,
    ctypes.c_ulong,
    ctypes.c_int,
    ctypes.c_long,
    ctypes.c_void_p,
]
X11.XFlush.argtypes = [ctypes.c_void_p]
X11.XKeysymToKeycode.argtypes = [ctypes.c_void_p, ctypes.c_ulong]
X11.XKeysymToKeycode.restype = ctypes.c_ubyte
X11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
X11.XInternAtom.restype = ctypes.c_ulong
X11.XGetWindowProperty.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
X11.XGetWindowProperty.argtypes += [ctypes.c_long, ctypes.c_long, ctypes.c_int, ctypes.c_ulong]
X11.XGetWindowProperty.argtypes += [ctypes.c_void_p] * 5
X11.XStringToKeysym.argtypes = [ctypes.c_char_p]
X11.XStringToKeysym.restype = ctypes.c_ulong

KEY_PRESS, KEY_RELEASE, BUTTON_PRESS, BUTTON_RELEASE, ENTER_NOTIFY = 2, 3, 4, 5, 7
CONTROL_MASK = 1 << 2


class ButtonEvent(ctypes.Structure):  # XButtonEvent; XKeyEvent is the same, XCrossingEvent
    # shares its first fields
    _fields_ = [
        ("type", ctypes.c_int),
        ("serial", ctypes.c_ulong),
        ("send_event", ctypes.c_int),
        ("display", ctypes.c_void_p),
        ("window", ctypes.c_ulong),
        ("root", ctypes.c_ulong),
        ("subwindow", ctypes.c_ulong),
        ("time", ctypes.c_ulong),
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("x_root", ctypes.c_int),
        ("y_root", ctypes.c_int),
        ("state", ctypes.c_uint),
        ("button", ctypes.c_uint),
        ("same_screen", ctypes.c_int),
        ("pad", ctypes.c_long * 24),  # XEvent is a 24-long union
    ]


def windows(display, window):
    root, parent = ctypes.c_ulong(), ctypes.c_ulong()
    children, count = ctypes.POINTER(ctypes.c_ulong)(), ctypes.c_uint()
    if X11.XQueryTree(
        display,
        window,
        ctypes.byref(root),
        ctypes.byref(parent),
        ctypes.byref(children),
        ctypes.byref(count),
    ):
        for i in range(count.value):
            yield children[i]
            yield from windows(display, children[i])


def title_of(display, window):
    """The window's UTF-8 title (_NET_WM_NAME: GTK's WM_NAME is only a fallback when the title
    is not Latin-1, as GIMP's image window's is), else WM_NAME, else None."""
    kind, size, count, left = ctypes.c_ulong(), ctypes.c_int(), ctypes.c_ulong(), ctypes.c_ulong()
    data = ctypes.POINTER(ctypes.c_ubyte)()
    atom = X11.XInternAtom(display, b"_NET_WM_NAME", 0)
    if (
        X11.XGetWindowProperty(
            display,
            window,
            atom,
            0,
            4096,
            0,
            0,
            *map(ctypes.byref, (kind, size, count, left, data)),
        )
        == 0
        and data
        and count.value
    ):
        return ctypes.string_at(data, count.value)
    name = ctypes.c_char_p()
    return name.value if X11.XFetchName(display, window, ctypes.byref(name)) else None


def titles(display):
    for window in windows(display, X11.XDefaultRootWindow(display)):
        yield window, title_of(display, window)


def find(display, title):
    for window, name in titles(display):
        if name is None:
            continue
        if title.startswith("contains:"):
            if title[len("contains:") :].encode() in name:
                return window
        elif name == title.encode():
            return window
    return None


def main():
    title, key = sys.argv[1], sys.argv[2] if sys.argv[3] == "-" else None
    x, y = (0, 0) if key else (int(sys.argv[2]), int(sys.argv[3]))
    time.sleep(float(sys.argv[4]) if len(sys.argv) > 4 else 0)
    display = X11.XOpenDisplay(None)
    window, deadline = None, time.monotonic() + 60
    while window is None and time.monotonic() < deadline:
        window = find(display, title)
        time.sleep(0.5 if window is None else 0)
    if window is None:
        sys.exit(f"no window titled {title!r} among {[name for _, name in titles(display)]}")
    root = X11.XDefaultRootWindow(display)
    events = ((ENTER_NOTIFY, 0), (BUTTON_PRESS, 0), (BUTTON_RELEASE, 1 << 8))
    if key:
        control = key.startswith("Control+")
        keysym = X11.XStringToKeysym(key.removeprefix("Control+").encode())
        state = CONTROL_MASK if control else 0
        events = ((KEY_PRESS, state), (KEY_RELEASE, state))
    for kind, state in events:
        event = ButtonEvent(type=kind, send_event=1, display=display, window=window, root=root)
        event.x, event.y, event.x_root, event.y_root = x, y, x, y
        event.state, event.same_screen = state, 1
        event.button = 0 if kind == ENTER_NOTIFY else 1  # a crossing's "detail": NotifyAncestor
        if key:
            event.button = X11.XKeysymToKeycode(display, keysym)  # a key event's keycode
        X11.XSendEvent(display, window, 1, 0xFFFFFF, ctypes.byref(event))
        X11.XFlush(display)
        time.sleep(0.2)
    print(f"pressed {key} in" if key else "clicked", title, x, y)


main()
