# SPDX-License-Identifier: Apache-2.0
"""memcheck and memory growth of mod_gwe_lb in a single-process Apache.

    python3 memcheck.py [--requests N] [--apr-lib DIR] [--native N]

1. valgrind --tool=memcheck on `apache2 -X` (prefork, one process, the
   built module, real members), twice: N and 10N requests of the hostile
   corpus (seed "memcheck"), plus one failover request (a route cookie
   naming a member that refuses connections) every tenth request.  Each
   run ends with SIGTERM, after which memcheck reports errors and leaks.
   Pass: no memcheck error at all (none needed suppressing; see
   valgrind.supp), and the definitely/indirectly/possibly lost bytes and
   the heap still in use at exit are the same after 10N requests as after
   N: nothing accumulates per request.
   With --apr-lib (apr-pooldebug.sh), APR hands out every pool allocation
   as its own malloc() block, so memcheck checks the module's pool reads
   and writes too; without it only malloc'd, stack and static memory are
   checked (Debian's APR takes pools from mmap'd blocks).
2. Natively (no valgrind), with Debian's APR as in production and with
   the pool-debugging APR: VmRSS of the same single process after every
   --native M requests, ten times.  Pass: over the second half of the run
   the RSS grows by less than 8 bytes per request (it plateaus: one
   allocation kept per request would cost at least 16).

Prints the figures, appends them to the figures file, exits 1 on failure.
"""
import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402
import hostile  # noqa: E402
from gwetest import MODULE, REPO, HttpdEnv, free_port  # noqa: E402
from soaklib import Conn, record, start_members  # noqa: E402

APACHE = os.environ.get("GWE_APACHE", "/usr/sbin/apache2")
SUPP = HERE / "valgrind.supp"
OUT = REPO / "build" / "soak"

FAILOVER = """
# k1 refuses connections (nothing listens on its port): a request whose
# route cookie names K1 fails over to k2; once a second (retry=1) the
# balancer tries k1 again and the request goes through mod_proxy's retry
# loop.  (retry=0 would make k1 usable again at once, and mod_proxy gives
# up with 503 after its attempts, with or without mod_gwe_lb.)
<Proxy "balancer://k">
    BalancerMember "http://127.0.0.1:{dead}" route=K1 retry=1
    BalancerMember "{k2}" route=K2
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/k/" "balancer://k/"
KeepAlive Off
"""


def wait_port(port, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("apache2 exited with %s" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("apache2 did not listen")


def drive(port, n, seed="memcheck"):
    """N corpus cases plus a failover request every tenth: (requests,
    failures, reports)."""
    outcomes, failures, sent = hostile.run_corpus(
        port, corpus.generate(seed, n), workers=1)
    bad = outcomes["failed"]
    reports = [hostile.report(failures)] if failures else []
    conn = Conn(port)
    for i in range(max(1, n // 10)):
        r = conn.request(b"/k/f%d" % i, [(b"Cookie", b"ROUTEID=.K1")])
        sent += 1
        if r.status != 200 or r.member != "k2" or \
                r.set_cookies != ["ROUTEID=.K2; Path=/; HttpOnly"]:
            bad += 1
            reports.append("failover request answered %s by %s with %s"
                           % (r.status, r.member, r.set_cookies))
    conn.close()
    return sent, bad, reports


def parse_valgrind(text):
    """Figures from a memcheck log."""
    def num(pattern):
        m = re.findall(pattern, text)
        return int(m[-1].replace(",", "")) if m else None
    blocks = re.split(r"\n==\d+== \n", text)
    module_blocks = [b for b in blocks
                     if re.search(r"Invalid|uninitialised|Mismatched|"
                                  r"overlap|lost in loss record", b)
                     and re.search(r"mod_gwe_lb|gwelb_|gwe_", b)]
    return dict(
        errors=num(r"ERROR SUMMARY: ([\d,]+) errors"),
        suppressed=num(r"ERROR SUMMARY: .*suppressed: ([\d,]+) from"),
        definitely_lost=num(r"definitely lost: ([\d,]+) bytes"),
        indirectly_lost=num(r"indirectly lost: ([\d,]+) bytes"),
        possibly_lost=num(r"possibly lost: ([\d,]+) bytes"),
        in_use_at_exit=num(r"in use at exit: ([\d,]+) bytes"),
        heap_allocs=num(r"total heap usage: ([\d,]+) allocs"),
        module_error_blocks=len(module_blocks),
        module_instrumented=bool(re.search(r"mod_gwe_lb\.so", text)),
    ), module_blocks


def config(urls, dead):
    return corpus.config(urls) + FAILOVER.format(dead=dead, k2=urls["k2"])


def valgrind_run(urls, dead, n, apr_lib, tag):
    env = HttpdEnv("memcheck-%s" % tag, mpm="prefork", log_level="warn")
    env.write_config(config(urls, dead))
    log = OUT / ("memcheck-%s.log" % tag)
    cmd = ["valgrind", "--tool=memcheck", "--leak-check=full",
           "--show-leak-kinds=definite,indirect,possible",
           "--errors-for-leak-kinds=definite,indirect,possible",
           "--num-callers=40", "--vgdb=no", "--gen-suppressions=all", "-v",
           "--log-file=%s" % log]
    if SUPP.exists():
        cmd.append("--suppressions=%s" % SUPP)
    cmd += [APACHE, "-X", "-f", str(env.conf)]
    penv = dict(os.environ, LANG="C")
    if apr_lib:
        penv["LD_LIBRARY_PATH"] = apr_lib
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=penv)
    try:
        wait_port(env.port, proc)
        sent, bad, reports = drive(env.port, n)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(300)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        env.cleanup()
    figures, blocks = parse_valgrind(log.read_text(errors="replace"))
    figures.update(requests=sent, failures=bad,
                   seconds=round(time.monotonic() - t0, 1))
    return figures, blocks, reports, log


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def native_run(urls, dead, n, apr_lib=""):
    """VmRSS of apache2 -X (no valgrind) after n, 2n, ... 10n requests."""
    env = HttpdEnv("rss", mpm="prefork", log_level="warn")
    env.write_config(config(urls, dead))
    penv = dict(os.environ, LANG="C")
    if apr_lib:
        penv["LD_LIBRARY_PATH"] = apr_lib
    proc = subprocess.Popen([APACHE, "-X", "-f", str(env.conf)], env=penv)
    rss, sent, bad, reports = [], 0, 0, []
    try:
        wait_port(env.port, proc)
        for i in range(10):
            s, b, r = drive(env.port, n, seed="rss-%d" % i)
            sent, bad, reports = sent + s, bad + b, reports + r
            rss.append(rss_kb(proc.pid))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        env.cleanup()
    per_step = sent // 10
    return dict(requests=sent, failures=bad, rss_kb=rss,
                rss_growth_bytes_per_request_n_to_10n=round(
                    (rss[-1] - rss[0]) * 1024.0 / (9 * per_step), 3)), reports


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--native", type=int, default=2000)
    ap.add_argument("--apr-lib", default="")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not os.path.exists(MODULE):
        sys.exit("module %s is missing: run `make all` first" % MODULE)
    names = list(corpus.MEMBERS) + ["k2"]
    urls, _, procs = start_members([names])
    dead = free_port()
    ok = True
    try:
        runs = {}
        for tag, n in (("N", args.requests), ("10N", 10 * args.requests)):
            fig, blocks, reports, log = valgrind_run(urls, dead, n,
                                                     args.apr_lib, tag)
            runs[tag] = fig
            print("memcheck %s: %s (log %s)" % (tag, fig, log))
            if blocks:
                print("errors naming mod_gwe_lb:\n" + "\n\n".join(blocks[:5]))
            for r in reports[:10]:
                print(r)
            ok &= fig["errors"] == 0 and fig["failures"] == 0 and \
                fig["module_instrumented"]
        growth = {k: runs["10N"][k] - runs["N"][k] for k in (
            "definitely_lost", "indirectly_lost", "possibly_lost",
            "in_use_at_exit")}
        ok &= all(v <= 0 for v in growth.values())
        native = {}
        for tag, lib in (("debian_apr", ""), ("pool_debug_apr",
                                              args.apr_lib)):
            if tag == "pool_debug_apr" and not lib:
                continue
            fig, reports = native_run(urls, dead, args.native, lib)
            for r in reports[:10]:
                print(r)
            # growth over the second half of the run, per request: a
            # module that kept even one small allocation per request in a
            # long-lived pool or the heap would show >= 16 bytes.
            half = fig["requests"] // 2
            fig["rss_growth_bytes_per_request_5n_to_10n"] = round(
                (fig["rss_kb"][-1] - fig["rss_kb"][4]) * 1024.0 / half, 3)
            ok &= fig["failures"] == 0 and \
                fig["rss_growth_bytes_per_request_5n_to_10n"] < 8
            native[tag] = fig
            print("native RSS, %s: %s" % (tag, fig))
        record("memcheck", pool_debug_apr=bool(args.apr_lib),
               requests=runs["N"]["requests"] + runs["10N"]["requests"],
               errors=runs["N"]["errors"] + runs["10N"]["errors"],
               module_errors=runs["N"]["module_error_blocks"] +
               runs["10N"]["module_error_blocks"],
               failures=runs["N"]["failures"] + runs["10N"]["failures"],
               lost_bytes_N=runs["N"]["definitely_lost"] +
               runs["N"]["indirectly_lost"] + runs["N"]["possibly_lost"],
               lost_bytes_10N=runs["10N"]["definitely_lost"] +
               runs["10N"]["indirectly_lost"] + runs["10N"]["possibly_lost"],
               in_use_at_exit_N=runs["N"]["in_use_at_exit"],
               in_use_at_exit_10N=runs["10N"]["in_use_at_exit"],
               heap_allocs_N=runs["N"]["heap_allocs"],
               heap_allocs_10N=runs["10N"]["heap_allocs"],
               growth_10N_minus_N=growth, seconds=[runs["N"]["seconds"],
                                                   runs["10N"]["seconds"]],
               native=native, passed=bool(ok))
    finally:
        for p in procs:
            p.stop()
    print("memcheck: %s" % ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
