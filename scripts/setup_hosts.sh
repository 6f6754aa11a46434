#!/bin/sh
# Set up the real GIMP 3 and Krita hosts for the end-to-end plug-in tests (tests/test_hosts_*.py).
#
#   Krita 5 from Debian 12 on this machine:  apt-get install krita python3-pyqt5 xvfb xauth
#   GIMP 3.0 from Debian 13 in a chroot:    debootstrap --variant=minbase trixie $CACHE/trixie
#                                           + apt-get install gimp (gimp-console-3.0)
#                                           + a Python venv with skyseg's base dependencies and
#                                             the skyseg command, so the plug-in starts the worker
#                                             inside the chroot
#                                           + apt-get install krita (5.2) for the newer Krita API.
#   darktable 5.4 from Debian unstable in a second chroot (tests/test_hosts_darktable.py):
#                                           debootstrap --variant=minbase sid $CACHE/sid
#                                           + apt-get install --no-install-recommends darktable
#                                             (darktable-cli, Lua, librasterfile.so), xvfb,
#                                             xdotool, and a skyseg venv as in the trixie chroot
#
# Idempotent and cached: every step leaves a stamp file and is skipped when its stamp exists.
# The chroot lives outside the repository, in $SKYSEG_HOSTS_CACHE (default /var/cache/skyseg-hosts
# for root, ~/.cache/skyseg-hosts otherwise).  Needs root (apt-get, debootstrap, chroot).
# Usage: scripts/setup_hosts.sh [--check | --check-darktable]
#   --check: exit 0 if GIMP and Krita are set up, 1 if not; --check-darktable: the same for the
#   darktable chroot. A darktable chroot that cannot be built (unstable is sometimes
#   uninstallable for a day) is reported and leaves the rest as it is, exit status 0, so only the
#   darktable tests fail.
set -eu

if [ -z "${SKYSEG_HOSTS_CACHE:-}" ]; then
    if [ "$(id -u)" = 0 ]; then SKYSEG_HOSTS_CACHE=/var/cache/skyseg-hosts
    else SKYSEG_HOSTS_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/skyseg-hosts"; fi
fi
CACHE=$SKYSEG_HOSTS_CACHE
CHROOT=$CACHE/trixie
SID=$CACHE/sid
MIRROR=${SKYSEG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
REPO=$(cd "$(dirname "$0")/.." && pwd)
# Bump when the chroot recipe changes, so cached chroots are refreshed (SID_RECIPE: the sid one).
RECIPE=3
SID_RECIPE=2

log() { echo "setup_hosts: $*" >&2; }
# skyseg's base dependencies (pyproject.toml), installed in the chroot's venv; part of the stamp,
# so the venv follows dependency changes.
deps=$(sed -n '/^dependencies = \[/,/^\]/p' "$REPO/pyproject.toml" | grep -o '"[^"]*"' | tr -d '"' | tr '\n' ' ')
STAMP="$RECIPE $deps"

host_ready() {
    command -v kritarunner >/dev/null && command -v krita >/dev/null \
        && command -v xvfb-run >/dev/null && command -v xauth >/dev/null \
        && command -v debootstrap >/dev/null && /usr/bin/python3 -c "import PyQt5" 2>/dev/null
}
chroot_ready() { [ "$(cat "$CHROOT/.skyseg-ready" 2>/dev/null)" = "$STAMP" ]; }
extras_ready() { [ -x "$CHROOT/opt/skyseg-venv/bin/skyseg" ] && [ -x "$CHROOT/usr/bin/kritarunner" ]; }
sid_ready() { [ "$(cat "$SID/.skyseg-ready" 2>/dev/null)" = "$STAMP sid$SID_RECIPE" ]; }

if [ "${1:-}" = "--check" ]; then
    host_ready && chroot_ready && extras_ready && exit 0
    exit 1
fi
if [ "${1:-}" = "--check-darktable" ]; then
    sid_ready && exit 0
    exit 1
fi

start=$(date +%s)
if [ "$(id -u)" != 0 ]; then
    host_ready && chroot_ready && extras_ready && sid_ready && exit 0
    log "needs root to install packages and build the chroot (run it as root once)"; exit 1
fi
export DEBIAN_FRONTEND=noninteractive

# 1. Krita and the X tools on this machine.
if ! host_ready; then
    log "installing krita, python3-pyqt5, xvfb, xauth, debootstrap"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends krita python3-pyqt5 xvfb xauth debootstrap >/dev/null
fi

# Mounts live in a private mount namespace: they vanish when the command exits.
inchroot() {
    unshare --mount --propagation private sh -c '
        c=$1; shift
        mount -t proc proc "$c/proc"; mount --rbind /dev "$c/dev"; mount --rbind /sys "$c/sys"
        exec chroot "$c" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
            ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} \
            ${no_proxy:+no_proxy=$no_proxy} "$@"
    ' inchroot "${INTO:-$CHROOT}" "$@"
}

# 4. darktable 5.4 from Debian unstable in its own chroot (tests/test_hosts_darktable.py), with a
#    skyseg venv like the trixie one (the Lua script runs skyseg there).
build_sid() {
    mkdir -p "$CACHE"
    sid_start=$(date +%s)
    if [ ! -f "$SID/.debootstrap-done" ]; then
        log "debootstrap --variant=minbase sid $SID"
        rm -rf "$SID"
        debootstrap --variant=minbase sid "$SID" "$MIRROR" >"$CACHE/debootstrap-sid.log" 2>&1 \
            || { tail -20 "$CACHE/debootstrap-sid.log" >&2; exit 1; }
        touch "$SID/.debootstrap-done"
    fi
    cp /etc/resolv.conf "$SID/etc/resolv.conf"
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        mkdir -p "$SID/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$SID/usr/local/share/ca-certificates/"
    fi
    # unstable's Release files expire within days; a mirror snapshot a little behind still serves
    echo 'Acquire::Check-Valid-Until "false";' >"$SID/etc/apt/apt.conf.d/99skyseg"
    log "installing darktable in the sid chroot"
    INTO=$SID inchroot apt-get update -qq
    INTO=$SID inchroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
        --no-install-recommends darktable python3 python3-venv python3-gi gir1.2-gtk-3.0 \
        xvfb xauth xdotool ca-certificates >/dev/null
    INTO=$SID inchroot update-ca-certificates >/dev/null 2>&1 || true
    log "creating the skyseg venv in the sid chroot (/opt/skyseg-venv)"
    INTO=$SID inchroot python3 -m venv /opt/skyseg-venv
    # shellcheck disable=SC2086
    INTO=$SID inchroot /opt/skyseg-venv/bin/pip install -q --disable-pip-version-check $deps
    site=$(INTO=$SID inchroot /opt/skyseg-venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    echo /skyseg >"$SID$site/skyseg-repo.pth"
    cp "$CHROOT/opt/skyseg-venv/bin/skyseg" "$SID/opt/skyseg-venv/bin/skyseg"
    INTO=$SID inchroot apt-get clean
    echo "$STAMP sid$SID_RECIPE" >"$SID/.skyseg-ready"
    log "sid chroot with $(INTO=$SID inchroot darktable-cli --version | head -1) in $(( $(date +%s) - sid_start ))s"
}
if [ "${1:-}" = "--build-sid" ]; then build_sid; exit 0; fi

# 2. The Debian 13 chroot with GIMP 3.
if ! chroot_ready; then
    mkdir -p "$CACHE"
    if [ ! -f "$CHROOT/.debootstrap-done" ]; then
        log "debootstrap --variant=minbase trixie $CHROOT"
        rm -rf "$CHROOT"
        debootstrap --variant=minbase trixie "$CHROOT" "$MIRROR" >"$CACHE/debootstrap.log" 2>&1 \
            || { tail -20 "$CACHE/debootstrap.log" >&2; exit 1; }
        touch "$CHROOT/.debootstrap-done"
    fi
    cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
    # Trust what this machine trusts (site CAs, e.g. an egress proxy's) inside the chroot too.
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        mkdir -p "$CHROOT/usr/local/share/ca-certificates"
        cp /usr/local/share/ca-certificates/*.crt "$CHROOT/usr/local/share/ca-certificates/"
    fi
    log "installing gimp 3 in the chroot"
    inchroot apt-get update -qq
    inchroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        gimp python3 python3-gi gir1.2-gimp-3.0 python3-venv ca-certificates >/dev/null
    inchroot update-ca-certificates >/dev/null 2>&1 || true
    log "creating the skyseg venv in the chroot (/opt/skyseg-venv)"
    inchroot python3 -m venv /opt/skyseg-venv
    # The base dependencies from pyproject.toml (no torch); the code itself comes from the repo,
    # bind-mounted at /skyseg by scripts/in_chroot.sh, through a .pth file (like an editable install).
    # shellcheck disable=SC2086
    inchroot /opt/skyseg-venv/bin/pip install -q --disable-pip-version-check $deps
    site=$(inchroot /opt/skyseg-venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    echo /skyseg >"$CHROOT$site/skyseg-repo.pth"
    inchroot apt-get clean
    echo "$STAMP" >"$CHROOT/.skyseg-ready"
fi
# The `skyseg` command in the chroot's venv, as `pip install` makes it (the code is the .pth's), so
# a user there runs `. /opt/skyseg-venv/bin/activate; skyseg install-plugin gimp` as the README says.
if [ ! -x "$CHROOT/opt/skyseg-venv/bin/skyseg" ]; then
    log "adding the skyseg command to the chroot's venv"
    cat >"$CHROOT/opt/skyseg-venv/bin/skyseg" <<'SCRIPT'
#!/opt/skyseg-venv/bin/python
import sys

from skyseg_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
SCRIPT
    chmod 755 "$CHROOT/opt/skyseg-venv/bin/skyseg"
fi
# 3. Krita 5.2 from Debian 13 in the same chroot: the newer scripting API (createTransparencyMask),
#    tested beside this machine's Krita 5.1.
if [ ! -x "$CHROOT/usr/bin/kritarunner" ]; then
    log "installing krita 5.2 in the chroot"
    inchroot apt-get update -qq
    inchroot env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        krita python3-pyqt5 xvfb xauth >/dev/null
    inchroot apt-get clean
fi
# 4. The darktable chroot, in a process of its own: its failure is reported, not fatal.
if ! sid_ready && ! sh "$0" --build-sid; then
    log "WARNING: the darktable chroot ($SID) could not be built; tests/test_hosts_darktable.py will fail"
fi
log "ready in $(( $(date +%s) - start ))s (krita: $(command -v krita); gimp chroot: $CHROOT; darktable chroot: $SID)"
