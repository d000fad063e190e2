#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# apr-pooldebug.sh DIR - build this machine's libapr1 with pool debugging
# into DIR (once; later calls reuse it) and print DIR/lib.
#
# Why: Debian builds APR with --enable-allocator-uses-mmap, so every pool
# is carved out of big mmap'd blocks that memcheck sees as one valid
# region: a module reading past the end of a pool string goes unnoticed
# (measured: a one-byte over-read of an apr_pstrdup() copy planted in the
# module is reported 19 times with this build, never with Debian's).  With
# --enable-pool-debug every apr_palloc() is its own malloc(), so memcheck
# checks each pool allocation.  Same version and Debian patches as the
# installed libapr1, so the ABI is the one httpd was built against; httpd
# picks it up through LD_LIBRARY_PATH, nothing is installed.
#
# The source comes from Debian's archive through apt-get source, with a
# private source list and package-list directory under DIR (the system's
# apt configuration is left alone).
set -eu
dir=$(mkdir -p "$1" && cd "$1" && pwd)
if [ -e "$dir/inst/lib/libapr-1.so.0" ]; then
    echo "$dir/inst/lib"
    exit 0
fi
version=$(dpkg-query -W -f='${Version}' libapr1)
apt="$dir/apt"
mkdir -p "$apt/parts" "$apt/lists/partial" "$dir/src"
cat >"$apt/parts/debian-src.sources" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
opts=(-q -o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$apt/parts"
      -o "Dir::State::Lists=$apt/lists")
{
    apt-get "${opts[@]}" update
    cd "$dir/src"
    apt-get "${opts[@]}" source --download-only "apr=$version"
} >"$dir/fetch.log" 2>&1 || { tail -20 "$dir/fetch.log" >&2; exit 1; }
cd "$dir/src"
rm -rf apr
mkdir apr
for f in apr_*.orig.tar.* apr_*.debian.tar.*; do
    case "$f" in *.asc) continue ;; esac
    case "$f" in
    *.orig.*) tar -xf "$f" -C apr --strip-components=1 ;;
    *) tar -xf "$f" -C apr ;;
    esac
done
cd apr
while read -r p _; do
    case "$p" in "" | \#*) continue ;; esac
    patch -p1 -s <"debian/patches/$p"
done <debian/patches/series
mkdir -p "$dir/build"
cd "$dir/build"
{
    CONFIG_SHELL=/bin/bash /bin/bash "$dir/src/apr/configure" \
        --prefix="$dir/inst" --enable-pool-debug=yes \
        --enable-nonportable-atomics
    make -j2
    make install
} >"$dir/build.log" 2>&1 || { tail -30 "$dir/build.log" >&2; exit 1; }
echo "$dir/inst/lib"
