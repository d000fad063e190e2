#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Browser tests: headless Chromium, Firefox ESR and WebKitGTK against a real
# Apache with mod_gwe_lb over TLS (tests/browser/*.py, pytest;
# GWE_BROWSER_FULL=1 runs every engine cell of README 8.1, make
# browser-full).  Prints the measured cookie table (build/browser/table.txt),
# ends with "N passed, M failed" and leaves "N M" in build/results/browser.
# Extra arguments go to pytest.
set -u
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3    # Debian's, with python3-pytest
mkdir -p build/results build/browser
rm -f build/browser/table-*.json build/browser/engine-*.json \
    build/browser/table.txt

finish() {  # finish PASSED FAILED
    echo "$1 $2" >build/results/browser
    echo "$1 passed, $2 failed"
    [ "$2" = 0 ] && [ "$1" -gt 0 ]
    exit
}

[ -f build/mod_gwe_lb.so ] || make -s all || finish 0 1

$PY -m pytest -p no:cacheprovider -q -rfE tests/browser "$@" 2>&1 \
    | tee build/browser/pytest.log
rc=${PIPESTATUS[0]}

summary=$(grep -E '^=*.* in [0-9.]+s' build/browser/pytest.log | tail -1)
count() { echo "$summary" | grep -Eo "[0-9]+ $1" | grep -Eo '^[0-9]+' || echo 0; }
passed=$(count passed)
failed=$(( $(count failed) + $(count error) ))
# pytest stopped before or outside the tests (usage error, crash): a failure.
[ "$rc" != 0 ] && [ "$failed" = 0 ] && failed=1

if $PY tests/browser/cookietable.py build/browser >build/browser/table.txt \
        2>/dev/null; then
    echo
    cat build/browser/table.txt
fi
finish "$passed" "$failed"
