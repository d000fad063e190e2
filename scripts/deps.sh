#!/bin/sh
# Installs the Debian packages the build, the tests and the benchmarks use,
# when they are missing.  As root it runs apt-get; otherwise it lists them.
# Keep this list the one place that names packages (README points here).
set -e
PACKAGES="apache2 apache2-dev libapr1-dev libaprutil1-dev check pkg-config \
gcc make clang libclang-rt-14-dev python3 python3-pytest curl openssl \
nginx-light wrk chromium"
[ -n "$GWE_EXTRA_PACKAGES" ] && PACKAGES="$PACKAGES $GWE_EXTRA_PACKAGES"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing" >&2
    echo "install them with: sudo apt-get install$missing" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >/tmp/gwe-apt.log 2>&1 \
    || { tail -30 /tmp/gwe-apt.log; exit 1; }
