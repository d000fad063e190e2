#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# What the server-status counters cost per request (issue 15: at most 100
# instructions), `make bench-status` (~1 minute; part of `make bench`).
#
# The counters are always kept (mod_status only shows them), so there is
# no "without" variant to subtract: callgrind counts the inclusive
# instructions of gwelb_status_count, the one function the request path
# calls for them (the balancer's slot lookup and every atomic add
# included), in the same runs bench/instr.sh makes: two fresh `apache2 -X`,
# WARM and WARM+N requests over one keep-alive connection, (second - first)
# / N.  Shapes: a new visitor on the cookie balancer (member by lbmethod +
# Issued), a returning one (Cookie), a routed parameter (Param + Issued).
#
# Knobs: BENCH_INSTR_REQUESTS (N, 400), BENCH_INSTR_WARMUP (WARM, 50).
# Output also goes to bench/results/status-cost-<date>.txt.
set -u
set -o pipefail
. "$(dirname "$0")/lib.sh"

N=${BENCH_INSTR_REQUESTS:-400}
WARM=${BENCH_INSTR_WARMUP:-50}
FN=gwelb_status_count
GOAL=100

# inclusive FILE: instructions spent in $FN and what it calls
inclusive() {
    callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
        awk -v fn="$FN" '$0 ~ (":" fn " ") || $0 ~ (":" fn "$") {
            gsub(",", "", $1); print $1; found = 1; exit }
            END { if (!found) print 0 }'
}

main() {
    local T0=$SECONDS v w a b f worst=0 per
    need_module 3 4
    command -v valgrind >/dev/null || die "valgrind is missing (apt-get install valgrind)"
    bench_setup_tmp
    bench_make_inputs
    echo "mod_gwe_lb server-status counters, instructions per request, $(date '+%Y-%m-%d %H:%M:%S %z')"
    echo "  repo    $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO_DIR" diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
    echo "  apache  $("$APACHE_BIN" -v | sed -n 's/^Server version: //p'), event MPM, apache2 -X; $(valgrind --version)"
    echo "  inclusive instructions of $FN, $N requests after $WARM of warm-up"
    bench_start_members
    printf '%-36s %8s %6s\n' shape counters goal
    for vw in 3:cookie-new 3:cookie-only 4:query-200; do
        v=${vw%%:*}; w=${vw#*:}; f=$BENCH_TMP/callgrind/s$v-$w
        cg_run "$v" "$w" "$WARM" "$f.warm.out" >/dev/null || exit 1
        cg_run "$v" "$w" $((WARM + N)) "$f.all.out" >/dev/null || exit 1
        a=$(inclusive "$f.warm.out"); b=$(inclusive "$f.all.out")
        per=$(awk -v a="$a" -v b="$b" -v n="$N" 'BEGIN {printf "%.0f", (b - a) / n}')
        [ "$b" -gt 0 ] || die "$FN not seen in callgrind's output for $w"
        [ "$per" -gt "$worst" ] && worst=$per
        printf '%-36s %8d %6s\n' "$w (${VARIANT_NAME[$v]})" "$per" "<=$GOAL"
    done
    echo "worst: $worst instructions per request; goal <= $GOAL: $([ "$worst" -le $GOAL ] && echo met || echo MISSED)"
    echo "took $((SECONDS - T0)) s"
    [ "$worst" -le $GOAL ]
}

mkdir -p "$BENCH_DIR/results"
out=$BENCH_DIR/results/status-cost-$(date +%Y%m%d-%H%M%S).txt
main 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
