#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# `make bench-e2e`: what mod_gwe_lb costs end to end, against what an
# administrator has without it.  One Apache (same binary, event MPM, same
# settings) per variant, all proxying to the same two nginx members on
# 127.0.0.1:
#   1 floor        mod_proxy_balancer without stickiness
#   2 stock-cookie stickysession=ROUTEID + mod_headers Set-Cookie recipe
#   3 gwe-cookie   mod_gwe_lb, GWELBRouteCookie ROUTEID path=/
#   4 gwe-param    mod_gwe_lb, GWELBStickyParam alias
#   5 stock-param  stickysession=alias
# Every variant is checked to route as configured before it is measured, and
# the members' Elected counters are checked after every measurement.  Each
# request shape (bench/README.md) runs against the floor, its stock variant
# and its module variant (cookie shapes 1 2 3, parameter shapes 1 5 4) in
# interleaved rounds; the table shows medians and the ratios module/floor
# and module/stock.  Results: terminal and bench/results/e2e-<date>.txt.
#
# Knobs (environment): BENCH_DURATION (s, default 3), BENCH_ROUNDS (3),
# BENCH_THREADS (1), BENCH_CONNECTIONS (32), BENCH_WARMUP (s, 1),
# BENCH_VARIANTS ("1 2 3 4 5"), BENCH_WORKLOADS (all), BENCH_WRK_CPU (0),
# BENCH_APACHE_CPU (1), BENCH_NGINX_CPU (0) -- set a CPU variable to "" to
# leave that process unpinned -- BENCH_KEEP_TMP=1 keeps the temp dir.
set -u
set -o pipefail
. "$(dirname "$0")/lib.sh"

BENCH_DURATION=${BENCH_DURATION:-3}
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_THREADS=${BENCH_THREADS:-1}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_WARMUP=${BENCH_WARMUP:-1}
read -r -a VARIANTS <<<"${BENCH_VARIANTS:-1 2 3 4 5}"
[ -n "${BENCH_WORKLOADS:-}" ] && read -r -a WORKLOADS <<<"$BENCH_WORKLOADS"
NCPU=$(nproc)
if [ "$NCPU" -ge 2 ]; then
    BENCH_WRK_CPU=${BENCH_WRK_CPU-0}
    BENCH_APACHE_CPU=${BENCH_APACHE_CPU-1}
    BENCH_NGINX_CPU=${BENCH_NGINX_CPU-0}
else
    BENCH_WRK_CPU=${BENCH_WRK_CPU-}; BENCH_APACHE_CPU=${BENCH_APACHE_CPU-}
    BENCH_NGINX_CPU=${BENCH_NGINX_CPU-}
fi

for tool in "$APACHE_BIN" "$NGINX_BIN" "$WRK_BIN" curl python3 taskset; do
    command -v "$tool" >/dev/null || die "$tool is missing (make deps installs it)"
done
need_module "${VARIANTS[@]}"

mkdir -p "$BENCH_DIR/results"
RESULTS=$BENCH_DIR/results/e2e-$(date +%Y%m%d-%H%M%S).txt

main() {
T0=$SECONDS
bench_setup_tmp
bench_make_inputs

# ---- what was measured, with what -------------------------------------------

mpm_line=$(grep -E '^(StartServers|ServerLimit|ThreadsPerChild|MaxRequestWorkers)' \
    "$BENCH_DIR/conf/httpd-common.conf" | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')
cpu_model=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
echo "mod_gwe_lb end-to-end benchmark, $(date '+%Y-%m-%d %H:%M:%S %z')"
echo "  repo        $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO_DIR" diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
if [ -n "${BENCH_MODULE_ORIG:-}" ]; then
    echo "  module      $BENCH_MODULE_ORIG (built $(stat -c '%y' "$BENCH_MODULE_ORIG" | cut -d. -f1), sha256 $BENCH_MODULE_SHA..., run from a copy)"
fi
echo "  apache      $("$APACHE_BIN" -v | sed -n 's/^Server version: //p'), $APACHE_BIN, MPM event"
echo "              $mpm_line; KeepAlive On, MaxKeepAliveRequests 0; no access log"
echo "  members     $("$NGINX_BIN" -v 2>&1 | sed 's/^nginx version: //'), 1 worker, 2 ports, static 6-byte body, access_log off"
echo "  wrk         $("$WRK_BIN" -v 2>&1 | head -1 | cut -d' ' -f1-2), -t$BENCH_THREADS -c$BENCH_CONNECTIONS -d${BENCH_DURATION}s, keep-alive, static request (bench/lua/workload.lua)"
echo "  rounds      $BENCH_ROUNDS interleaved per shape (floor stock module floor stock module ...), median shown; ${BENCH_WARMUP}s warm-up per variant"
echo "  machine     $NCPU CPUs ($cpu_model), $(uname -sr)"
echo "  pinning     wrk: ${BENCH_WRK_CPU:-none}, Apache: ${BENCH_APACHE_CPU:-none}, nginx: ${BENCH_NGINX_CPU:-none} (taskset -c): Apache alone on its"
echo "              CPU is the bottleneck, so its per-request cost shows in full (round lines: \"apache\" = its CPU use,"
echo "              \"cpus\" = busy % of each CPU)"
echo "  load        $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start; other work on this machine adds noise"
echo "  variants"
for v in "${VARIANTS[@]}"; do
    printf '    %d %-11s %s\n' "$v" "${VARIANT_NAME[$v]}" "${VARIANT_DESC[$v]}"
done
echo "  workloads"
for w in "${WORKLOADS[@]}"; do
    printf '    %-14s %s\n' "$w" "$(input_desc "$w")"
done
echo

# ---- start, check, warm up ------------------------------------------------------

bench_start_members
for v in "${VARIANTS[@]}"; do
    bench_start_apache "$v"
done
# The routing checks of all variants at once (each has its own Apache).
for v in "${VARIANTS[@]}"; do
    check_variant "$v" >"$BENCH_TMP/check-$v.log" 2>&1 &
done
failed=0
for v in "${VARIANTS[@]}"; do
    wait -n || failed=1
done
if [ $failed != 0 ]; then
    cat "$BENCH_TMP"/check-*.log >&2
    die "routing check failed"
fi
echo "routing check: passed (curl, every variant and workload, plus node2 twins of the sticky inputs: sticky ones"
echo "  4 times on the named member, others until both members served; Set-Cookie ROUTEID=.<member> exactly when expected;"
echo "  during the measurements the members' Elected counters are checked the same way)"
for v in "${VARIANTS[@]}"; do
    measure "$v" "${WORKLOADS[0]}" "$BENCH_WARMUP" >/dev/null
done

# ---- measure ----------------------------------------------------------------------

declare -A RPS P99 CPU
nrounds=0; starved=0
have() { [[ " ${VARIANTS[*]} " == *" $1 "* ]]; }
# shape_variants W: the variants run for shape W (floor, stock, module).
shape_variants() {
    local v
    for v in 1 "$(shape_stock "$1")" "$(shape_module "$1")"; do have "$v" && echo "$v"; done
}
for w in "${WORKLOADS[@]}"; do
    for r in $(seq 1 "$BENCH_ROUNDS"); do
        for v in $(shape_variants "$w"); do
            res=$(measure "$v" "$w" "$BENCH_DURATION") || exit 1
            rps=$(sed -E 's/.* rps=([0-9.]+).*/\1/' <<<"$res")
            p99=$(sed -E 's/.* p99_us=([0-9]+).*/\1/' <<<"$res")
            RPS[$w,$v]+="$rps "
            P99[$w,$v]+="$p99 "
            CPU[$w,$v]+="$(sed -E 's/.* apache_us=([0-9.]+).*/\1/' <<<"$res") "
            # A round where Apache got well under its whole CPU was shared
            # with other work: counted, to say how far to trust the medians.
            nrounds=$((nrounds + 1))
            [ "$(sed -E 's/.* apache_pct=([0-9]+).*/\1/' <<<"$res")" -lt 85 ] \
                && starved=$((starved + 1))
            printf '  %-13s r%d %d %-12s %7.0f req/s  p99 %6.2f ms  apache %3s%% %6s us/req  cpus %-7s elected %-13s%s\n' \
                "$w" "$r" "$v" "${VARIANT_NAME[$v]}" "$rps" \
                "$(awk -v u="$p99" 'BEGIN {print u / 1000}')" \
                "$(sed -E 's/.* apache_pct=([0-9]+).*/\1/' <<<"$res")" \
                "$(sed -E 's/.* apache_us=([0-9.]+).*/\1/' <<<"$res")" \
                "$(sed -E 's/.* cpu=([0-9/]+).*/\1/' <<<"$res")" "${res##*elected=}" \
                "$(sed -E 's/.* sockerr=([0-9]+).*/\1/; s/^0$//; s/^([0-9]+)$/  socket errors: \1/' <<<"$res")"
        done
    done
done

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR] = $1}
    END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3f", a / b }'; }

declare -A MR MP MC
for w in "${WORKLOADS[@]}"; do
    for v in $(shape_variants "$w"); do
        MR[$w,$v]=$(median <<<"${RPS[$w,$v]}")
        MP[$w,$v]=$(median <<<"${P99[$w,$v]}")
        MC[$w,$v]=$(median <<<"${CPU[$w,$v]}")
    done
done

# ---- report -------------------------------------------------------------------------

# cell ARRAY W ROLE: the median of shape W's floor/stock/module ("" when not run).
role_v() { case $2 in floor) echo 1 ;; stock) shape_stock "$1" ;; module) shape_module "$1" ;; esac; }
cell() {
    local v; v=$(role_v "$2" "$3")
    have "$v" || return 0
    case $1 in MR) echo "${MR[$2,$v]}" ;; MP) echo "${MP[$2,$v]}" ;; MC) echo "${MC[$2,$v]}" ;; esac
}
fmt() { if [ -z "$2" ]; then printf " %${3}s" -; else printf " %${3}${1}" "$2"; fi; }

echo
echo "Spread of req/s over the rounds, (max - min) / median: how noisy each median is"
for w in "${WORKLOADS[@]}"; do
    printf '  %-14s' "$w"
    for v in $(shape_variants "$w"); do
        printf ' %d:%5.1f%%' "$v" "$(tr ' ' '\n' <<<"${RPS[$w,$v]}" | grep . | sort -g |
            awk -v m="${MR[$w,$v]}" 'NR == 1 {lo = $1} {hi = $1} END {print 100 * (hi - lo) / m}')"
    done
    echo
done

echo
echo "Medians of $BENCH_ROUNDS rounds, ${BENCH_DURATION}s each; req/s (higher is better), p99 latency in ms (lower is better)"
echo "stock/module: cookie shapes variants 2/3, parameter shapes 5/4"
printf '%-14s %8s %8s %8s %7s %7s %7s %6s %6s\n' shape floor stock module f:p99 s:p99 m:p99 m/f m/s
shortfalls=()
for w in "${WORKLOADS[@]}"; do
    f=$(cell MR "$w" floor); st=$(cell MR "$w" stock); mo=$(cell MR "$w" module)
    printf '%-14s' "$w"
    fmt .0f "$f" 8; fmt .0f "$st" 8; fmt .0f "$mo" 8
    for role in floor stock module; do
        p=$(cell MP "$w" $role)
        fmt .2f "$( [ -n "$p" ] && awk -v u="$p" 'BEGIN {print u / 1000}')" 7
    done
    printf ' %6s %6s\n' "$(ratio "$mo" "$f")" "$(ratio "$mo" "$st")"
    # The goal (reported, not enforced): >= 0.99x the floor, >= 1.0x the
    # stock recipe, p99 no worse than the stock recipe.
    [ -n "$mo" ] || continue
    m=$(shape_module "$w"); s=$(shape_stock "$w")
    if [ -n "$f" ]; then
        r=$(ratio "$mo" "$f")
        awk -v r="$r" 'BEGIN {exit !(r < 0.99)}' && shortfalls+=("$w: $m/1 = $r < 0.99")
    fi
    if [ -n "$st" ]; then
        r=$(ratio "$mo" "$st")
        awk -v r="$r" 'BEGIN {exit !(r < 1.0)}' && shortfalls+=("$w: $m/$s = $r < 1.00")
        awk -v a="${MP[$w,$m]}" -v b="${MP[$w,$s]}" 'BEGIN {exit !(a > b)}' \
            && shortfalls+=("$w: p99 of $m = $(awk -v u="${MP[$w,$m]}" 'BEGIN {printf "%.2f", u / 1000}') ms > $(awk -v u="${MP[$w,$s]}" 'BEGIN {printf "%.2f", u / 1000}') ms of $s")
    fi
done
echo
echo "Apache CPU time per request, median, in microseconds (lower is better; less sensitive than req/s"
echo "to other work on the machine, which takes CPU time from Apache rather than adding to it)"
printf '%-14s %8s %8s %8s %6s %6s\n' shape floor stock module m/f m/s
for w in "${WORKLOADS[@]}"; do
    f=$(cell MC "$w" floor); st=$(cell MC "$w" stock); mo=$(cell MC "$w" module)
    printf '%-14s' "$w"
    fmt .2f "$f" 8; fmt .2f "$st" 8; fmt .2f "$mo" 8
    printf ' %6s %6s\n' "$(ratio "$mo" "$f")" "$(ratio "$mo" "$st")"
done
echo
cat <<'NOTES'
Notes: ratios are of medians.  "apache N%" in the round lines is Apache's CPU use over the run, in %
of its CPU: well under 100 means other work took that CPU and the round is noisy.  Sticky requests
all go to node1 (elected= in the round lines); byrequests counts them, so unrouted requests that
follow go to node2 until the counts even out -- stock mod_proxy_balancer and mod_gwe_lb alike.
make bench-instr (bench/instr.sh) gives noise-free instructions per request for the same shapes.

NOTES
if [ "$starved" -gt 0 ]; then
    echo "noise: in $starved of $nrounds rounds Apache had less than 85% of its CPU (other work on the machine);"
    echo "       differences of a few % are not measurable in this run -- see make bench-instr"
else
    echo "noise: Apache had at least 85% of its CPU in every round"
fi
if ! have 3 && ! have 4; then
    echo "goal: not evaluated (mod_gwe_lb variants not run)"
elif [ ${#shortfalls[@]} = 0 ]; then
    echo "goal: met on every workload (mod_gwe_lb >= 0.99x floor, >= 1.0x stock, p99 <= stock)"
else
    echo "goal: short on ${#shortfalls[@]} point(s) (reported, not enforced; check the per-round spread for noise):"
    printf '  %s\n' "${shortfalls[@]}"
fi
echo "run took $((SECONDS - T0)) s; results: ${RESULTS#"$REPO_DIR"/}"
}

main 2>&1 | tee "$RESULTS"
exit "${PIPESTATUS[0]}"
