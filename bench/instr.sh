#!/bin/bash
# Instructions per request above the floor, per request shape (issue 12):
#
#   bench/instr.sh [table]   `make bench-instr`: the table (~2-3 minutes)
#   bench/instr.sh svg       `make bench-svg`: bench/results/cost.svg, cost
#                            against Cookie-header and query size (~2-3 min)
#   bench/instr.sh fallback  `make bench-fallback`: what GWELBFallback client-ip
#                            costs above the lbmethod's pick, 4 members (~1 min)
#   bench/instr.sh signed    `make bench-signed`: what GWELBCookieKey costs above
#                            the unsigned cookie, new and returning visitor,
#                            with and without maxidle, and opaque (~3 min)
#   bench/instr.sh all       all four, sharing the measurements (`make bench`)
#
# Every number is user-space instructions per request counted by callgrind
# inside ap_run_process_connection of `apache2 -X` (bench/lib.sh cg_run):
# for each shape and variant two fresh Apaches, one serving WARM requests and
# one WARM+N over one keep-alive connection, (second - first) / N, so
# start-up and warm-up are out.  Floor and variants get byte-identical
# requests (bench/inputs.py).  Cookie shapes: stock = variant 2, module =
# variant 3; parameter shapes: stock = 5, module = 4.  Every variant is
# checked with curl to route as configured first.
#
# Knobs: BENCH_INSTR_REQUESTS (N, 400), BENCH_INSTR_WARMUP (WARM, 50),
# BENCH_WORKLOADS (shapes of the table), BENCH_KEEP_TMP=1.  Output also goes
# to bench/results/instr-shapes-<date>.txt; the picture's numbers to
# bench/results/cost.tsv.
set -u
set -o pipefail
. "$(dirname "$0")/lib.sh"

mode=${1:-table}
N=${BENCH_INSTR_REQUESTS:-400}
WARM=${BENCH_INSTR_WARMUP:-50}
[ -n "${BENCH_WORKLOADS:-}" ] && read -r -a WORKLOADS <<<"$BENCH_WORKLOADS"

declare -A IR
# ir V W: instructions per request, measured once per run (the floor once
# for cookie-new and param-new: the same request to the same configuration).
ir() {
    if [ "$1" = 1 ] && [ "$2" = param-new ] && [ -n "${IR[1,cookie-new]:-}" ]; then
        IR[1,param-new]=${IR[1,cookie-new]}
    elif [ "$1" = 1 ] && [ "$2" = cookie-new ] && [ -n "${IR[1,param-new]:-}" ]; then
        IR[1,cookie-new]=${IR[1,param-new]}
    fi
    if [ -z "${IR[$1,$2]:-}" ]; then
        IR[$1,$2]=$(cg_per_request "$1" "$2" "$N" "$WARM") || exit 1
        printf '  %-13s %d %-12s %7d instructions/request\n' \
            "$2" "$1" "${VARIANT_NAME[$1]}" "${IR[$1,$2]}" >&2
    fi
}

# The issue's goal for a shape: "N" (fixed) or "" (a third of stock).
goal_of() {
    case $1 in
        cookie-new) echo 1000 ;;
        cookie-only|cookie-1k) echo 500 ;;
        cookie-6k|query-4k-mid|query-4k-last) echo 1500 ;;
        *) echo "" ;;
    esac
}
shape_label() {
    case $1 in
        cookie-new)    echo "(a) new visitor, cookie balancer" ;;
        cookie-only)   echo "(b) Cookie = route cookie only" ;;
        cookie-1k)     echo "(c) ~1 KB Cookie, route last" ;;
        cookie-6k)     echo "(d) ~6 KB Cookie, route last" ;;
        param-new)     echo "(e) new visitor, param balancer" ;;
        query-200)     echo "(f) ~200 B query, param middle" ;;
        query-4k-mid)  echo "(g) ~4 KB query, param middle" ;;
        query-4k-last) echo "(h) ~4 KB query, param last" ;;
        *)             echo "$1" ;;
    esac
}

table() {
    local w s m f ds dm goal g bar gok nbar=0 ngoal=0 nshapes=0
    for w in "${WORKLOADS[@]}"; do
        for v in 1 "$(shape_stock "$w")" "$(shape_module "$w")"; do ir "$v" "$w"; done
    done
    echo
    echo "Instructions per request above the floor (callgrind, user space, inside"
    echo "ap_run_process_connection; $N requests after $WARM of warm-up; module/stock = ratio)"
    printf '%-34s %7s %7s %7s %6s %8s  %-4s %-4s\n' \
        shape floor stock module ratio goal bar goal
    for w in "${WORKLOADS[@]}"; do
        s=$(shape_stock "$w"); m=$(shape_module "$w")
        f=${IR[1,$w]}; ds=$((IR[$s,$w] - f)); dm=$((IR[$m,$w] - f))
        goal=$(goal_of "$w")
        if [ -n "$goal" ]; then g="<=$goal"
        else goal=$(awk -v s="$ds" 'BEGIN {printf "%d", s / 3}'); g="<=${goal}*"
        fi
        bar=no; [ "$dm" -le "$ds" ] && bar=yes
        gok=no; [ "$dm" -le "$goal" ] && gok=yes
        nshapes=$((nshapes + 1))
        [ $bar = yes ] && nbar=$((nbar + 1))
        [ $gok = yes ] && ngoal=$((ngoal + 1))
        printf '%-34s %7d %+7d %+7d %6s %8s  %-4s %-4s\n' "$(shape_label "$w")" \
            "$f" "$ds" "$dm" \
            "$(awk -v a="$dm" -v b="$ds" 'BEGIN {if (b == 0) print "-"; else printf "%.2f", a / b}')" \
            "$g" "$bar" "$gok"
    done
    echo "  stock: cookie shapes variant 2 (${VARIANT_DESC[2]}),"
    echo "         parameter shapes variant 5 (${VARIANT_DESC[5]})"
    echo "  module: cookie shapes variant 3 (${VARIANT_DESC[3]}),"
    echo "          parameter shapes variant 4 (${VARIANT_DESC[4]})"
    echo "  floor = variant 1, absolute; bar = module <= stock; goal = issue 12's figure for the shape"
    echo "  (* = a third of stock where the issue names none); repeat runs differ by up to ~100 instructions"
    echo "bar met on $nbar of $nshapes shapes, goal on $ngoal of $nshapes"
}

# GWELBFallback client-ip (issue 14): a new visitor on a 4-member cookie
# balancer, picked by byrequests (variant 6) and by the fallback (variant
# 7); the difference is the fallback pick's cost above the lbmethod's own.
fallback() {
    local w=cookie-new d goal=400 ok=no
    ir 6 "$w"; ir 7 "$w"
    d=$((IR[7,$w] - IR[6,$w]))
    [ "$d" -le "$goal" ] && ok=yes
    echo
    echo "GWELBFallback client-ip, 4 members, a new visitor ($w): instructions per"
    echo "request (callgrind, as above; $N requests after $WARM of warm-up)"
    printf '  %-16s %7d  %s\n' "${VARIANT_NAME[6]}" "${IR[6,$w]}" "${VARIANT_DESC[6]}"
    printf '  %-16s %7d  %s\n' "${VARIANT_NAME[7]}" "${IR[7,$w]}" "${VARIANT_DESC[7]}"
    echo "fallback pick above the lbmethod's own pick: $d (goal <= $goal: $ok)"
}

# signed_inputs: the returning visitors of variants 8-10, cookie-signed
# (variant 8's cookie for node1; valid for 9 as well: the MAC covers no
# attribute) and cookie-opaque (variant 10's), asked from the variants
# themselves, started normally; then each is checked to route to node1
# without a new Set-Cookie.
# signed_second_visitor COOKIE: cookie-signed-miss, COOKIE and another
# visitor's for node1 taking turns on one connection (as behind a proxy
# that pools its connections), so every request misses the connection's
# memo of its last verified value (README 4.8).  Values are dated to the
# second: the other one is asked for a second later.
signed_second_visitor() {
    local sc i v=8 w=cookie-signed-miss
    printf '/\n' >"$BENCH_TMP/inputs/$w.path"
    for i in 1 2 3 4 5 6 7 8; do
        sleep 1.1
        sc=$(curl -s -D - -o /dev/null "http://127.0.0.1:${APACHE_PORT[$v]}/" |
             tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: *\(ROUTEID=[^;]*\).*/\1/p')
        [ "$sc" != "$1" ] && [ "$(curl -s -H "Cookie: $sc" "http://127.0.0.1:${APACHE_PORT[$v]}/")" = node1 ] && break
        sc=""
    done
    [ -n "$sc" ] || die "variant $v: no second cookie for node1 in 8 new visitors"
    printf '%s\n%s\n' "$1" "$sc" >"$BENCH_TMP/inputs/$w.cookie"
    echo "two visitors' cookies for node1, taking turns" >"$BENCH_TMP/inputs/$w.desc"
}

signed_inputs() {
    local v w i sc
    for vw in 8:cookie-signed 10:cookie-opaque; do
        v=${vw%%:*}; w=${vw#*:}
        bench_start_apache "$v"
        printf '/\n' >"$BENCH_TMP/inputs/$w.path"
        for i in 1 2 3 4; do
            sc=$(curl -s -D - -o /dev/null "http://127.0.0.1:${APACHE_PORT[$v]}/" |
                 tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: *\(ROUTEID=[^;]*\).*/\1/p')
            case $sc in ROUTEID=g1*) ;; *) die "variant $v: no signed Set-Cookie ($sc)" ;; esac
            [ "$(curl -s -H "Cookie: $sc" "http://127.0.0.1:${APACHE_PORT[$v]}/")" = node1 ] && break
            sc=""
        done
        [ -n "$sc" ] || die "variant $v: no cookie for node1 in 4 new visitors"
        printf '%s\n' "$sc" >"$BENCH_TMP/inputs/$w.cookie"
        echo "Cookie: $sc (variant $v's own, node1)" >"$BENCH_TMP/inputs/$w.desc"
        [ "$v" = 8 ] && signed_second_visitor "$sc"
        bench_stop_apache "$v"
    done
    for vw in 8:cookie-signed 9:cookie-signed 10:cookie-opaque; do
        v=${vw%%:*}; w=${vw#*:}
        bench_start_apache "$v"
        [ "$(probe "$v" "$w")" = "node1 -" ] \
            || die "variant $v, $w: $(probe "$v" "$w"), expected node1 and no Set-Cookie"
        bench_stop_apache "$v"
    done
}

# GWELBCookieKey (issue 13): instructions above the unsigned cookie
# (variant 3) for a new visitor (sign and build) and a returning one
# (verify; variant 3's returning visitor sends ROUTEID=.node1).
signed() {
    local v w base d goal ok
    ir 3 cookie-new; ir 3 cookie-only
    for v in 8 9 10; do
        ir "$v" cookie-new
        if [ "$v" = 10 ]; then ir "$v" cookie-opaque; else ir "$v" cookie-signed; fi
    done
    ir 8 cookie-signed-miss
    echo
    echo "GWELBCookieKey, instructions per request above the unsigned cookie (variant 3:"
    echo "cookie-new ${IR[3,cookie-new]}, cookie-only ${IR[3,cookie-only]}); callgrind as above"
    printf '  %-18s %-16s %8s %8s %7s  %s
' variant visitor absolute above goal met
    for v in 8 9 10; do
        for w in cookie-new returning; do
            if [ "$w" = cookie-new ]; then base=${IR[3,cookie-new]}; goal=2500; m=cookie-new
            else base=${IR[3,cookie-only]}; goal=1500
                 m=cookie-signed; [ "$v" = 10 ] && m=cookie-opaque
            fi
            d=$((IR[$v,$m] - base)); ok=no; [ "$d" -le "$goal" ] && ok=yes
            printf '  %-18s %-16s %8d %+8d %7s  %s
' "${VARIANT_NAME[$v]}" \
                "$([ "$w" = cookie-new ] && echo new || echo "returning ($m)")" \
                "${IR[$v,$m]}" "$d" "<=$goal" "$ok"
        done
    done
    d=$((IR[8,cookie-signed-miss] - IR[3,cookie-only])); ok=no; [ "$d" -le 1500 ] && ok=yes
    printf '  %-18s %-16s %8d %+8d %7s  %s\n' "${VARIANT_NAME[8]}" \
        "returning, 2 taking turns" \
        "${IR[8,cookie-signed-miss]}" "$d" "<=1500" "$ok"
    echo "  (returning: one visitor's requests over one connection, verified once per"
    echo "  connection; two visitors taking turns: every request's MAC is checked)"
    for v in 8 9 10; do echo "  $v ${VARIANT_NAME[$v]}: ${VARIANT_DESC[$v]}"; done
}

svg() {
    local w v tsv=$BENCH_DIR/results/cost.tsv
    for w in "${SVG_COOKIE[@]}"; do for v in 1 2 3; do ir "$v" "$w"; done; done
    for w in "${SVG_QUERY[@]}"; do for v in 1 5 4; do ir "$v" "$w"; done; done
    {
        printf 'axis\tworkload\tbytes\tfloor\tstock\tmodule\n'
        for w in "${SVG_COOKIE[@]}"; do
            printf 'cookie\t%s\t%d\t%d\t%d\t%d\n' "$w" \
                "$(tr -d '\n' <"$BENCH_TMP/inputs/$w.cookie" | wc -c)" \
                "${IR[1,$w]}" "${IR[2,$w]}" "${IR[3,$w]}"
        done
        for w in "${SVG_QUERY[@]}"; do
            printf 'query\t%s\t%d\t%d\t%d\t%d\n' "$w" \
                "$(($(tr -d '\n' <"$BENCH_TMP/inputs/$w.path" | wc -c) - 2))" \
                "${IR[1,$w]}" "${IR[5,$w]}" "${IR[4,$w]}"
        done
    } >"$tsv"
    python3 "$BENCH_DIR/cost_svg.py" "$tsv" "$BENCH_DIR/results/cost.svg" \
        "$(date '+%Y-%m-%d %H:%M') module sha256 ${BENCH_MODULE_SHA:-?}..., $N requests after $WARM" \
        || die "cannot write the picture"
    echo
    echo "cost picture: ${BENCH_DIR#"$REPO_DIR"/}/results/cost.svg (numbers: results/cost.tsv)"
    column -t "$tsv" | sed 's/^/  /'
}

main() {
    local T0=$SECONDS v ws=()
    local vs=("${ALL_VARIANTS[@]}")
    case $mode in
        table) ws=("${WORKLOADS[@]}") ;;
        svg)   ws=("${SVG_COOKIE[@]}" "${SVG_QUERY[@]}") ;;
        fallback) ws=(cookie-new); vs=("${FALLBACK_VARIANTS[@]}") ;;
        signed) ws=(cookie-new cookie-only); vs=(3) ;;
        all)   ws=("${WORKLOADS[@]}" "${SVG_COOKIE[@]}" "${SVG_QUERY[@]}")
               vs+=("${FALLBACK_VARIANTS[@]}") ;;
        *)     sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
    need_module "${vs[@]}"
    command -v valgrind >/dev/null || die "valgrind is missing (apt-get install valgrind)"
    bench_setup_tmp
    bench_make_inputs
    echo "mod_gwe_lb instructions per request, $(date '+%Y-%m-%d %H:%M:%S %z')"
    echo "  repo    $(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null)$(git -C "$REPO_DIR" diff --quiet HEAD 2>/dev/null || echo ' (uncommitted changes)')"
    [ -n "${BENCH_MODULE_ORIG:-}" ] && echo "  module  $BENCH_MODULE_ORIG (built $(stat -c '%y' "$BENCH_MODULE_ORIG" | cut -d. -f1), sha256 $BENCH_MODULE_SHA..., run from a copy)"
    echo "  apache  $("$APACHE_BIN" -v | sed -n 's/^Server version: //p'), event MPM, apache2 -X; $(valgrind --version)"
    echo "  shapes"
    local seen=" " w
    for w in "${ws[@]}"; do
        [[ $seen == *" $w "* ]] && continue; seen+="$w "
        printf '    %-14s %s\n' "$w" "$(input_desc "$w")"
    done
    bench_start_members
    for v in "${vs[@]}"; do
        case $v in
            6|7) bench_start_apache "$v"; check_variant "$v" cookie-new ;;
            *)   bench_start_apache "$v"; check_variant "$v" "${ws[@]}" ;;
        esac
        bench_stop_apache "$v"
    done
    case $mode in signed|all) need_module "${SIGNED_VARIANTS[@]}"; signed_inputs ;; esac
    echo "routing check: passed (curl; sticky inputs and their node2 twins on the named member,"
    echo "  others on both; Set-Cookie ROUTEID=.<member> exactly when expected; signed"
    echo "  returning visitors on node1 without a Set-Cookie)"
    case $mode in
        table) table ;;
        svg)   svg ;;
        fallback) fallback ;;
        signed) signed ;;
        all)   table; svg; fallback; signed ;;
    esac
    echo "took $((SECONDS - T0)) s"
}

mkdir -p "$BENCH_DIR/results"
out=$BENCH_DIR/results/instr-shapes-$(date +%Y%m%d-%H%M%S).txt
main 2>&1 | tee "$out"
exit "${PIPESTATUS[0]}"
