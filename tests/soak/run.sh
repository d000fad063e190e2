#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/soak/run.sh - `make soak`: the long fault and hostile-input runs.
#
#   1. the hostile corpus, 5 seeds x GWE_SOAK_CORPUS (20,000) cases
#   2. under each MPM (event, worker, prefork): a member killed and brought
#      back GWE_SOAK_KILL_CYCLES (6) times, one member after the other,
#      GWE_SOAK_GRACEFULS (10) graceful restarts, three instances routing
#      alike over GWE_SOAK_INSTANCE_CASES (3,000) corpus cases; longer
#      phases, more keep-alive connections, wrk beside the Python load
#   3. memcheck (valgrind) of a single-process apache2 -X with N and 10N
#      hostile requests, with an APR built for pool debugging
#      (apr-pooldebug.sh), and the process's RSS after M and 10M requests
#
# Prints the figures of every run - requests sent, failures, route
# changes, crashes, leaks - and the time taken.  Exits non-zero when
# anything failed.  `make fuzz` runs the libFuzzer targets longer; this
# script does not.
set -u
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
t0=$SECONDS
mkdir -p build/soak
export GWE_SOAK_FIGURES=build/soak/figures-soak.jsonl
rm -f "$GWE_SOAK_FIGURES"
# valgrind is only needed here; scripts/deps.sh stays the one installer.
GWE_EXTRA_PACKAGES="valgrind" scripts/deps.sh || exit 1
[ -f build/mod_gwe_lb.so ] || make -s all || exit 1
# Test a private copy of the module: `make all` rewrites build/mod_gwe_lb.so
# in place (cp), and a module file rewritten under a running Apache crashes
# it (its children die with SIGSEGV/SIGBUS, new ones at once; seen when
# another build ran during a soak).  install(1) replaces, never rewrites.
install -m 755 build/mod_gwe_lb.so build/soak/mod_gwe_lb.so || exit 1
export GWE_MODULE="$PWD/build/soak/mod_gwe_lb.so"
echo "module under test: $GWE_MODULE (sha256 $(sha256sum <"$GWE_MODULE" | cut -c1-16))"

status=0
failed_steps=""
step() {  # step NAME COMMAND...
    local name=$1; shift
    echo "=== soak: $name"
    local s=$SECONDS
    if "$@"; then
        echo "=== soak: $name ok ($((SECONDS - s)) s)"
    else
        echo "=== soak: $name FAILED ($((SECONDS - s)) s)"
        status=1
        failed_steps="$failed_steps $name"
    fi
}
pytest() { "$PY" -m pytest -p no:cacheprovider -q -rfE "$@"; }

export GWE_SOAK_CORPUS=${GWE_SOAK_CORPUS:-20000}
for seed in ${GWE_SOAK_SEEDS:-101 102 103 104 105}; do
    GWE_SOAK_SEED=$seed step "corpus-seed-$seed" \
        pytest tests/soak/test_hostile_corpus.py
done

export GWE_SOAK_KILL_CYCLES=${GWE_SOAK_KILL_CYCLES:-6}
export GWE_SOAK_PHASE=${GWE_SOAK_PHASE:-2000}
export GWE_SOAK_GRACEFULS=${GWE_SOAK_GRACEFULS:-10}
export GWE_SOAK_INSTANCE_CASES=${GWE_SOAK_INSTANCE_CASES:-3000}
for mpm in event worker prefork; do
    # prefork holds one process per keep-alive connection (16 here)
    if [ $mpm = prefork ]; then workers=10 wrk_c=2; else workers=20 wrk_c=4; fi
    GWE_MPM=$mpm GWE_SOAK_WORKERS=${GWE_SOAK_WORKERS:-$workers} \
        GWE_SOAK_WRK_THREADS=2 GWE_SOAK_WRK_CONNECTIONS=$wrk_c \
        step "faults-$mpm" pytest tests/soak/test_faults.py
done

apr_lib=$(tests/soak/apr-pooldebug.sh build/soak/apr-pooldebug) || {
    echo "soak: could not build APR with pool debugging; memcheck runs on"
    echo "      Debian's APR, which hides pool over-reads from memcheck"
    apr_lib=""
}
step memcheck "$PY" tests/soak/memcheck.py --apr-lib "$apr_lib" \
    --requests "${GWE_SOAK_MEMCHECK:-300}" --native "${GWE_SOAK_RSS:-2000}"

echo
echo "=== soak figures"
"$PY" tests/soak/figures.py "$GWE_SOAK_FIGURES" $((SECONDS - t0))
if [ $status = 0 ]; then
    echo "soak: passed ($((SECONDS - t0)) s)"
else
    echo "soak: FAILED:$failed_steps ($((SECONDS - t0)) s)"
fi
exit $status
