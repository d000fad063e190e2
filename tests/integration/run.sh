#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Integration tests: a real Apache with build/mod_gwe_lb.so against real
# members, the whole suite once per MPM (event, worker, prefork).
#
#   tests/integration/run.sh [pytest args]     e.g. -k cookie, -x
#   GWE_MPMS="event"  GWE_MODULE=path/to/mod_gwe_lb.so  GWE_KEEP=1
#
# Ends with the line "N passed, M failed" and leaves "N M" in
# build/results/integration (tests/run-all.sh adds it to the summary).
# pytest's JUnit reports go to build/integration/.
set -u
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3  # Debian's, which has python3-pytest
mkdir -p build/results build/integration

finish() {  # finish PASSED FAILED
    echo "$1 $2" >build/results/integration
    echo "$1 passed, $2 failed"
    [ "$2" = 0 ]
    exit
}

module=${GWE_MODULE:-build/mod_gwe_lb.so}
if [ ! -f "$module" ] && [ -z "${GWE_MODULE:-}" ]; then
    make -s all || finish 0 1
fi
[ -f "$module" ] || { echo "no module at $module" >&2; finish 0 1; }
export GWE_MODULE=$(realpath "$module")

rm -f build/integration/junit-*.xml
for mpm in ${GWE_MPMS:-event worker prefork}; do
    echo "--- MPM $mpm"
    GWE_MPM=$mpm $PY -m pytest -q -p no:cacheprovider -o junit_family=xunit1 \
        --junitxml="build/integration/junit-$mpm.xml" tests/integration "$@"
done

# Count every test of every MPM run; a run that left no report is a failure.
read -r passed failed < <($PY - ${GWE_MPMS:-event worker prefork} <<'PYEOF'
import sys
import xml.etree.ElementTree as ET
passed = failed = 0
for mpm in sys.argv[1:]:
    try:
        root = ET.parse("build/integration/junit-%s.xml" % mpm).getroot()
    except (OSError, ET.ParseError):
        failed += 1
        continue
    for case in root.iter("testcase"):
        kinds = {child.tag for child in case}
        if kinds & {"failure", "error"}:
            failed += 1
        elif "skipped" not in kinds:
            passed += 1
print(passed, failed)
PYEOF
)
finish "${passed:-0}" "${failed:-1}"
