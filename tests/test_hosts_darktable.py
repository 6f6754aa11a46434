"""End to end in the real darktable 5.4 (Debian unstable chroot made by scripts/setup_hosts.sh).

Bayer DNGs made from a real sky photo (stored upright, and stored turned with EXIF orientation 6)
get their sky mask from `skyseg mask --for darktable`; darktable-cli develops each with an XMP
whose history reads that mask with the "external raster masks" module and raises the exposure
through it (tests/hosts/darktable_xmp.py); the output's pixels say where the exposure went.
The Lua script is installed by the chroot's `skyseg install-plugin darktable` and loaded by
darktable-cli (its button's work driven through --luacmd) and by the darktable GUI under Xvfb.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "hosts"))
import darktable_xmp  # noqa: E402
import harness  # noqa: E402

from skyseg_core.io import load_image, load_matte  # noqa: E402
from tests.dngmake import write_dng  # noqa: E402

pytestmark = [pytest.mark.hosts, pytest.mark.slow]

EV = 1.5
PHOTOS = {"upright": 1, "turned": 6}
"""The test RAWs: name -> EXIF orientation (``turned`` stores the photo a quarter turn away)."""


def in_sid(folder: Path, *cmd: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``cmd`` in the darktable chroot, ``folder`` at /e2e, HOME=/e2e/home."""
    return subprocess.run(
        [
            str(harness.ROOT / "scripts" / "in_chroot.sh"),
            "--bind",
            f"{folder}:/e2e",
            "env",
            "HOME=/e2e/home",
            *cmd,
        ],
        env={**os.environ, "SKYSEG_CHROOT": "sid"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def require_darktable() -> None:
    """Fail (not skip) when the darktable chroot is missing: `make test` sets it up."""
    check = [str(harness.ROOT / "scripts" / "setup_hosts.sh"), "--check-darktable"]
    if subprocess.run(check, capture_output=True).returncode != 0:
        pytest.fail(
            "the darktable chroot is not set up: run scripts/setup_hosts.sh as root (`make test` "
            "does; its output says why a build failed), or deselect with -m 'not hosts'"
        )


def skyseg(*args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "skyseg_core", *args, "--quiet"], check=True, capture_output=True
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    require_darktable()
    folder = tmp_path_factory.mktemp("darktable")
    (folder / "home").mkdir()
    photo = load_image(harness.PHOTO)
    write_dng(folder / "upright.dng", photo, PHOTOS["upright"])
    write_dng(folder / "turned.dng", np.ascontiguousarray(np.rot90(photo, 1)), PHOTOS["turned"])
    (folder / "masks").mkdir()
    for name in PHOTOS:
        dng = str(folder / f"{name}.dng")
        skyseg("mask", dng, "--for", "darktable", "--darktable-dir", str(folder / "masks"))
        skyseg("mask", dng, "-o", str(folder / f"{name}_matte.png"))  # the upright matte
    return folder


def develop(folder: Path, photo: str, name: str, xmp: str) -> tuple[np.ndarray, str]:
    """darktable-cli's 8-bit PNG of ``photo`` with the sidecar ``xmp``, and its log."""
    (folder / f"{name}.xmp").write_text(xmp)
    done = in_sid(
        folder,
        "darktable-cli",
        f"/e2e/{photo}",
        f"/e2e/{name}.xmp",
        f"/e2e/{name}.png",
        "--core",
        "--configdir",
        f"/e2e/config-{name}",
        "--library",
        ":memory:",
        "-d",
        "pipe",
    )
    log = done.stdout + done.stderr
    (folder / f"{name}.log").write_text(log)
    assert done.returncode == 0, log[-3000:]
    pixels = cv2.imread(str(folder / f"{name}.png"), cv2.IMREAD_COLOR)
    assert pixels is not None, log[-3000:]
    return pixels[..., ::-1].astype(np.float64), log


def linear(srgb: np.ndarray) -> np.ndarray:
    v = srgb / 255.0
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


@pytest.mark.parametrize("name", list(PHOTOS))
def test_exposure_through_the_sky_mask_brightens_the_sky_only(folder, name):
    mask = f"{name}.dng.pfm"
    assert (folder / "masks" / mask).is_file()

    def xmp(ev: float, masked: bool = True) -> str:
        return darktable_xmp.sky_exposure_xmp("/e2e/masks", mask, ev, masked)

    plain, _ = develop(folder, f"{name}.dng", f"{name}-plain", xmp(0.0))
    sky_up, log = develop(folder, f"{name}.dng", f"{name}-sky", xmp(EV))
    all_up, _ = develop(folder, f"{name}.dng", f"{name}-all", xmp(EV, masked=False))
    assert "got raster mask" in log and "can't read raster mask" not in log, log[-3000:]
    matte = load_matte(folder / f"{name}_matte.png")
    height, width = plain.shape[:2]
    assert (height, width) == matte.shape  # darktable turned the picture as skyseg did
    kernel = np.ones((7, 7), np.uint8)
    sky = cv2.erode((matte > 0.9).astype(np.uint8), kernel) > 0
    ground = cv2.erode((matte < 0.1).astype(np.uint8), kernel) > 0
    assert sky.sum() > 2000 and ground.sum() > 20000, (sky.sum(), ground.sum())
    gain = (sky_up - plain).mean(axis=2)
    control = (all_up - plain).mean(axis=2)
    print(
        f"{name}: sky +{gain[sky].mean():.1f} ground {gain[ground].mean():+.2f} of 255 "
        f"(whole picture: sky +{control[sky].mean():.1f} ground +{control[ground].mean():.1f})"
    )
    assert gain[sky].mean() > 25  # the sky got the exposure...
    assert abs(gain[ground].mean()) < 1.0 and np.abs(gain[ground]).max() <= 8  # ...not the ground
    assert control[ground].mean() > 25  # which it would have without the mask
    # Where the exposure went, pixel by pixel: darktable blends in linear RGB,
    # out = in * (1 + m (2^EV - 1)), so m = (sky_up - plain) / (all_up - plain) in linear light.
    lin_plain, lin_sky, lin_all = linear(plain), linear(sky_up), linear(all_up)
    usable = ((lin_all - lin_plain) > 0.02).all(axis=2) & (all_up < 250).all(axis=2)
    used = np.clip(
        ((lin_sky - lin_plain) / np.maximum(lin_all - lin_plain, 1e-6)).mean(axis=2), 0, 1
    )
    diff = np.abs(used - matte)[usable]
    corr = np.corrcoef(used[usable], matte[usable])[0, 1]
    print(
        f"{name}: mask darktable used vs skyseg's matte: mean |diff| {diff.mean():.3f}, r {corr:.3f}"
    )
    assert usable.mean() > 0.5 and diff.mean() < 0.05 and corr > 0.95, (diff.mean(), corr)


# -- the Lua script ---------------------------------------------------------------------------------

LUA_DRIVER = """\
local dt = require "darktable"
local skyseg = require "skyseg/skyseg"
local images = {}
for _, name in ipairs({%(names)s}) do
  images[#images + 1] = dt.database.import("/e2e/%(scenario)s/" .. name)
end
os.remove("/e2e/%(scenario)s/gone.dng") -- imported, then gone before the button is pressed
local results, summary = skyseg.create_sky_masks(images)
local out = io.open("/e2e/%(scenario)s/results.txt", "w")
out:write(summary, "\\n")
for _, r in ipairs(results) do
  out:write(r.path, "\\t", tostring(r.ok), "\\t", r.message, "\\n")
end
out:close()
"""


def install_lua(
    folder: Path, config: str, raster_folder: str | None
) -> subprocess.CompletedProcess:
    """`skyseg install-plugin darktable` with the chroot's skyseg venv, as its user would; and
    darktable's setting of the raster masks folder (none: ``raster_folder`` None)."""
    install = in_sid(
        folder,
        "sh",
        "-c",
        f". /opt/skyseg-venv/bin/activate && skyseg install-plugin darktable --dest /e2e/{config}",
    )
    assert install.returncode == 0, install.stdout + install.stderr
    rc = f"plugins/darkroom/segments/def_path={raster_folder}\n" if raster_folder else ""
    (folder / config / "darktablerc").write_text(rc + "ui/show_welcome_screen=false\n")
    return install


def run_lua_scenario(folder: Path, scenario: str, names: list[str], configured: bool):
    """darktable-cli with the installed script: --luacmd imports ``names`` and runs what the
    button runs; returns (summary, {file name: (ok, message)}, darktable's log)."""
    work = folder / scenario
    work.mkdir()
    for name in names:
        work.joinpath(name).write_bytes((folder / "upright.dng").read_bytes())
    (work / "masks").mkdir()
    install = install_lua(
        folder, f"{scenario}-config", f"/e2e/{scenario}/masks" if configured else None
    )
    assert (
        "it runs /opt/skyseg-venv/bin/python -m skyseg_core mask --for darktable" in install.stdout
    )
    quoted = ", ".join(f'"{n}"' for n in names)
    (work / "driver.lua").write_text(LUA_DRIVER % {"names": quoted, "scenario": scenario}, "utf-8")
    done = in_sid(
        folder,
        "darktable-cli",
        "/e2e/upright.dng",
        f"/e2e/{scenario}/out.jpg",
        "--core",
        "--configdir",
        f"/e2e/{scenario}-config",
        "--library",
        ":memory:",
        "-d",
        "lua",
        "--luacmd",
        f'dofile("/e2e/{scenario}/driver.lua")',
    )
    log = done.stdout + done.stderr
    (folder / f"{scenario}.log").write_text(log)
    assert done.returncode == 0 and (work / "results.txt").is_file(), log[-3000:]
    summary, *lines = (work / "results.txt").read_text("utf-8").splitlines()
    results = {}
    for line in lines:
        path, ok, message = line.split("\t")
        results[Path(path).name] = (ok == "true", message)
    return summary, results, log


def test_lua_button_writes_each_mask_and_reports_each_image(folder):
    odd = "ciel d'été $(x).dng"  # quotes, shell syntax and UTF-8 through sh, JSON and Lua
    summary, results, log = run_lua_scenario(
        folder, "lua", ["upright.dng", "gone.dng", odd], configured=True
    )
    assert "LUA skyseg: loaded (no GUI)" in log  # luarc's require line loaded the script
    ok, message = results["upright.dng"]
    assert ok and message.startswith("sky mask upright.dng.pfm (") and message.endswith("% sky)")
    assert results["gone.dng"] == (False, "no such file")
    assert results[odd] == (True, message.replace("upright.dng", odd)), results[odd]
    assert summary == "skyseg: 2 sky masks written, 1 failed"
    for line in (f"LUA skyseg: upright.dng: {message}", "LUA skyseg: gone.dng: no such file"):
        assert line in log, log[-3000:]  # darktable's log, as dt.print_log wrote it
    # the mask is the one `skyseg mask --for darktable` writes (the chroot's own skyseg, in the
    # folder darktablerc names)
    from test_darktable import read_raster_mask

    written = read_raster_mask(folder / "lua" / "masks" / "upright.dng.pfm")
    expected = read_raster_mask(folder / "masks" / "upright.dng.pfm")
    assert written.shape == expected.shape and np.abs(written - expected).mean() < 0.01
    assert sorted(p.name for p in (folder / "lua" / "masks").iterdir()) == sorted(
        [f"{odd}.pfm", "upright.dng.pfm"]
    )


def test_lua_button_without_a_raster_masks_folder_says_so_per_image(folder):
    summary, results, _ = run_lua_scenario(folder, "lua-unset", ["upright.dng"], configured=False)
    ok, message = results["upright.dng"]
    assert not ok and message.startswith("no raster masks folder: give --darktable-dir"), message
    assert summary == "skyseg: 0 sky masks written, 1 failed"
    assert list((folder / "lua-unset" / "masks").iterdir()) == []


GUI_SCRIPT = """\
timeout -k 5 150 darktable --configdir /e2e/%(config)s --library :memory: -d lua \
    --luacmd '%(luacmd)s' %(photo)s >/e2e/%(config)s.log 2>&1 &
pid=$!
%(wait)s
kill $pid; wait $pid 2>/dev/null; true
"""


def run_darktable_gui(
    folder: Path,
    config: str,
    luacmd: str,
    wait: str,
    photo: str = "/e2e/upright.dng",
    paint: bool = True,
) -> str:
    """The darktable GUI under Xvfb (1920 x 1080) with the installed script, until the shell
    commands ``wait`` end; its log. The raster masks folder is /e2e/<config>-masks; the user
    CSS paints skyseg's button #ff00ff (darktable names the button after the action), unless
    not ``paint``."""
    install_lua(folder, config, f"/e2e/{config}-masks")
    (folder / f"{config}-masks").mkdir()
    with open(folder / config / "darktablerc", "a") as rc:
        rc.write(
            "ui_last/window_x=0\nui_last/window_y=0\nui_last/window_w=1920\nui_last/window_h=1080\n"
        )
    (folder / config / "darktablerc-common").write_text("themes/usercss=TRUE\n")
    (folder / config / "user.css").write_text(
        "#skyseg_create_sky_mask { background: #ff00ff; background-image: none; }\n"
        if paint
        else ""
    )
    for helper in ("grab_screen.py", "find_button.py"):
        (folder / helper).write_bytes((harness.HERE / helper).read_bytes())
    script = folder / f"{config}.sh"
    script.write_text(
        GUI_SCRIPT % {"config": config, "luacmd": luacmd, "photo": photo, "wait": wait}
    )
    done = in_sid(
        folder, "xvfb-run", "-a", "-s", "-screen 0 1920x1080x24", "sh", f"/e2e/{script.name}"
    )
    log = (folder / f"{config}.log").read_text(errors="replace")
    assert done.returncode == 0, done.stdout + done.stderr + log[-3000:]
    return log


CLICK = """\
at=; seen=
for i in $(seq 60); do  # until the button is on the screen, in the same place twice (the
  python3 /e2e/grab_screen.py 1 /e2e/gui-screen.png >/dev/null  # module's expander slides)
  now=$(/opt/skyseg-venv/bin/python /e2e/find_button.py /e2e/gui-screen.png) || now=
  [ -n "$now" ] && [ "$now" = "$seen" ] && at=$now && break
  seen=$now
done
echo "$at" >/e2e/gui-button.txt
[ -n "$at" ] && xdotool mousemove $at click 1
for i in $(seq 240); do grep -q "LUA skyseg: [0-9]* sky masks* written" /e2e/gui.log && break; sleep 0.5; done
"""


def test_darktable_gui_button_makes_the_selected_images_mask(folder):
    """The button itself, clicked (xdotool) in the lighttable of the darktable GUI."""
    luacmd = (
        'local dt = require "darktable"; local img = dt.database.import("/e2e/upright.dng"); '
        "dt.gui.current_view(dt.gui.views.lighttable); dt.gui.selection({img}); "
        "dt.gui.libs.image.expanded = true"
    )
    log = run_darktable_gui(folder, "gui", luacmd, CLICK, photo="")  # it opens in the lighttable
    assert "LUA skyseg: loaded (button in the lighttable)" in log, log[-3000:]
    assert (folder / "gui-button.txt").read_text().strip(), "no skyseg button on the screen"
    assert "LUA skyseg: upright.dng: sky mask upright.dng.pfm (" in log, log[-3000:]
    assert "LUA skyseg: 1 sky mask written" in log, log[-3000:]
    assert "LUA ERROR" not in log and "stack traceback" not in log, log[-3000:]
    assert sorted(p.name for p in (folder / "gui-masks").iterdir()) == ["upright.dng.pfm"]


@pytest.mark.skipif(
    not os.environ.get("SKYSEG_HOST_SCREENSHOTS"),
    reason="writes docs/: set SKYSEG_HOST_SCREENSHOTS=1",
)
def test_raster_mask_in_the_darkroom_screenshot(folder):
    """docs/darktable_raster_mask.png: the darkroom with the external raster masks module
    focused on skyseg's mask (white: sky) of a 1152 x 753 DNG, the exposure through it in the
    navigation thumbnail."""
    photo = load_image(harness.PHOTO)
    big = cv2.resize(photo, (photo.shape[1] * 3, photo.shape[0] * 3), interpolation=cv2.INTER_CUBIC)
    write_dng(folder / "big.dng", big)
    skyseg(
        "mask",
        str(folder / "big.dng"),
        "--for",
        "darktable",
        "--darktable-dir",
        str(folder / "masks"),
    )
    (folder / "big.dng.xmp").write_text(
        darktable_xmp.sky_exposure_xmp("/e2e/masks", "big.dng.pfm", EV)
    )
    luacmd = (
        'local dt = require "darktable"; dt.gui.action("iop/rasterfile", 0, "show", "on", 1.0); '
        'dt.gui.action("iop/rasterfile", 0, "focus", "on", 1.0)'
    )
    run_darktable_gui(
        folder, "shot", luacmd, "python3 /e2e/grab_screen.py 25 /e2e/shot.png", "/e2e/big.dng"
    )
    shot = cv2.imread(str(folder / "shot.png"))
    assert shot.shape[:2] == (1080, 1920)
    view = shot[140:870, 410:1530].mean(axis=2)  # the centre view: the mask, white on the sky
    assert (view > 240).mean() > 0.1 and (view < 60).mean() > 0.4
    cv2.imwrite(
        str(harness.ROOT / "docs" / "darktable_raster_mask.png"),
        shot,
        [cv2.IMWRITE_PNG_COMPRESSION, 9],
    )
    # docs/darktable_button.png: the lighttable's actions on selection with the button
    luacmd = (
        'local dt = require "darktable"; local img = dt.database.import("/e2e/big.dng"); '
        "dt.gui.current_view(dt.gui.views.lighttable); dt.gui.selection({img}); "
        "dt.gui.libs.image.expanded = true"
    )
    run_darktable_gui(
        folder,
        "shot-button",
        luacmd,
        "python3 /e2e/grab_screen.py 25 /e2e/shot-button.png",
        photo="",
        paint=False,
    )
    shot = cv2.imread(str(folder / "shot-button.png"))
    panel = shot[60:400, 1520:]  # the right-hand panel's top
    cv2.imwrite(
        str(harness.ROOT / "docs" / "darktable_button.png"),
        panel,
        [cv2.IMWRITE_PNG_COMPRESSION, 9],
    )
