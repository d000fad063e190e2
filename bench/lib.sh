# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# Shared by bench/run.sh and bench/profile.sh: the members (nginx), one
# Apache per variant, the request inputs, the routing checks and one wrk
# measurement.  Sourced, not run.  Everything lives in $BENCH_TMP and every
# process started here is stopped by bench_cleanup (by pid).

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/.." && pwd)
APACHE_BIN=${APACHE_BIN:-/usr/sbin/apache2}
NGINX_BIN=${NGINX_BIN:-/usr/sbin/nginx}
WRK_BIN=${WRK_BIN:-wrk}
BENCH_MODULE=${BENCH_MODULE:-$REPO_DIR/build/mod_gwe_lb.so}

# Variant number -> short name and configuration file.
VARIANT_NAME=([1]=floor [2]=stock-cookie [3]=gwe-cookie [4]=gwe-param
              [5]=stock-param [6]=gwe-cookie-4 [7]=gwe-fallback-4
              [8]=gwe-signed [9]=gwe-signed-idle [10]=gwe-opaque)
VARIANT_CONF=([1]=v1-floor.conf [2]=v2-stock.conf [3]=v3-gwe-cookie.conf
              [4]=v4-gwe-param.conf [5]=v5-stock-param.conf
              [6]=v6-gwe-cookie-4.conf [7]=v7-gwe-fallback-4.conf
              [8]=v8-gwe-signed.conf [9]=v9-gwe-signed-maxidle.conf
              [10]=v10-gwe-opaque.conf)
VARIANT_DESC=(
    [1]="mod_proxy_balancer, no stickiness (the floor)"
    [2]="stickysession=ROUTEID + mod_headers Set-Cookie (stock cookie recipe)"
    [3]="mod_gwe_lb, GWELBRouteCookie ROUTEID path=/"
    [4]="mod_gwe_lb, GWELBStickyParam alias"
    [5]="stickysession=alias (stock parameter stickiness)"
    [6]="mod_gwe_lb, GWELBRouteCookie ROUTEID path=/, 4 members"
    [7]="mod_gwe_lb, GWELBRouteCookie ROUTEID path=/ + GWELBFallback client-ip, 4 members"
    [8]="mod_gwe_lb, variant 3 + GWELBCookieKey (signed cookie)"
    [9]="mod_gwe_lb, variant 8 + maxidle=3600 maxlife=86400"
    [10]="mod_gwe_lb, variant 9 + opaque=on")
ALL_VARIANTS=(1 2 3 4 5)
# The fallback pair (issue 14): variant 7 less variant 6 on a new visitor
# is the fallback pick's cost above the lbmethod's own pick.
FALLBACK_VARIANTS=(6 7)
# The signed cookie (issue 13): variants 8-10 against variant 3, on a new
# visitor and on a returning one whose cookie is the variant's own.
SIGNED_VARIANTS=(3 8 9 10)
# The request shapes of issue 12 (bench/README.md, bench/inputs.py).  Cookie
# shapes compare variant 2 (stock) and 3 (module) with the floor, parameter
# shapes variant 5 (stock) and 4 (module).
WORKLOADS=(cookie-new cookie-only cookie-1k cookie-6k
           param-new query-200 query-4k-mid query-4k-last)
# The sizes of the cost picture (bench/instr.sh svg): Cookie header and query.
SVG_COOKIE=(cookie-only cookie-1k cookie-2k cookie-4k cookie-6k)
SVG_QUERY=(query-only query-1k-last query-2k-last query-4k-last)

# shape_side W: "cookie" or "param", the balancer kind the shape is for.
shape_side() {
    case $1 in
        cookie-*) echo cookie ;;
        param-*|query-*) echo param ;;
        *) die "unknown workload '$1'" ;;
    esac
}
# shape_route W: what routes the request: "cookie", "param" or "none".
shape_route() {
    case ${1%-node2} in
        cookie-new|param-new) echo none ;;
        cookie-*) echo cookie ;;
        query-*) echo param ;;
        *) die "unknown workload '$1'" ;;
    esac
}
shape_stock()  { case $(shape_side "$1") in cookie) echo 2 ;; param) echo 5 ;; esac; }
shape_module() { case $(shape_side "$1") in cookie) echo 3 ;; param) echo 4 ;; esac; }

die() { echo "bench: FAIL: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }

# ---- temp dir and cleanup -------------------------------------------------

bench_setup_tmp() {
    BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/gwe-bench.XXXXXX") \
        || die "cannot create a temp dir"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
    mkdir -p "$BENCH_TMP/inputs"
    # Apache's children run as www-data and must reach their directory.
    chmod 755 "$BENCH_TMP"
    # The signing key of variants 8-10 (README 4.8: owner-only); Apache
    # runs as www-data under callgrind.
    head -c 32 /dev/urandom >"$BENCH_TMP/gwelb.key" && chmod 600 "$BENCH_TMP/gwelb.key"
    [ "$(id -u)" = 0 ] && chown www-data "$BENCH_TMP/gwelb.key"
    bench_snapshot_module
}

bench_cleanup() {
    local pidf pid
    for pidf in "$BENCH_TMP"/v*/httpd.pid "$BENCH_TMP"/v*/wrapper.pid \
                "$BENCH_TMP"/nginx.pid; do
        [ -f "$pidf" ] || continue
        pid=$(cat "$pidf" 2>/dev/null) || continue
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
    done
    # Give them a moment to go, so the ports and shm are released.
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        local alive=0
        for pidf in "$BENCH_TMP"/v*/httpd.pid "$BENCH_TMP"/v*/wrapper.pid "$BENCH_TMP"/nginx.pid; do
            [ -f "$pidf" ] && kill -0 "$(cat "$pidf" 2>/dev/null)" 2>/dev/null \
                && alive=1
        done
        [ $alive = 0 ] && break
        sleep 0.3
    done
    [ -n "${BENCH_KEEP_TMP:-}" ] && { note "kept $BENCH_TMP"; return; }
    rm -rf "$BENCH_TMP"
}

# The module is copied once per run: `make all` rewrites build/mod_gwe_lb.so
# in place, which would pull the code from under a running Apache, and the
# copy is exactly what was measured.
bench_snapshot_module() {
    [ -f "$BENCH_MODULE" ] || return 0
    cp "$BENCH_MODULE" "$BENCH_TMP/mod_gwe_lb.so" || die "cannot copy $BENCH_MODULE"
    # shellcheck disable=SC2034  # both read by run.sh
    BENCH_MODULE_SHA=$(sha256sum "$BENCH_TMP/mod_gwe_lb.so" | cut -c1-12)
    # shellcheck disable=SC2034
    BENCH_MODULE_ORIG=$BENCH_MODULE
    BENCH_MODULE=$BENCH_TMP/mod_gwe_lb.so
}

# ---- ports ----------------------------------------------------------------

# free_ports N: N distinct free TCP ports on 127.0.0.1 (asked from the
# kernel, so parallel test runs on this machine do not collide).
free_ports() {
    python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

wait_port() {  # wait_port PORT [TENTHS]: until something accepts on 127.0.0.1:PORT
    local i
    for i in $(seq 1 "${2:-50}"); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---- request inputs ---------------------------------------------------------

# Each workload is a request path and an optional Cookie value, written to
# $BENCH_TMP/inputs/NAME.path and NAME.cookie by bench/inputs.py (with a
# NAME.desc line): wrk (lua/workload.lua), the curl checks and the callgrind
# load read the same files.  The *-node2 inputs are for checks only.
bench_make_inputs() {
    python3 "$BENCH_DIR/inputs.py" "$BENCH_TMP/inputs" \
        || die "cannot write the request inputs"
}

input_desc() {  # one line describing a workload's request
    cat "$BENCH_TMP/inputs/$1.desc"
}

# ---- processes --------------------------------------------------------------

pin() {  # pin CPU-LIST COMMAND...: run pinned when a CPU list is given
    local cpus=$1; shift
    if [ -n "$cpus" ]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

bench_start_members() {  # sets MEMBER1_PORT ... MEMBER4_PORT
    read -r MEMBER1_PORT MEMBER2_PORT MEMBER3_PORT MEMBER4_PORT < <(free_ports 4)
    mkdir -p "$BENCH_TMP/nginx-tmp"
    sed -e "s|@DIR@|$BENCH_TMP|g" -e "s|@PORT1@|$MEMBER1_PORT|g" \
        -e "s|@PORT2@|$MEMBER2_PORT|g" -e "s|@PORT3@|$MEMBER3_PORT|g" \
        -e "s|@PORT4@|$MEMBER4_PORT|g" \
        "$BENCH_DIR/conf/nginx.conf.in" >"$BENCH_TMP/nginx.conf"
    pin "${BENCH_NGINX_CPU:-}" "$NGINX_BIN" -p "$BENCH_TMP" \
        -e "$BENCH_TMP/nginx-error.log" -c "$BENCH_TMP/nginx.conf" \
        || die "nginx did not start (see $BENCH_TMP/nginx-error.log)"
    wait_port "$MEMBER1_PORT" && wait_port "$MEMBER2_PORT" \
        || die "nginx members do not answer on $MEMBER1_PORT/$MEMBER2_PORT"
    local b1 b2
    b1=$(curl -s "http://127.0.0.1:$MEMBER1_PORT/")
    b2=$(curl -s "http://127.0.0.1:$MEMBER2_PORT/")
    [ "$b1" = node1 ] && [ "$b2" = node2 ] \
        || die "members answer '$b1' and '$b2', expected node1 and node2"
}

# bench_start_apache N: one Apache for variant N, on its own port and
# directory; sets APACHE_PORT[N].
declare -A APACHE_PORT
bench_start_apache() {
    local v=$1 dir=$BENCH_TMP/v$1 port
    port=$(free_ports 1)
    mkdir -p "$dir/run"
    [ "$(id -u)" = 0 ] && chown www-data "$dir/run" 2>/dev/null
    cat >"$dir/httpd.conf" <<CONF
# Variant $v (${VARIANT_NAME[$v]}): ${VARIANT_DESC[$v]}
Define BENCH_DIR "$dir"
Define BENCH_LISTEN "127.0.0.1:$port"
Define BENCH_MEMBER1 "127.0.0.1:$MEMBER1_PORT"
Define BENCH_MEMBER2 "127.0.0.1:$MEMBER2_PORT"
Define BENCH_MEMBER3 "127.0.0.1:$MEMBER3_PORT"
Define BENCH_MEMBER4 "127.0.0.1:$MEMBER4_PORT"
Define BENCH_VARIANT "$BENCH_DIR/conf/${VARIANT_CONF[$v]}"
Define BENCH_MODULE "$BENCH_MODULE"
Define BENCH_KEY "$BENCH_TMP/gwelb.key"
Include "$BENCH_DIR/conf/httpd-common.conf"
CONF
    local defs=() asuser=()
    if [ -n "${APACHE_RUN_AS:-}" ] && [ "$(id -u)" = 0 ]; then
        # Started as that user (no User switch): valgrind's vgdb FIFOs then
        # belong to the process that uses them.
        chown -R "$APACHE_RUN_AS" "$dir"
        asuser=(runuser -u "$APACHE_RUN_AS" --)
    elif [ "$(id -u)" = 0 ]; then
        defs=(-D BENCH_AS_ROOT)
    fi
    "$APACHE_BIN" -f "$dir/httpd.conf" "${defs[@]}" -t >"$dir/configtest.log" 2>&1 \
        || { cat "$dir/configtest.log" >&2
             die "variant $v: apache2 -t refuses $dir/httpd.conf"; }
    if [ -n "${APACHE_WRAPPER:-}" ]; then
        # Under a tool (valgrind): one process (-X), in the background.
        # shellcheck disable=SC2086
        pin "${BENCH_APACHE_CPU:-}" "${asuser[@]}" $APACHE_WRAPPER "$APACHE_BIN" \
            -f "$dir/httpd.conf" "${defs[@]}" -X >"$dir/start.log" 2>&1 &
        echo $! >"$dir/wrapper.pid"
    else
        pin "${BENCH_APACHE_CPU:-}" "$APACHE_BIN" -f "$dir/httpd.conf" "${defs[@]}" \
            -k start >"$dir/start.log" 2>&1 \
            || { cat "$dir/start.log" "$dir/error.log" >&2 2>/dev/null
                 die "variant $v: Apache did not start"; }
    fi
    wait_port "$port" ${APACHE_WRAPPER:+600} \
        || { cat "$dir/start.log" "$dir/error.log" >&2 2>/dev/null
             die "variant $v: Apache does not answer on $port"; }
    APACHE_PORT[$v]=$port
}

# ---- routing checks -----------------------------------------------------------

# probe V INPUT: one request of input INPUT to variant V.  Prints
# "MEMBER SETCOOKIE" (SETCOOKIE "-" when there is none; "MULTI" when the
# response has several).
probe() {
    local v=$1 in=$BENCH_TMP/inputs/$2 hdrs body args=() sc n
    args=(-s -D "$BENCH_TMP/probe-$v.h" -o "$BENCH_TMP/probe-$v.b" --max-time 5)
    [ -f "$in.cookie" ] && args+=(-H "Cookie: $(head -1 "$in.cookie")")
    curl "${args[@]}" "http://127.0.0.1:${APACHE_PORT[$v]}$(cat "$in.path")" \
        || { echo "curl-failed -"; return; }
    body=$(cat "$BENCH_TMP/probe-$v.b")
    hdrs=$(tr -d '\r' <"$BENCH_TMP/probe-$v.h")
    n=$(grep -ci '^set-cookie:' <<<"$hdrs")
    case $n in
        0) sc=- ;;
        1) sc=$(grep -i '^set-cookie:' <<<"$hdrs" | sed 's/^[^:]*: *//' | tr -d ' ') ;;
        *) sc=MULTI ;;
    esac
    case $body in node[1-4]) ;; *) body="status-$(head -1 <<<"$hdrs" | cut -d' ' -f2)" ;; esac
    echo "$body $sc"
}

# What variant V should do with workload W: "node1" when it is sticky to
# node1, "both" when the balancer spreads it over both members (node1 and
# node2 among them, for the 4-member variants), "same" when every request
# goes to one member, whichever (the fallback: one client address).
expect_route() {
    case "$1:$(shape_route "$2")" in
        [236]:cookie|[45]:param) echo node1 ;;
        7:none)                  echo same ;;
        *)                       echo both ;;
    esac
}
# Whether variant V should send a route cookie for workload W (the request
# has no valid route cookie and the variant writes one).
expect_cookie() {
    case "$1:$(shape_route "$2")" in
        [2367]:cookie) echo no ;;
        [2367]:*)      echo yes ;;
        *)           echo no ;;
    esac
}

# check_variant V [W...]: requests of the workloads (default: all; and the
# node2 twins of the sticky ones) through variant V; dies with the evidence when the variant
# does not route as its configuration says.  Sticky inputs: 4 requests, all
# on the named member.  Others: until both members have served (at most 24
# requests; byrequests counts sticky requests too, so after sticky ones the
# other member serves a few unrouted requests in a row).
check_variant() {
    local v=$1 w want wantc i n got m sc seen bad=0 log="" ws=()
    shift
    [ $# = 0 ] && set -- "${WORKLOADS[@]}"
    for w in "$@"; do
        ws+=("$w")
        [ -f "$BENCH_TMP/inputs/$w-node2.path" ] && ws+=("$w-node2")
    done
    for w in "${ws[@]}"; do
        want=$(expect_route "$v" "${w%-node2}")
        wantc=$(expect_cookie "$v" "${w%-node2}")
        if [ "${w%-node2}" != "$w" ]; then
            [ "$want" = both ] && continue
            want=node2
        fi
        seen=""; n=4; [ "$want" = both ] && n=24
        for i in $(seq 1 $n); do
            got=$(probe "$v" "$w"); m=${got%% *}; sc=${got#* }
            log+="    $w #$i: member=$m set-cookie=$sc"$'\n'
            case $m in node[1-4]) ;; *) bad=1; log+="      ^ no member answered"$'\n' ;; esac
            seen+=" $m"
            [ "$want" = same ] && [ "$i" = 1 ] && want=$m
            if [ "$want" != both ] && [ "$m" != "$want" ]; then
                bad=1; log+="      ^ expected $want"$'\n'
            fi
            if [ "$wantc" = no ] && [ "$sc" != - ]; then
                bad=1; log+="      ^ expected no Set-Cookie"$'\n'
            elif [ "$wantc" = yes ]; then
                case $sc in
                    "ROUTEID=.$m" | "ROUTEID=.$m;"*) ;;
                    *) bad=1; log+="      ^ expected one Set-Cookie ROUTEID=.$m"$'\n' ;;
                esac
            fi
            [ "$want" = both ] && [[ $seen == *node1* ]] && [[ $seen == *node2* ]] && break
        done
        if [ "$want" = both ] && ! { [[ $seen == *node1* ]] && [[ $seen == *node2* ]]; }; then
            bad=1; log+="      ^ expected both members to serve $w (no stickiness)"$'\n'
        fi
    done
    if [ $bad != 0 ]; then
        printf '%s' "$log" >&2
        tail -5 "$BENCH_TMP/v$v/error.log" >&2 2>/dev/null
        die "variant $v (${VARIANT_NAME[$v]}) does not route as configured"
    fi
}

# elected V: "N1 N2", the Elected counters of the two members of variant V
# (balancer-manager's XML; it ignores parameters without a same-site Referer).
elected() {
    local base="http://127.0.0.1:${APACHE_PORT[$1]}/balancer-manager"
    curl -s --max-time 5 -e "$base" "$base?xml=1" |
        awk -F'[<>]' '
            /<httpd:elected>/ { e = $3 }
            /<httpd:route>/   { el[$3] = e }
            END { printf "%d %d\n", el["node1"], el["node2"] }'
}

# ---- one measurement -----------------------------------------------------------

# measure V W DURATION: wrk against variant V with workload W; prints the
# RESULT line of lua/workload.lua, and dies when the run had errors or the
# load did not go where it should.
measure() {
    local v=$1 w=$2 d=$3 before after out res n1 n2 want cpu0 cpu1 ap0 ap1
    before=$(elected "$v")
    cpu0=$(cpu_ticks)
    ap0=$(apache_ticks "$v")
    out=$(pin "${BENCH_WRK_CPU:-}" "$WRK_BIN" -t "$BENCH_THREADS" \
              -c "$BENCH_CONNECTIONS" -d "${d}s" \
              -s "$BENCH_DIR/lua/workload.lua" \
              "http://127.0.0.1:${APACHE_PORT[$v]}/" -- "$BENCH_TMP/inputs" "$w" 2>&1)
    res=$(grep '^RESULT ' <<<"$out") \
        || { echo "$out" >&2; die "wrk failed (variant $v, $w)"; }
    ap1=$(apache_ticks "$v")
    cpu1=$(cpu_ticks)
    after=$(elected "$v")
    # shellcheck disable=SC2086
    set -- $before $after
    n1=$(($3 - $1)); n2=$(($4 - $2))
    want=$(expect_route "$v" "$w")
    local reqs status sock
    reqs=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$res")
    status=$(sed -E 's/.* err_status=([0-9]+).*/\1/' <<<"$res")
    sock=$(grep -oE 'err_(connect|read|write|timeout)=[0-9]+' <<<"$res" |
           awk -F= '{s += $2} END {print s + 0}')
    # Any non-2xx answer means the variant misbehaves; a rare socket error
    # (a keep-alive close racing a request) is reported, more is a failure.
    if [ "$status" -gt 0 ]; then
        echo "$out" >&2; die "variant $v, $w: $status non-2xx responses"
    fi
    if [ "$sock" -gt $((reqs / 1000)) ]; then
        echo "$out" >&2; die "variant $v, $w: $sock socket errors in $reqs requests"
    fi
    if [ "$want" = node1 ] && { [ "$n2" -ne 0 ] || [ "$n1" -lt $((reqs * 9 / 10)) ]; }; then
        die "variant $v, $w: members elected $n1/$n2 for $reqs requests, expected all on node1"
    fi
    # Unrouted load: byrequests balances it against the sticky load (all on
    # node1) counted so far, so node2 gets at least about half of it.
    if [ "$want" = both ] && { [ "$n2" -lt $((reqs * 45 / 100)) ] || [ $((n1 + n2)) -lt $((reqs * 9 / 10)) ]; }; then
        die "variant $v, $w: members elected $n1/$n2 for $reqs requests, expected unrouted balancing"
    fi
    # Apache's CPU time: in % of one CPU over the run, and per request.
    local dur_us apache_pct apache_us
    dur_us=$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$res")
    apache_pct=$(awk -v t=$((ap1 - ap0)) -v hz="$CLK_TCK" -v d="$dur_us" \
        'BEGIN {printf "%.0f", 100 * t / hz / (d / 1e6)}')
    apache_us=$(awk -v t=$((ap1 - ap0)) -v hz="$CLK_TCK" -v n="$reqs" \
        'BEGIN {printf "%.2f", n ? 1e6 * t / hz / n : 0}')
    echo "$res sockerr=$sock cpu=$(cpu_busy "$cpu0" "$cpu1") apache_pct=$apache_pct apache_us=$apache_us elected=$n1/$n2"
}

CLK_TCK=$(getconf CLK_TCK)
# apache_ticks V: user+system clock ticks used so far by variant V's Apache
# (parent and children, all threads).
apache_ticks() {
    local ppid p
    ppid=$(cat "$BENCH_TMP/v$1/httpd.pid")
    for p in "$ppid" $(pgrep -P "$ppid"); do
        cat "/proc/$p/stat" 2>/dev/null
    done | awk '{sub(/^.*\) /, ""); t += $12 + $13} END {print t + 0}'
}

# cpu_ticks: "busy total" jiffies per CPU, one pair per CPU, from /proc/stat.
cpu_ticks() {
    awk '/^cpu[0-9]/ {t = 0; for (i = 2; i <= NF; i++) t += $i
                      printf "%d %d ", t - $5 - $6, t}' /proc/stat
}
# cpu_busy BEFORE AFTER: "cpu0%/cpu1%..." busy between two cpu_ticks.
cpu_busy() {
    awk -v a="$1" -v b="$2" 'BEGIN {
        n = split(a, x, " "); split(b, y, " "); s = ""
        for (i = 1; i < n; i += 2) {
            dt = y[i + 1] - x[i + 1]
            s = s (s == "" ? "" : "/") (dt > 0 ? int(100 * (y[i] - x[i]) / dt + 0.5) : 0)
        }
        print s }'
}

# fixed_load V W N: exactly N requests of workload W to variant V over one
# keep-alive connection (for instruction counts, where wrk's duration-based
# load cannot give an exact count).  Dies on any non-200 answer.
fixed_load() {
    local in=$BENCH_TMP/inputs/$2 cookie=""
    [ -f "$in.cookie" ] && cookie=$(cat "$in.cookie")
    python3 - "${APACHE_PORT[$1]}" "$(cat "$in.path")" "$cookie" "$3" <<'PY' \
        || die "variant $1, $2: fixed load failed"
import http.client, sys
port, path, cookie, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
# a .cookie file of several lines: the visitors take turns on the connection
cookies = [{"Cookie": line} for line in cookie.split("\n") if line] or [{}]
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for i in range(n):
    c.request("GET", path, headers=cookies[i % len(cookies)])
    r = c.getresponse()
    r.read()
    if r.status != 200:
        sys.exit("request %d: status %d" % (i, r.status))
c.close()
PY
}

bench_stop_apache() {  # bench_stop_apache N: stop variant N's Apache, wait for it
    local dir=$BENCH_TMP/v$1 pid pidf
    for pidf in "$dir/wrapper.pid" "$dir/httpd.pid"; do
        [ -f "$pidf" ] || continue
        pid=$(cat "$pidf")
        kill "$pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        rm -f "$pidf"
    done
}

# ---- instructions per request (callgrind) ------------------------------------

need_module() {  # need_module V...: die on an unknown variant or a missing module
    local v
    for v in "$@"; do
        case $v in
            1|2|5) ;;
            3|4|6|7|8|9|10) [ -f "$BENCH_MODULE" ] || die "$BENCH_MODULE is missing: make all" ;;
            *) die "unknown variant '$v' (1-10)" ;;
        esac
    done
}

cg_total() {  # cg_total FILE: total Ir of a callgrind dump
    awk '/^(summary|totals):/ {print $2; exit}' "$1"
}

# cg_run V W N OUT: a fresh `apache2 -X` of variant V under callgrind, N
# requests of workload W over one keep-alive connection, callgrind's file in
# OUT; prints its total instructions.  Counts only inside
# ap_run_process_connection (one call per request on a keep-alive connection
# with the event MPM): start-up, shutdown and the idle event loop are out.
cg_run() {
    local v=$1 w=$2 n=$3 out=$4
    mkdir -p "$(dirname "$out")"; chmod 1777 "$(dirname "$out")"
    APACHE_WRAPPER="valgrind --tool=callgrind --collect-atstart=no"
    APACHE_WRAPPER+=" --toggle-collect=ap_run_process_connection"
    APACHE_WRAPPER+=" --vgdb=no --callgrind-out-file=$out"
    # e.g. BENCH_CG_EXTRA=--dump-instr=yes, for costs per instruction
    APACHE_WRAPPER+=" ${BENCH_CG_EXTRA:-}"
    APACHE_RUN_AS=www-data
    bench_start_apache "$v"
    APACHE_WRAPPER=""; APACHE_RUN_AS=""
    [ "$n" -gt 0 ] && fixed_load "$v" "$w" "$n"
    bench_stop_apache "$v"
    [ -s "$out" ] || die "no callgrind output for variant $v, $w"
    cg_total "$out"
}

# cg_per_request V W N WARM: instructions per request of workload W on
# variant V after WARM requests of warm-up: two fresh Apaches, one serving
# WARM requests and one WARM+N over one connection, (second - first) / N.
# Leaves $BENCH_TMP/callgrind/vV-W.{warm,all}.out.
cg_per_request() {
    local v=$1 w=$2 n=$3 warm=$4 a b f=$BENCH_TMP/callgrind/v$1-$2
    a=$(cg_run "$v" "$w" "$warm" "$f.warm.out") || exit 1
    b=$(cg_run "$v" "$w" $((warm + n)) "$f.all.out") || exit 1
    awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN {printf "%.0f\n", (b - a) / n}'
}
