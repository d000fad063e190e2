#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages `make deb` and `make deb-test` use, when they
# are missing.  As root it runs apt-get; otherwise it lists them.
# (scripts/deps.sh is the list for the build, the tests and the benchmarks.)
set -e
PACKAGES="apache2-dev dpkg-dev debhelper fakeroot lintian debootstrap"

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
