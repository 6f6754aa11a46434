"""Running the real GIMP 3 and Krita for tests/test_hosts_*.py (over 400 lines: every host).

GIMP 3.0 runs in the Debian 13 chroot made by scripts/setup_hosts.sh (through
scripts/in_chroot.sh: the repository is mounted at /skyseg, the test's folder at /e2e, and the
plug-in is installed with the chroot's own skyseg venv, as a user of that system would).
Krita 5 runs on this machine with a throw-away HOME, so the user's settings are never touched.
Each run writes <scenario>.json (see gimp_e2e.py, krita_e2e.py) which the tests read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
PHOTO = (
    ROOT.parent
    / "shared"
    / "data"
    / "skyseg"
    / "ade20k_skyopt_cvprw2020"
    / "images"
    / "ADE_train_00000004.jpg"
)
METHOD = "color"  # deterministic and fast; the hosts and the core run the same method
SKY = "golden_hour"
TIMINGS: dict[str, float] = {}


def require_hosts() -> None:
    """Fail (not skip) when the hosts are missing: `make test` sets them up."""
    check = subprocess.run(
        [str(ROOT / "scripts" / "setup_hosts.sh"), "--check"], capture_output=True
    )
    if check.returncode != 0:
        pytest.fail(
            "GIMP/Krita hosts are not set up: run scripts/setup_hosts.sh as root (`make test` does), "
            "or deselect these tests with -m 'not hosts'"
        )


def read_pgm(path: Path) -> np.ndarray:
    magic, size, _maxval, data = path.read_bytes().split(b"\n", 3)
    width, height = map(int, size.split())
    return np.frombuffer(data, np.uint8).reshape(height, width)


def prepare(folder: Path) -> Path:
    """The shared photo as PNG, and an .ora written by `skyseg replace --layers`, in ``folder``."""
    from skyseg_core.io import load_image, save_image
    from skyseg_core.worker import PROTOCOL_VERSION

    assert PHOTO.is_file(), f"shared photo missing: {PHOTO}"
    folder.mkdir(parents=True, exist_ok=True)
    save_image(folder / "photo.png", load_image(PHOTO), overwrite=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "skyseg_core",
            "replace",
            str(folder / "photo.png"),
            "--sky",
            SKY,
            "--method",
            METHOD,
            "-o",
            str(folder / "ora_composite.png"),
            "--layers",
            str(folder / "layers.ora"),
            "--overwrite",
            "--quiet",
        ],
        check=True,
    )
    ground = np.zeros((120, 160, 3), np.uint8)
    ground[..., :] = (72, 96, 44)  # grass and nothing else: no sky to find
    ground[60:, :, :] = (96, 84, 60)
    save_image(folder / "no_sky.png", ground, overwrite=True)
    red = np.zeros((48, 64, 3), np.uint8)
    red[...] = (200, 30, 40)  # a sky file anyone can recognise in the result
    save_image(folder / "red_sky.png", red, overwrite=True)
    for name, body in (
        ("crash_worker.sh", "echo 'fake worker: simulated crash' >&2\nexit 7\n"),
        (
            "hang_worker.sh",
            f'echo \'{{"ready": true, "protocol": {PROTOCOL_VERSION}}}\'\nexec sleep 600\n',
        ),
    ):
        script = folder / name
        script.write_text("#!/bin/sh\n" + body)
        script.chmod(0o755)
    return folder


def _run(cmd: list[str], env: dict, timeout: float, log: Path, what: str) -> None:
    start = time.monotonic()
    with open(log, "wb") as fh:
        try:
            subprocess.run(
                cmd, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired:
            pass  # the result file (or its absence) tells the test what happened
    TIMINGS[what] = round(time.monotonic() - start, 1)


def load_result(folder: Path, name: str, log: Path) -> dict:
    path = folder / name
    if not path.is_file():
        tail = log.read_text(errors="replace")[-3000:] if log.is_file() else ""
        pytest.fail(f"the host wrote no {name}; its log ends with:\n{tail}")
    result = json.loads(path.read_text())
    assert "exception" not in result, result["exception"]
    return result


# -- GIMP ------------------------------------------------------------------------------------------


def run_gimp(
    folder: Path,
    scenario: str,
    env: dict | None = None,
    timeout: float = 600,
    looks: dict[str, dict] | None = None,
    again: bool = False,
) -> dict:
    """Install the plug-in in the chroot (fresh HOME) and run gimp_e2e.py in gimp-console-3.0;
    ``looks``: the user's own look files (name -> content) in that HOME before GIMP starts;
    ``again``: start GIMP once more in the HOME of the scenario's last run, as it was left."""
    home = folder / f"gimp-home-{scenario}"
    chroot_home = f"/e2e/{home.name}"
    in_chroot = [str(ROOT / "scripts" / "in_chroot.sh"), "--bind", f"{folder}:/e2e"]
    if not again:
        _install_gimp(home, chroot_home, in_chroot, looks or {})
    # the shared worker the plug-in starts outlives GIMP: idle for 30 s, it goes
    variables = {
        "HOME": chroot_home,
        "SKYSEG_E2E_DIR": "/e2e",
        "SKYSEG_E2E_SCENARIO": scenario,
        "SKYSEG_E2E_METHOD": METHOD,
        "SKYSEG_E2E_SKY": SKY,
        "SKYSEG_WORKER_IDLE": "30",
        **(env or {}),
    }
    cmd = [
        *in_chroot,
        "env",
        *[f"{k}={v}" for k, v in variables.items()],
        "gimp-console-3.0",
        "-i",
        "--batch-interpreter=python-fu-eval",
        "-b",
        'exec(open("/skyseg/tests/hosts/gimp_e2e.py").read())',
        "--quit",
    ]
    log = folder / f"gimp-{scenario}.log"
    _run(cmd, dict(os.environ), timeout, log, f"gimp {scenario}")
    return load_result(folder, f"{scenario}.json", log)


def _install_gimp(home: Path, chroot_home: str, in_chroot: list[str], looks: dict) -> None:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    for name, look in looks.items():  # as the editor's Save look... writes them
        target = home / ".config" / "skyseg" / "looks" / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(look))
    # as docs/plugins.md says: activate the environment, then `skyseg install-plugin gimp`
    install = subprocess.run(
        [
            *in_chroot,
            "env",
            f"HOME={chroot_home}",
            "sh",
            "-c",
            ". /opt/skyseg-venv/bin/activate && skyseg install-plugin gimp",
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    assert (
        "the worker runs with /opt/skyseg-venv/bin/python -m skyseg_core worker" in install.stdout
    )
    assert (home / ".config" / "GIMP" / "3.0" / "plug-ins" / "skyseg" / "skyseg.py").is_file()


def gimp_core_replace(folder: Path, effect: str = "replace", layers: bool = False) -> np.ndarray:
    """The core's replacement (or multiply tint, or replacement of photo.png at 16 bits) at the
    declared defaults, computed by the chroot's skyseg (the plug-in's environment); with
    ``layers``, the composite of its layers instead (what the layered file shows,
    ``skyseg_core.ora.composite``: blending on the stored values, rounded to the photo's codes)."""
    call = {
        "replace": f"replace_sky(im, m, load_sky('{SKY}'))",
        "tint": "tint_sky(im, m, mode='multiply')",
        "replace16": f"replace_sky(im, m, load_sky('{SKY}'))",
    }[effect]
    if layers:
        call = call.replace("_sky(", "_sky_layers(", 1)
        call = (
            f"np.round(composite({call}[1], (im.shape[1], im.shape[0]))[..., :3] * "
            "(65535 if im.dtype == np.uint16 else 255)).astype(im.dtype)"
        )
    deep = ".astype('uint16') * 257" if effect.endswith("16") else ""
    name = f"gimp_expected_{effect}{'_layers' if layers else ''}.png"
    code = (
        "import sys; import numpy as np; from skyseg_core.io import load_image, save_image; "
        "from skyseg_core.segment import segment; from skyseg_core.ora import composite; "
        "from skyseg_core.effects import replace_sky, tint_sky, replace_sky_layers, "
        "tint_sky_layers; from skyseg_core.skygen import load_sky; "
        f"im = load_image('/e2e/photo.png'){deep}; m = segment(im, method='{METHOD}'); "
        f"save_image('/e2e/{name}', {call}, overwrite=True)"
    )
    subprocess.run(
        [
            str(ROOT / "scripts" / "in_chroot.sh"),
            "--bind",
            f"{folder}:/e2e",
            "/opt/skyseg-venv/bin/python",
            "-c",
            code,
        ],
        check=True,
        capture_output=True,
    )
    from skyseg_core.io import load_image

    return load_image(folder / name)


def _gimp_gui_script(folder: Path, script: str, timeout: float) -> None:
    """Run ``folder/script`` with sh in the chroot under Xvfb (1920 x 1080), ``folder`` as /e2e
    and /e2e/home as HOME: how the GIMP window tests start GIMP and drive it."""
    subprocess.run(
        [
            str(ROOT / "scripts" / "in_chroot.sh"),
            "--bind",
            f"{folder}:/e2e",
            "env",
            "HOME=/e2e/home",
            "xvfb-run",
            "-a",
            "-s",
            "-screen 0 1920x1080x24",
            "sh",
            f"/e2e/{script}",
        ],
        check=True,
        capture_output=True,
        timeout=timeout,
    )


def gimp_dialog_screenshot(folder: Path, seconds: float = 70) -> Path:
    """GIMP 3's window with the Replace Sky dialog open, on a 1920 x 1080 Xvfb screen in the
    chroot (the plug-in installed by the chroot's skyseg); returns the screenshot."""
    from skyseg_core.io import load_image, save_image

    save_image(folder / "photo.png", load_image(PHOTO), overwrite=True)
    for name in ("gimp_dialog.py", "grab_screen.py"):
        shutil.copy(HERE / name, folder / name)
    (folder / "shot.sh").write_text(
        ". /opt/skyseg-venv/bin/activate && skyseg install-plugin gimp >/dev/null && deactivate\n"
        "gimp-3.0 -n --no-splash --batch-interpreter=python-fu-eval "
        "-b 'exec(open(\"/e2e/gimp_dialog.py\").read())' >/e2e/gimp_gui.log 2>&1 &\n"
        f"python3 /e2e/grab_screen.py {seconds:g} /e2e/gimp_screen.png\nkill $!\n"
    )
    _gimp_gui_script(folder, "shot.sh", seconds + 120)
    return folder / "gimp_screen.png"


def gimp_gui_preview(
    folder: Path, steps: list[tuple], env: dict | None = None, driver: str = "gimp_gui_preview.py"
) -> dict:
    """GIMP 3's window under Xvfb (1920 x 1080, the chroot's skyseg) running ``driver`` (by
    default gimp_gui_preview.py), with ``steps`` done in order as a user would: ``(delay,
    "click", x, y)`` clicks Replace Sky's dialog at x, y (waiting for it to be open), ``(delay,
    "grab", name)`` saves the screen as ``name`` in ``folder``, ``(delay, "escape")`` presses
    Escape in the dialog, ``(delay, "wait", name)`` waits for the driver to create ``name``;
    each after ``delay`` seconds. ``env``: GIMP's extra environment variables. Returns what the
    driver wrote (the image after each dialog)."""
    from skyseg_core.io import load_image, save_image

    save_image(folder / "photo.png", load_image(PHOTO), overwrite=True)
    for name in (driver, "grab_screen.py", "click_window.py"):
        shutil.copy(HERE / name, folder / name)
    lines = []
    for delay, action, *args in steps:
        if action == "wait":
            lines.append(f"sleep {delay:g}; until [ -e /e2e/{args[0]} ]; do sleep 1; done")
        elif action == "click":
            lines.append(
                f"python3 /e2e/click_window.py 'Replace Sky' {args[0]} {args[1]} {delay:g}"
            )
        elif action == "escape":
            lines.append(f"python3 /e2e/click_window.py 'Replace Sky' Escape - {delay:g}")
        else:
            lines.append(f"python3 /e2e/grab_screen.py {delay:g} /e2e/{args[0]}")
    (folder / "gui.sh").write_text(
        ". /opt/skyseg-venv/bin/activate && skyseg install-plugin gimp >/dev/null && deactivate\n"
        + "".join(f"{key}={value} " for key, value in (env or {}).items())
        + "GDK_CORE_DEVICE_EVENTS=1 gimp-3.0 -n --no-splash --batch-interpreter=python-fu-eval "
        f"-b 'exec(open(\"/e2e/{driver}\").read())' >/e2e/gimp_gui.log 2>&1 &\n"
        + "".join(f"{line} >>/e2e/clicks.log 2>&1\n" for line in lines)
        + "sleep 10\nkill $!\n"
    )
    (folder / "gui_preview.json").unlink(missing_ok=True)
    _gimp_gui_script(folder, "gui.sh", sum(step[0] for step in steps) + 300)
    return load_result(folder, "gui_preview.json", folder / "gimp_gui.log")


def read_ppm(path: Path) -> np.ndarray:
    magic, size, _maxval, data = path.read_bytes().split(b"\n", 3)
    width, height = map(int, size.split())
    return np.frombuffer(data, np.uint8).reshape(height, width, 3)


# -- Krita -----------------------------------------------------------------------------------------


def _krita_home(folder: Path, name: str) -> tuple[Path, dict]:
    home = folder / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "PYTHON", "QT_"))}
    env.update(
        HOME=str(home),
        SKYSEG_E2E_DIR=str(folder),
        SKYSEG_E2E_METHOD=METHOD,
        SKYSEG_E2E_SKY=SKY,
        XDG_RUNTIME_DIR=str(home / "run"),
    )
    (home / "run").mkdir(mode=0o700)
    install = subprocess.run(
        [sys.executable, "-m", "skyseg_core", "install-plugin", "krita"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    assert "enable_skyseg_krita=true" in (home / ".config" / "kritarc").read_text()
    return home, env


def _copy_krita_drivers(pykrita: Path) -> None:
    """The drivers Krita runs, in its pykrita folder (on its Python path)."""
    shutil.copy(HERE / "krita_e2e.py", pykrita / "skyseg_e2e.py")
    shutil.copy(HERE / "krita_preview.py", pykrita / "skyseg_e2e_preview.py")


def run_kritarunner(folder: Path, scenario: str, timeout: float = 600) -> dict:
    """kritarunner -s skyseg_e2e -f main, offscreen (it always exits 0: the result file decides)."""
    home, env = _krita_home(folder, f"krita-home-{scenario}")
    pykrita = home / ".local" / "share" / "krita" / "pykrita"
    _copy_krita_drivers(pykrita)
    env.update(PYTHONPATH=str(pykrita), QT_QPA_PLATFORM="offscreen", SKYSEG_E2E_SCENARIO=scenario)
    log = folder / f"krita-{scenario}.log"
    _run(
        ["kritarunner", "-s", "skyseg_e2e", "-f", "main"],
        env,
        timeout,
        log,
        f"kritarunner {scenario}",
    )
    return load_result(folder, f"{scenario}.json", log)


def _chroot_krita_home(folder: Path, name: str, install_options: str = "") -> tuple:
    """A fresh home ``folder/name`` for the Debian 13 chroot's Krita, with the plug-in installed
    by the chroot's own `skyseg install-plugin krita`; (home here, home in the chroot, the
    command prefix that runs in the chroot with ``folder`` as /e2e)."""
    home = folder / name
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    chroot_home = f"/e2e/{name}"
    in_chroot = [str(ROOT / "scripts" / "in_chroot.sh"), "--bind", f"{folder}:/e2e"]
    install = subprocess.run(
        [
            *in_chroot,
            "env",
            f"HOME={chroot_home}",
            "sh",
            "-c",
            f". /opt/skyseg-venv/bin/activate && skyseg install-plugin krita {install_options}",
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return home, chroot_home, in_chroot


def run_kritarunner_chroot(folder: Path, scenario: str, timeout: float = 600) -> dict:
    """kritarunner of the Debian 13 chroot's Krita (5.2: it has createTransparencyMask), offscreen,
    with the plug-in installed by the chroot's own `skyseg install-plugin krita` (as for GIMP)."""
    name = f"krita52-home-{scenario}"
    home, chroot_home, in_chroot = _chroot_krita_home(
        folder, name, "--dest ~/.local/share/krita/pykrita"
    )
    pykrita = home / ".local" / "share" / "krita" / "pykrita"
    _copy_krita_drivers(pykrita)
    variables = {
        "HOME": chroot_home,
        "SKYSEG_E2E_DIR": "/e2e",
        "SKYSEG_E2E_SCENARIO": scenario,
        "SKYSEG_E2E_METHOD": METHOD,
        "SKYSEG_E2E_SKY": SKY,
        "SKYSEG_E2E_TAG": "_52",
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHONPATH": f"{chroot_home}/.local/share/krita/pykrita",
    }
    cmd = [
        *in_chroot,
        "env",
        *[f"{k}={v}" for k, v in variables.items()],
        "kritarunner",
        "-s",
        "skyseg_e2e",
        "-f",
        "main",
    ]
    log = folder / f"krita52-{scenario}.log"
    _run(cmd, dict(os.environ), timeout, log, f"kritarunner 5.2 {scenario}")
    return load_result(folder, f"{scenario}_52.json", log)


def run_krita_gui_chroot(folder: Path, scenario: str, timeout: float = 300) -> dict:
    """The Debian 13 chroot's Krita 5.2 GUI under Xvfb, first started after the chroot's own
    `skyseg install-plugin krita`; the driver plug-in (krita_e2e.py's ``gui_start``) runs
    ``scenario``."""
    from skyseg_core.cli.install_plugin import enable_in_kritarc

    name = f"krita52-gui-home-{scenario}"
    home, chroot_home, in_chroot = _chroot_krita_home(folder, name)
    pykrita = home / ".local" / "share" / "krita" / "pykrita"
    driver = pykrita / "skyseg_e2e_gui"
    driver.mkdir()
    shutil.copy(HERE / "krita_e2e.py", driver / "driver.py")
    shutil.copy(HERE / "krita_preview.py", pykrita / "skyseg_e2e_preview.py")
    (driver / "__init__.py").write_text("from . import driver\n\ndriver.gui_start()\n")
    (pykrita / "skyseg_e2e_gui.desktop").write_text(
        "[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\nX-KDE-Library=skyseg_e2e_gui\n"
        "X-Python-2-Compatible=false\nName=skyseg e2e driver\n"
    )
    enable_in_kritarc(home / ".config" / "kritarc", "skyseg_e2e_gui")
    variables = {
        "HOME": chroot_home,
        "SKYSEG_E2E_DIR": "/e2e",
        "SKYSEG_E2E_SCENARIO": scenario,
        "SKYSEG_E2E_METHOD": METHOD,
        "SKYSEG_E2E_SKY": SKY,
        "SKYSEG_E2E_TAG": "_52",
        "QT_QPA_PLATFORM": "xcb",
    }
    cmd = [
        *in_chroot,
        "env",
        *[f"{k}={v}" for k, v in variables.items()],
        "xvfb-run",
        "-a",
        "-s",
        "-screen 0 1920x1080x24",
        "krita",
        "--nosplash",
    ]
    log = folder / f"krita52-gui-{scenario}.log"
    _run(cmd, dict(os.environ), timeout, log, f"krita 5.2 gui {scenario}")
    return load_result(folder, f"{scenario}_gui_52.json", log)


def run_kritarunner_version(folder: Path, scenario: str, version: str) -> tuple[dict, str]:
    """``scenario`` in Krita ``version`` ("5.1": this machine's, "5.2": the chroot's) and the
    tag its files carry ("", "_52")."""
    if version == "5.2":
        assert krita_in_chroot()
        return run_kritarunner_chroot(folder, scenario), "_52"
    return run_kritarunner(folder, scenario), ""


def core_cutout(folder: Path, photo: np.ndarray, name: str, *options: str) -> np.ndarray:
    """`skyseg cutout` of ``photo`` (an RGB array: the samples a host gave the worker) with the
    tests' method, as an RGBA array of its depth."""
    import cv2

    from skyseg_core.io import save_image

    source, target = folder / f"{name}_in.png", folder / f"{name}_core.png"
    save_image(source, photo, overwrite=True)
    command = [sys.executable, "-m", "skyseg_core", "cutout", str(source), "--method"]
    command += [METHOD, *options, "-o", str(target), "--overwrite", "--quiet"]
    subprocess.run(command, check=True)
    bgra = cv2.imread(str(target), cv2.IMREAD_UNCHANGED)
    return bgra[..., [2, 1, 0, 3]]


def krita_in_chroot() -> bool:
    """Whether the chroot has its Krita (scripts/setup_hosts.sh installs it)."""
    return (
        subprocess.run(
            [str(ROOT / "scripts" / "in_chroot.sh"), "sh", "-c", "command -v kritarunner"],
            capture_output=True,
        ).returncode
        == 0
    )


def run_krita_gui(folder: Path, timeout: float = 600, scenario: str = "main") -> dict:
    """The Krita GUI under Xvfb; a driver plug-in triggers the registered skyseg menu actions
    (``scenario`` "main"; "preview": the docker's live preview)."""
    from skyseg_core.cli.install_plugin import enable_in_kritarc

    suffix = "" if scenario == "main" else f"-{scenario}"
    home, env = _krita_home(folder, f"krita-home-gui{suffix}")
    driver = home / ".local" / "share" / "krita" / "pykrita" / "skyseg_e2e_gui"
    driver.mkdir()
    shutil.copy(HERE / "krita_e2e.py", driver / "driver.py")
    shutil.copy(HERE / "krita_preview.py", driver.parent / "skyseg_e2e_preview.py")
    (driver / "__init__.py").write_text("from . import driver\n\ndriver.gui_start()\n")
    (driver.parent / "skyseg_e2e_gui.desktop").write_text(
        "[Desktop Entry]\nType=Service\nServiceTypes=Krita/PythonPlugin\nX-KDE-Library=skyseg_e2e_gui\n"
        "X-Python-2-Compatible=false\nName=skyseg e2e driver\n"
    )
    enable_in_kritarc(home / ".config" / "kritarc", "skyseg_e2e_gui")
    env.update(QT_QPA_PLATFORM="xcb", SKYSEG_E2E_SCENARIO=scenario)
    log = folder / f"krita-gui{suffix}.log"
    _run(
        ["xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", "krita", "--nosplash"],
        env,
        timeout,
        log,
        "krita gui",
    )
    return load_result(folder, f"{scenario}_gui.json", log)
