#!/bin/sh
# Run a command in the GIMP 3 chroot made by scripts/setup_hosts.sh, with this repository
# bind-mounted at /skyseg (the chroot's skyseg venv imports skyseg_core from there).
# SKYSEG_CHROOT=sid runs it in the Debian unstable chroot with darktable 5.4 instead.
#   scripts/in_chroot.sh [--bind HOST_DIR:CHROOT_DIR]... COMMAND [ARG]...
# Mounts live in a private mount namespace, so they disappear when the command exits.
set -eu
if [ -z "${SKYSEG_HOSTS_CACHE:-}" ]; then
    if [ "$(id -u)" = 0 ]; then SKYSEG_HOSTS_CACHE=/var/cache/skyseg-hosts
    else SKYSEG_HOSTS_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/skyseg-hosts"; fi
fi
CHROOT=$SKYSEG_HOSTS_CACHE/${SKYSEG_CHROOT:-trixie}  # SKYSEG_CHROOT=sid: the darktable one
REPO=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$CHROOT/.skyseg-ready" ] || { echo "in_chroot: no GIMP chroot at $CHROOT; run scripts/setup_hosts.sh" >&2; exit 3; }
binds="$REPO:/skyseg"
while [ "${1:-}" = "--bind" ]; do binds="$binds $2"; shift 2; done
exec unshare --mount --propagation private sh -c '
    c=$1; binds=$2; shift 2
    mount -t proc proc "$c/proc"; mount --rbind /dev "$c/dev"; mount -t tmpfs tmpfs "$c/tmp"
    for b in $binds; do
        src=${b%%:*}; dst=$c${b#*:}; mkdir -p "$dst"; mount --bind "$src" "$dst"
    done
    exec chroot "$c" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
' in_chroot "$CHROOT" "$binds" "$@"
