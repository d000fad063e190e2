#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Where the time goes, for the lead when bench/run.sh shows a shortfall.
#
#   bench/profile.sh instr [VARIANT...]
#       Instructions per request (valgrind --tool=callgrind on `apache2 -X`)
#       for every workload of bench/run.sh and the given variants (default
#       1 2 3 4 5): exact counts, so unlike req/s they do not depend on what
#       else runs on the machine.  Then the functions of mod_gwe_lb.so by
#       inclusive cost on the large inputs.  ~1-2 minutes per variant.
#   bench/profile.sh perf VARIANT WORKLOAD [SECONDS]
#       A cpu-clock sampling profile (perf record -g) of the variant's Apache
#       processes under wrk load, by shared object and by function.
#
# Same members, configurations and inputs as bench/run.sh (bench/lib.sh).
# Knobs: BENCH_INSTR_REQUESTS (requests per workload, default 500),
# BENCH_KEEP_TMP=1 keeps the callgrind files.  Output also goes to
# bench/results/{instr,perf}-<date>.txt.
set -u
set -o pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-}
shift || true
BENCH_THREADS=${BENCH_THREADS:-1}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
if [ "$(nproc)" -ge 2 ]; then
    BENCH_WRK_CPU=${BENCH_WRK_CPU-0}
    BENCH_APACHE_CPU=${BENCH_APACHE_CPU-1}
    BENCH_NGINX_CPU=${BENCH_NGINX_CPU-0}
fi

instr() {
    local variants=("$@") n=${BENCH_INSTR_REQUESTS:-500} v w f cg
    [ ${#variants[@]} = 0 ] && variants=("${ALL_VARIANTS[@]}")
    [ -n "${BENCH_WORKLOADS:-}" ] && read -r -a WORKLOADS <<<"$BENCH_WORKLOADS"
    need_module "${variants[@]}"
    command -v valgrind >/dev/null || die "valgrind is missing (apt-get install valgrind)"
    bench_setup_tmp
    bench_make_inputs
    bench_start_members
    # Routing first, on ordinary instances.
    for v in "${variants[@]}"; do bench_start_apache "$v"; check_variant "$v"; bench_stop_apache "$v"; done
    cg=$BENCH_TMP/callgrind
    mkdir -p "$cg"; chmod 1777 "$cg"
    declare -A IR
    echo "Instructions per request: valgrind --tool=callgrind on apache2 -X, counting only inside"
    echo "ap_run_process_connection (one call per request on a keep-alive connection with the"
    echo "event MPM), a fresh Apache per variant and workload, $n requests over one connection."
    echo "  $("$APACHE_BIN" -v | sed -n 's/^Server version: //p'); $(valgrind --version); routing checked first"
    for v in "${variants[@]}"; do
        for w in "${WORKLOADS[@]}"; do
            APACHE_WRAPPER="valgrind --tool=callgrind --collect-atstart=no"
            APACHE_WRAPPER+=" --toggle-collect=ap_run_process_connection"
            APACHE_WRAPPER+=" --vgdb=no --callgrind-out-file=$cg/v$v-$w.out"
            APACHE_RUN_AS=www-data
            bench_start_apache "$v"
            APACHE_WRAPPER=""; APACHE_RUN_AS=""
            fixed_load "$v" "$w" "$n"
            bench_stop_apache "$v"
            f=$cg/v$v-$w.out
            [ -s "$f" ] || die "no callgrind output for variant $v, $w"
            IR[$w,$v]=$(( $(cg_total "$f") / n ))
            printf '  variant %d %-12s %-14s %9d instructions/request\n' \
                "$v" "${VARIANT_NAME[$v]}" "$w" "${IR[$w,$v]}" >&2
        done
    done
    echo
    printf '%-17s' workload
    for v in "${variants[@]}"; do printf ' %12s' "$v:${VARIANT_NAME[$v]}"; done
    echo
    for w in "${WORKLOADS[@]}"; do
        printf '%-17s' "$w"
        for v in "${variants[@]}"; do printf ' %12d' "${IR[$w,$v]}"; done
        echo
    done
    if [ -n "${IR[${WORKLOADS[0]},1]:-}" ]; then
        echo
        echo "difference to variant 1 (instructions per request, and %):"
        for w in "${WORKLOADS[@]}"; do
            printf '%-17s' "$w"
            for v in "${variants[@]}"; do
                printf ' %+7d (%+5.1f%%)' $((IR[$w,$v] - IR[$w,1])) \
                    "$(awk -v a="${IR[$w,$v]}" -v b="${IR[$w,1]}" 'BEGIN {print 100 * (a - b) / b}')"
            done
            echo
        done
    fi
    # Function-level: what each shape's stock and module variants add to the
    # floor, and the module to the stock variant.
    local base pair
    for w in "${WORKLOADS[@]}"; do
        for pair in "$(shape_stock "$w") 1" "$(shape_module "$w") 1" \
                    "$(shape_module "$w") $(shape_stock "$w")"; do
            read -r v base <<<"$pair"
            [ -n "${IR[$w,$v]:-}" ] && [ -n "${IR[$w,$base]:-}" ] || continue
            {
                echo
                echo "variant $v (${VARIANT_NAME[$v]}) against $base (${VARIANT_NAME[$base]}), $w:" \
                     "$((IR[$w,$v] - IR[$w,$base])) instructions per request more"
                python3 "$BENCH_DIR/cg_diff.py" "$cg/v$base-$w.out" "$n" \
                    "$cg/v$v-$w.out" "$n" 10
            }
        done
    done
}

perf_profile() {
    local v=${1:-} w=${2:-} d=${3:-10} pids data
    [ -n "$v" ] && [ -n "$w" ] || die "usage: bench/profile.sh perf VARIANT WORKLOAD [SECONDS]"
    need_module "$v"
    command -v perf >/dev/null || die "perf is missing (apt-get install linux-perf)"
    bench_setup_tmp
    bench_make_inputs
    bench_start_members
    bench_start_apache "$v"
    check_variant "$v"
    measure "$v" "$w" 2 >/dev/null                     # warm up
    pids=$(cat "$BENCH_TMP/v$v/httpd.pid"; pgrep -P "$(cat "$BENCH_TMP/v$v/httpd.pid")")
    data=$BENCH_TMP/perf.data
    measure "$v" "$w" "$d" >"$BENCH_TMP/perf.wrk" &
    local wrk_job=$!
    sleep 0.5
    # cpu-clock: this VM has no hardware counters (perf stat -e instructions
    # says <not supported>); software sampling still works.
    perf record -e cpu-clock -F 2999 -g -o "$data" -p "$(paste -sd, <<<"$pids")" \
        -- sleep $((d - 1)) >/dev/null 2>"$BENCH_TMP/perf.log" \
        || { cat "$BENCH_TMP/perf.log" >&2; die "perf record failed"; }
    wait $wrk_job || die "wrk failed during the profile"
    echo "variant $v (${VARIANT_NAME[$v]}), $w, ${d}s: $(cat "$BENCH_TMP/perf.wrk")"
    echo
    echo "by shared object (self):"
    perf report -i "$data" --no-children --sort dso --stdio 2>/dev/null |
        grep -E '^ +[0-9.]+%' | head -15
    echo
    echo "by function (self):"
    perf report -i "$data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
        grep -E '^ +[0-9.]+%' | awk '{printf "  %8s  %-24s %s\n", $1, $2, $4}' | head -40
    if [ "$v" -ge 3 ]; then
        echo
        echo "mod_gwe_lb.so, by function (self; % of all samples):"
        perf report -i "$data" --no-children --sort dso,symbol --stdio -g none 2>/dev/null |
            grep -E '^ +[0-9.]+%' | grep -F mod_gwe_lb.so |
            awk '{printf "  %8s  %s\n", $1, $4}' | head -20
    fi
}

mkdir -p "$BENCH_DIR/results"
case $mode in
    instr) out=$BENCH_DIR/results/instr-$(date +%Y%m%d-%H%M%S).txt
           instr "$@" 2>&1 | tee "$out"; rc=${PIPESTATUS[0]} ;;
    perf)  out=$BENCH_DIR/results/perf-$(date +%Y%m%d-%H%M%S).txt
           perf_profile "$@" 2>&1 | tee "$out"; rc=${PIPESTATUS[0]} ;;
    *)     sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
exit "$rc"
