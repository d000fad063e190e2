#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tests/soak/quick.sh - the bounded fault and hostile-input tests; `make
# test` runs it as stage "faults" (tests/run-all.sh).
#
#   test_faults.py         a member killed under load, apache2 -k graceful
#                          under load, two instances routing alike
#   test_hostile_corpus.py 10,000 seeded hostile requests through Apache
#
# Bounded by request counts, not by time: a few thousand requests per
# fault test, 10,000 corpus cases.  `make soak` (run.sh) runs the same
# tests longer.  Ends with "N passed, M failed"; writes "N M" to
# build/results/faults.
set -u
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
mkdir -p build/results build/soak
export GWE_SOAK_FIGURES=build/soak/figures-quick.jsonl
rm -f "$GWE_SOAK_FIGURES" build/soak/quick.xml
[ -f build/mod_gwe_lb.so ] || make -s all || exit 1
# Test a private copy of the module: `make all` rewrites build/mod_gwe_lb.so
# in place (cp), and a module file rewritten under a running Apache crashes
# it (its children die with SIGSEGV/SIGBUS, new ones at once; seen when
# another build ran during a soak).  install(1) replaces, never rewrites.
install -m 755 build/mod_gwe_lb.so build/soak/mod_gwe_lb.so || exit 1
export GWE_MODULE="$PWD/build/soak/mod_gwe_lb.so"
echo "module under test: $GWE_MODULE (sha256 $(sha256sum <"$GWE_MODULE" | cut -c1-16))"

t0=$SECONDS
"$PY" -m pytest -p no:cacheprovider -q -rfE --junitxml=build/soak/quick.xml \
    tests/soak
rc=$?

echo
echo "--- figures (time $((SECONDS - t0)) s)"
"$PY" tests/soak/figures.py "$GWE_SOAK_FIGURES" $((SECONDS - t0))

read -r passed failed < <("$PY" - <<'EOF'
import xml.etree.ElementTree as ET
try:
    root = ET.parse("build/soak/quick.xml").getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    n = int(suite.get("tests"))
    bad = int(suite.get("failures")) + int(suite.get("errors"))
    print(n - bad - int(suite.get("skipped")), bad)
except Exception:
    print(0, 1)
EOF
)
if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "$passed $failed" >build/results/faults
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
