#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Consistency checks: every directive of the command table has a default in
# the README, a merge rule, a README entry and a sample; every test source
# is registered; the code is clang-formatted.  Ends with "N passed, M failed"
# and leaves "N M" in build/results/consistency.
cd "$(dirname "$0")/../.." || exit 1
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

directives=$(grep -hoE 'AP_INIT_[A-Z0-9_]+\("GWELB[A-Za-z]+"' mod_gwe_lb*.c |
    grep -oE 'GWELB[A-Za-z]+' | sort)
readme=$(grep -oE '^GWELB[A-Za-z]+ .*default: ' README | cut -d' ' -f1 | sort -u)
[ -n "$directives" ] && [ "$directives" = "$readme" ] && ok ||
    bad "the command table ($(echo $directives)) and README 3 ($(echo $readme))" \
        "name different directives"

# The field each directive sets, as named in mod_gwe_lb.h.
declare -A field=([GWELBStickyParam]=nparams [GWELBRouteCookie]=cookie_name
    [GWELBRouteSeparator]=separator [GWELBStickyForce]=sticky_force
    [GWELBCookieFromParam]=cookie_from_param [GWELBCookieKey]=nkeys
    [GWELBFallback]=fallback)
merge=$(sed -n '/^void \*gwelb_merge_balancer_conf/,/^}/p' mod_gwe_lb_config.c)
for d in $directives; do
    grep -qE "^$d .*default: " README && ok || bad "$d: no README entry with its default"
    grep -lq "^[[:space:]]*$d" conf-samples/*.conf && ok || bad "$d: in no conf-samples file"
    f=${field[$d]}
    [ -n "$f" ] && echo "$merge" | grep -q "add->$f" && ok ||
        bad "$d: no merge rule for ${f:-its field} in gwelb_merge_balancer_conf"
done

# Every Check test function is added to a suite.
for t in $(grep -hoE '^START_TEST\(([a-z0-9_]+)' tests/unit/*.c | sed 's/START_TEST(//'); do
    grep -qE "tcase_add_(loop_)?test\([^,]+, *$t\b" tests/unit/*.c && ok ||
        bad "unit test $t is not registered in a suite"
done

# Every pytest file is collected by a runner script.
for f in tests/integration/test_*.py tests/browser/test_*.py tests/soak/test_*.py; do
    [ -e "$f" ] || continue
    d=$(dirname "$f")
    grep -q "pytest" "$d/run.sh" "$d/quick.sh" 2>/dev/null && ok ||
        bad "$f: no runner in $d"
done

# One formatting style.  Without clang-format that is a failure, not a
# skip: scripts/deps.sh (make deps) installs it.
if command -v clang-format >/dev/null; then
    for f in mod_gwe_lb*.c mod_gwe_lb.h sticky/*.c sticky/*.h; do
        clang-format --dry-run -Werror "$f" >/dev/null 2>&1 && ok ||
            bad "$f is not clang-formatted (clang-format -i $f)"
    done
else
    bad "clang-format is missing, so the formatting is not checked" \
        "(install it: make deps, or apt-get install clang-format)"
fi

mkdir -p build/results
echo "$pass $fail" >build/results/consistency
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
