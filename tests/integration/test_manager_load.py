"""README 7.9 and 7.3: balancer-manager changes at run time - the lbmethod,
a member's load factor, drain mode - under load lose no request with a
valid route, in any child process; a stock stickiness parameter set at run
time is logged once at [warn] and changes nothing."""
import re
import threading
import time

import pytest

from gwetest import BalancerManager, HttpdEnv

MANAGER = """
<Location "/balancer-manager">
    SetHandler balancer-manager
</Location>
ProxyPass "/balancer-manager" "!"
"""


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("manager-load") as e:
        e.urls = {n: e.member(n).url for n in ("m1", "m2", "m3", "m4")}
        e.start(MANAGER + """
<Proxy "balancer://ml">
    BalancerMember "{m1}" route=L1
    BalancerMember "{m2}" route=L2
    BalancerMember "{m3}" route=L3
    BalancerMember "{m4}" route=L4
    GWELBRouteCookie ROUTEID path=/ml/
</Proxy>
ProxyPass "/ml/" "balancer://ml/"

<Proxy "balancer://ss">
    BalancerMember "{m1}" route=S1
    BalancerMember "{m2}" route=S2
    GWELBRouteCookie ROUTEID path=/ss/
</Proxy>
ProxyPass "/ss/" "balancer://ss/"

<Proxy "balancer://st">
    BalancerMember "{m1}" route=S1
    BalancerMember "{m2}" route=S2
    GWELBRouteCookie ROUTEID path=/st/
</Proxy>
ProxyPass "/st/" "balancer://st/"
""".format(**e.urls))
        yield e


def test_balancer_manager_changes_under_load_lose_no_routed_request(env):
    """README 7.9: three visitors (cookies naming L1, L2, L3, a fresh
    connection per request, so every child process serves some) while
    balancer-manager cycles the lbmethod, changes the load factor of L4
    (requested by nobody) and drains and undrains L2: every request is
    served by the member its cookie names."""
    manager = BalancerManager(env)
    stop = threading.Event()
    lock = threading.Lock()
    counts = {"requests": 0}
    lost = []

    def visitor(route, member):
        for _ in range(3000):
            if stop.is_set():
                return
            try:
                r = env.get("/ml/x", cookies=["ROUTEID=." + route])
                bad = None if r.status == 200 and r.member == member \
                    else (r.status, r.member)
            except OSError as exc:
                bad = repr(exc)
            with lock:
                counts["requests"] += 1
                if bad:
                    lost.append((route, bad))

    threads = [threading.Thread(target=visitor, args=(r, m))
               for r, m in (("L1", "m1"), ("L2", "m2"), ("L3", "m3"))]
    for t in threads:
        t.start()
    changes = 0
    deadline = time.monotonic() + 3.0
    try:
        while time.monotonic() < deadline:
            for lbm, lf in (("bytraffic", "7"), ("bybusyness", "3"),
                            ("byrequests", "1")):
                manager.edit_balancer("ml", b_lbm=lbm)
                manager.edit("ml", env.urls["m4"], w_lf=lf)
                manager.edit("ml", env.urls["m2"], w_status_N="1")
                manager.edit("ml", env.urls["m2"], w_status_N="0")
                changes += 4
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    print("balancer-manager under load: %d changes, %d requests, %d losses"
          % (changes, counts["requests"], len(lost)))
    assert changes >= 12 and counts["requests"] >= 100, counts
    assert lost == [], "%d of %d requests lost their member: %s" % (
        len(lost), counts["requests"], lost[:5])
    row = manager.member("ml", env.urls["m4"])
    assert row["factor"].startswith("1"), row


def test_runtime_stock_stickiness_change_is_logged_once(env):
    """README 7.3: balancer-manager sets stickysession=JSESSIONID on a
    GWELB balancer at run time: one [warn] line naming the balancer, for
    many requests of one client connection (so of one child process)."""
    manager = BalancerManager(env)
    mark = env.log_mark()
    manager.edit_balancer("ss", b_ss="JSESSIONID")
    env.expect_log(r"balancer://ss")
    conn = env.connection()
    try:
        for _ in range(8):
            r = conn.request("/ss/x", cookies=["ROUTEID=.S2"])
            assert r.status == 200, r
    finally:
        conn.close()
    time.sleep(0.2)  # let the last access's log lines land
    warned = [line for line in env.log_lines(since=mark)
              if re.search(r"\[(gwe_lb:)?warn\]", line)
              and "balancer://ss" in line]
    assert len(warned) == 1, "expected one [warn] line, got:\n" + \
        "\n".join(warned)


def test_runtime_stock_stickiness_routes_first_until_cleared(env):
    """README 7.3: after balancer-manager set stickysession=JSESSIONID at
    run time, mod_proxy_balancer's own sticky lookup routes first:
    JSESSIONID=x.S1 goes to S1 although ROUTEID=.S2 names S2; a request
    without JSESSIONID still follows the GWELB route; clearing the field
    returns to GWELB routing alone (the form's "-")."""
    manager = BalancerManager(env)
    manager.edit_balancer("st", b_ss="JSESSIONID")
    env.expect_log(r"balancer://st")
    for _ in range(3):
        r = env.get("/st/x", cookies=["JSESSIONID=x.S1; ROUTEID=.S2"])
        assert (r.status, r.member) == (200, "m1"), r
        r = env.get("/st/x", cookies=["ROUTEID=.S2"])
        assert (r.status, r.member) == (200, "m2"), r
    manager.edit_balancer("st", b_ss="-")  # "-" is the form's "none"
    for _ in range(3):
        r = env.get("/st/x", cookies=["JSESSIONID=x.S1; ROUTEID=.S2"])
        assert (r.status, r.member) == (200, "m2"), r
