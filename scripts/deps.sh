#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages the build, the tests and the benchmarks use,
# when they are missing, and upgrades the libraries Apache runs on when they
# are older than what Debian offers.  As root it runs apt-get; otherwise it
# says what to run.  Silent, and without network, when all is in place.
# Keep this list the one place that names packages (README points here).
set -e
PACKAGES="apache2 apache2-dev libapr1-dev libaprutil1-dev check pkg-config \
gcc make clang clang-format libclang-rt-14-dev python3 python3-pytest curl \
openssl libssl-dev nginx-light wrk chromium firefox-esr webkit2gtk-driver \
xvfb xauth libnss-wrapper python3-selenium python3-websockets"
[ -n "$GWE_EXTRA_PACKAGES" ] && PACKAGES="$PACKAGES $GWE_EXTRA_PACKAGES"
MOD_SSL=/usr/lib/apache2/modules/mod_ssl.so
export DEBIAN_FRONTEND=noninteractive LANG=C
root=""
[ "$(id -u)" = 0 ] && root=1

updated=""
apt_update() {  # once per run, and only when something needs the mirror
    [ -n "$updated" ] && return 0
    apt-get update -q >/dev/null
    updated=1
}

apt_install() {  # apt_install ARG...: quiet; the log's tail when it fails
    apt-get install -y -q --no-install-recommends "$@" >/tmp/gwe-apt.log 2>&1 \
        || { tail -30 /tmp/gwe-apt.log; exit 1; }
}

# ---- 1. missing packages ----------------------------------------------------

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
        || missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ -z "$root" ]; then
        echo "missing Debian packages:$missing" >&2
        echo "install them with: sudo apt-get install$missing" >&2
        exit 1
    fi
    echo "installing:$missing"
    apt_update
    # shellcheck disable=SC2086
    apt_install $missing
fi

# ---- 2. the libraries Apache runs on ---------------------------------------
#
# Installing apache2 never upgrades a library that is already installed:
# apache2-bin asks for libssl3 (>= 3.0.0), so a machine whose libssl3 is
# older than the OpenSSL Debian built apache2 against keeps it, and mod_ssl
# warns at every start (AH01882, "compiled against a newer library").  The
# rule: every library package apache2-bin depends on is upgraded when apt
# offers a newer version, together with the installed packages built from
# the same source (libssl3 with openssl and libssl-dev), since those only
# move together.

# outdated PKG...: those of PKG installed at another version than apt's
# candidate (apt never proposes an older one).
outdated() {
    apt-cache policy "$@" 2>/dev/null | awk '
        /^[^ ]/        { p = $1; sub(/:$/, "", p) }
        /^ +Installed:/ { i = $2 }
        /^ +Candidate:/ {
            if (i != "(none)" && $2 != "(none)" && $2 != i) print p }'
}

stale_libraries() {  # what to upgrade, from apt's local lists (no network)
    deps=$(dpkg-query -W -f='${Depends}' apache2-bin 2>/dev/null |
        tr ',' '\n' | sed 's/|.*//; s/(.*//; s/:any//; s/ //g') || true
    [ -n "$deps" ] || return 0
    # shellcheck disable=SC2086
    sources=" $(dpkg-query -W -f='${source:Package} ' $deps 2>/dev/null) " ||
        true
    # One apt-cache call: it is the slow part when apt keeps no cache.
    # shellcheck disable=SC2046
    outdated $(dpkg-query -W \
        -f='${db:Status-Abbrev} ${Package} ${source:Package}\n' |
        awk -v s="$sources" '$1 == "ii" && index(s, " " $3 " ") { print $2 }')
}

mod_ssl_outdated_openssl() {
    # True when mod_ssl was compiled against a newer OpenSSL than the libssl
    # it loads: the comparison behind AH01882.  `apache2 -t` cannot show it
    # (mod_ssl checks in post_config, which -t does not run), so compare the
    # same two things: the OpenSSL version text built into mod_ssl.so and
    # the version of the package that holds the libssl it links.
    [ -f "$MOD_SSL" ] || return 1
    built=$(grep -aoE 'OpenSSL [0-9]+\.[0-9]+\.[0-9]+' "$MOD_SSL" | head -1 |
        cut -d' ' -f2)
    lib=$(ldd "$MOD_SSL" 2>/dev/null | awk '/libssl\.so/ { print $3; exit }')
    [ -n "$built" ] && [ -n "$lib" ] || return 1
    pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1)
    [ -n "$pkg" ] || return 1
    have=$(dpkg-query -W -f='${Version}' "$pkg" |
        sed 's/^[0-9]*://; s/-[^-]*$//')
    ssl_summary="mod_ssl is built against OpenSSL $built, $pkg is $have"
    dpkg --compare-versions "$have" lt "$built"
}

upgrade_stale() {
    stale=$(stale_libraries)
    [ -n "$stale" ] || return 0
    stale=$(echo "$stale" | tr '\n' ' ')
    if [ -z "$root" ]; then
        echo "Apache's libraries are older than Debian offers; upgrade them" \
            "with: sudo apt-get install --only-upgrade $stale" >&2
        return 0
    fi
    echo "upgrading Apache's libraries: $stale"
    # shellcheck disable=SC2086
    apt_install --only-upgrade $stale
}

upgrade_stale
if mod_ssl_outdated_openssl && [ -n "$root" ] && [ -z "$updated" ]; then
    # apt's lists may predate the libssl apache2 was built against.
    apt_update
    upgrade_stale
fi
if mod_ssl_outdated_openssl; then
    echo "warning: $ssl_summary, and apt offers no newer one: mod_ssl logs" \
        "AH01882 at every start (the tests report it and carry on)." >&2
fi
exit 0
