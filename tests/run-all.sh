#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make test`: every stage in order; a summary line at the end.
# Stages that run a test suite leave "PASSED FAILED" in build/results/NAME.
set -u
cd "$(dirname "$0")/.."
mkdir -p build/results
rm -f build/results/*
status=0
passed=0
failed=0

stage() {  # stage NAME COMMAND...
    local name=$1; shift
    echo "=== $name"
    local t0=$SECONDS
    if "$@" 2>&1 | tee "build/results/$name.log"; [ "${PIPESTATUS[0]}" = 0 ]; then
        echo "=== $name: ok ($((SECONDS - t0)) s)"
    else
        echo "=== $name: FAILED ($((SECONDS - t0)) s)"
        status=1
        [ -f "build/results/$name" ] || echo "0 1" >"build/results/$name"
    fi
}

check_counts() {  # Check's "N%: Checks: C, Failures: F, Errors: E"
    local line c f e
    line=$(grep -Eo 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' \
        "build/results/$1.log" | tail -1)
    [ -n "$line" ] || return 0
    c=$(echo "$line" | sed -E 's/Checks: ([0-9]+).*/\1/')
    f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
    e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
    echo "$((c - f - e)) $((f + e))" >"build/results/$1"
}

stage build make -s all
stage unit make -s unit
check_counts unit
stage unit-san make -s unit-san
check_counts unit-san
stage alloc-guard make -s alloc-guard
stage fuzz-replay make -s fuzz-replay
stage fuzz-smoke make -s fuzz-smoke
stage consistency tests/consistency/check.sh
stage integration tests/integration/run.sh
if [ -x tests/browser/run.sh ]; then stage browser tests/browser/run.sh; fi
if [ -x tests/soak/quick.sh ]; then stage faults tests/soak/quick.sh; fi

echo
for f in build/results/*; do
    case $f in *.log|*.txt) continue ;; esac  # logs, figures: not counts
    read -r p q <"$f"
    printf '  %-14s %5d passed, %d failed\n' "$(basename "$f")" "$p" "$q"
    passed=$((passed + p)); failed=$((failed + q))
done
[ $status = 0 ] || [ $failed -gt 0 ] || failed=1
echo "summary: $passed passed, $failed failed"
exit $status
