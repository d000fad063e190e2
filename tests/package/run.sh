#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# tests/package/run.sh - install the Debian package into a fresh Debian 12.
#
# Builds the .deb (make deb), makes a fresh bookworm root with debootstrap
# (minbase, from the mirror this machine's apt uses; the downloaded
# packages are cached in build/debootstrap/ as a tarball, the root itself is
# made again on every run in build/deb-test/root), then in a chroot:
# installs apache2 from the mirror and the package with apt, a2enmod gwe_lb,
# checks that apache2ctl -M lists the module, that a sample configuration
# passes apache2ctl -t, and that purging the package leaves a working
# Apache.  Needs root.  Ends with "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
CACHE=$TOP/build/debootstrap
TARBALL=$CACHE/bookworm-minbase.tgz
WORK=$TOP/build/deb-test
ROOT=$WORK/root
LOG=$WORK/log
SUITE=bookworm
passed=0
failed=0

pass() { passed=$((passed + 1)); echo "PASS: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
    exit $?
}
in_root() { chroot "$ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    DEBIAN_FRONTEND=noninteractive LANG=C "$@"; }
umount_root() {
    if mountpoint -q "$ROOT/proc" 2>/dev/null; then umount "$ROOT/proc"; fi
}
trap umount_root EXIT
trap 'umount_root; exit 1' INT TERM

if [ "$(id -u)" != 0 ]; then
    echo "tests/package/run.sh needs root (debootstrap, chroot)"; fail "not root"
    finish
fi

# The mirror this machine's apt uses for bookworm (deb822 .sources files or
# one-line sources.list), deb.debian.org if none is found.
find_mirror() {
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        awk -v suite="$SUITE" '
            /^[ \t]*$/ { if (uri != "" && ok) { print uri; exit }
                         uri = ""; ok = 0; next }
            tolower($1) == "uris:"   { uri = $2 }
            tolower($1) == "suites:" { for (i = 2; i <= NF; i++)
                                           if ($i == suite) ok = 1 }
            END { if (uri != "" && ok) print uri }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -r "$f" ] || continue
        awk -v suite="$SUITE" '$1 == "deb" {
            for (i = 2; i <= NF; i++) if ($i == suite) { u = $(i - 1);
                if (u !~ /^\[/) print u } }' "$f"
    done
    echo http://deb.debian.org/debian
}
MIRROR=$(find_mirror | head -1)
echo "mirror: $MIRROR"

# ---- the package ----------------------------------------------------------

if ! make -s deb; then
    fail "make deb"; finish
fi
DEB=$(find build/deb -maxdepth 1 -name 'libapache2-mod-gwe-lb_*.deb' | head -1)
if [ -z "$DEB" ]; then fail "make deb left no .deb in build/deb/"; finish; fi
pass "make deb: $DEB"

# ---- a fresh Debian 12 root -------------------------------------------------

mkdir -p "$CACHE" "$WORK"
umount_root
if grep -q " $ROOT/" /proc/mounts; then
    fail "something is still mounted under $ROOT: $(grep " $ROOT/" /proc/mounts)"
    finish
fi
rm -rf "$ROOT"
: >"$LOG"
if [ ! -s "$TARBALL" ]; then
    echo "debootstrap: downloading $SUITE minbase from $MIRROR (cached in $TARBALL)"
    rm -rf "$CACHE/work"
    if ! debootstrap --variant=minbase --make-tarball="$TARBALL.part" \
            "$SUITE" "$CACHE/work" "$MIRROR" >>"$LOG" 2>&1; then
        fail "debootstrap --make-tarball from $MIRROR failed:"
        grep -E '^(E|W):' "$LOG" | tail -5; tail -5 "$LOG"
        finish
    fi
    mv "$TARBALL.part" "$TARBALL"
fi
if ! debootstrap --variant=minbase --unpack-tarball="$TARBALL" \
        "$SUITE" "$ROOT" "$MIRROR" >>"$LOG" 2>&1; then
    fail "debootstrap --unpack-tarball into $ROOT failed:"
    grep -E '^(E|W):' "$LOG" | tail -5; tail -5 "$LOG"
    finish
fi
pass "debootstrap --variant=minbase $SUITE $ROOT $MIRROR"

# Name resolution as on this machine; no service starts in the chroot.
cp /etc/resolv.conf /etc/hosts "$ROOT/etc/" 2>/dev/null
printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
mount -t proc proc "$ROOT/proc"

# ---- apache2 from the mirror, then the package ----------------------------

if in_root apt-get update -q >>"$LOG" 2>&1 \
   && in_root apt-get install -y -q --no-install-recommends apache2 \
        >>"$LOG" 2>&1; then
    # shellcheck disable=SC2016
    pass "apt-get install apache2 ($(in_root dpkg-query -W -f='${Version}' apache2))"
else
    fail "apt-get install apache2 in the chroot (from $MIRROR):"
    grep -E '^(E|W|Err):' "$LOG" | tail -5
    finish
fi

cp "$DEB" "$ROOT/tmp/"
B=$(basename "$DEB")
if in_root sh -c "cd /tmp && apt-get install -y -q ./$B" >>"$LOG" 2>&1; then
    pass "apt install ./$B"
else
    fail "apt install ./$B:"; tail -10 "$LOG"; finish
fi

out=$(in_root a2enmod gwe_lb 2>&1); rc=$?
echo "$out" | sed 's/^/  /'
if [ $rc = 0 ] && [ -e "$ROOT/etc/apache2/mods-enabled/gwe_lb.load" ] \
   && [ -e "$ROOT/etc/apache2/mods-enabled/proxy.load" ] \
   && [ -e "$ROOT/etc/apache2/mods-enabled/proxy_balancer.load" ]; then
    pass "a2enmod gwe_lb (gwe_lb, proxy and proxy_balancer enabled)"
else
    fail "a2enmod gwe_lb (exit $rc)"
fi

mods=$(in_root apache2ctl -M 2>&1)
line=$(echo "$mods" | grep gwe_lb)
echo "  apache2ctl -M | grep gwe_lb: $line"
if [ -n "$line" ]; then
    pass "apache2ctl -M lists gwe_lb_module"
else
    fail "apache2ctl -M does not list gwe_lb:"; echo "$mods" | tail -5
fi

# gwe-main.conf needs only Debian's modules: fill in its placeholders.
SAMPLE=/usr/share/doc/libapache2-mod-gwe-lb/examples/gwe-main.conf
if [ -r "$ROOT$SAMPLE" ]; then
    sed -e 's/@FRONTEND_1@/127.0.0.1:18081/' -e 's/@FRONTEND_2@/127.0.0.1:18082/' \
        -e 's/@BACKEND_1@/127.0.0.1:18091/' -e 's/@BACKEND_2@/127.0.0.1:18092/' \
        "$ROOT$SAMPLE" >"$ROOT/etc/apache2/conf-available/gwe-main.conf"
    in_root a2enmod -q proxy_http lbmethod_byrequests >>"$LOG" 2>&1
    in_root a2enconf -q gwe-main >>"$LOG" 2>&1
    out=$(in_root apache2ctl -t 2>&1); rc=$?
    echo "$out" | grep -v AH00558 | sed 's/^/  apache2ctl -t: /'
    if [ $rc = 0 ] && echo "$out" | grep -q 'Syntax OK'; then
        pass "apache2ctl -t with $SAMPLE (placeholders filled in)"
    else
        fail "apache2ctl -t with $SAMPLE"
    fi
    in_root a2disconf -q gwe-main >>"$LOG" 2>&1
else
    fail "the package has no $SAMPLE"
fi

# Purging the package disables the module and leaves a working Apache.
if in_root apt-get purge -y -q libapache2-mod-gwe-lb >>"$LOG" 2>&1 \
   && [ ! -e "$ROOT/etc/apache2/mods-enabled/gwe_lb.load" ] \
   && [ ! -e "$ROOT/etc/apache2/mods-available/gwe_lb.load" ] \
   && in_root apache2ctl -t >>"$LOG" 2>&1; then
    pass "apt-get purge libapache2-mod-gwe-lb: module disabled, apache2ctl -t OK"
else
    fail "apt-get purge libapache2-mod-gwe-lb:"; tail -10 "$LOG"
fi

umount_root
finish
