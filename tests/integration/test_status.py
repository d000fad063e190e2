# SPDX-License-Identifier: Apache-2.0
"""README 11: the mod_gwe_lb section of server-status.

Requests of known kinds (route by parameter, by cookie, none, a route
naming no member, a disabled member's route) go over four keep-alive
connections open at once, a client thread each, so under prefork (four
children here) four different children count them, and under event and
worker four threads at a time; the counters in shared memory must add
up to exactly what was sent, split exactly by kind.  Graceful and full
restarts keep them; a balancer added in a reload starts at zero.
"""
import re
import threading
from collections import Counter
from pathlib import Path

import pytest

from gwetest import BACKEND_DOWN, BalancerManager, HttpdEnv, REPO, free_port
from gwetest.checks import route_cookies
from gwetest.status import delta, status, status_list

MEMBER_COUNTERS = ("Param", "Cookie", "Fallback", "Lbmethod", "Moved",
                   "Issued", "Refreshed")
BALANCER_COUNTERS = ("Forged", "Expired", "Legacy", "Unknown")
PICKS = ("Param", "Cookie", "Fallback", "Lbmethod")
CHILDREN = 4  # prefork children, and connections used at once

BALANCERS = """
<Proxy "balancer://st">
    BalancerMember "{st0}" route=ST_0
    BalancerMember "{st1}" route=ST_1
    BalancerMember "{st2}" route=ST_2 status=+D
    GWELBStickyParam alias
    GWELBRouteCookie STID
</Proxy>
ProxyPass "/st/" "balancer://st/"

<Proxy "balancer://dead">
    BalancerMember "{dead}" route=DEAD_0 retry=0
    GWELBRouteCookie DEADID
</Proxy>
ProxyPass "/dead/" "balancer://dead/"

<Proxy "balancer://retry">
    BalancerMember "{dead}" route=RT_DEAD
    BalancerMember "{st0}" route=RT_LIVE
    GWELBRouteCookie RTID
</Proxy>
ProxyPass "/retry/" "balancer://retry/"
{extra}
<Location "/server-status">
    SetHandler server-status
</Location>
CustomLog "{pidlog}" "%{{X-Gwetest-Id}}i %P"
"""

ADDED = """
<Proxy "balancer://added">
    BalancerMember "{st0}" route=ADD_0
    BalancerMember "{st1}" route=ADD_1
    GWELBRouteCookie ADDID path=/added/
</Proxy>
ProxyPass "/added/" "balancer://added/"
"""

# prefork: exactly CHILDREN children from the start, none reaped while
# the test holds its connections
PREFORK = """
StartServers {n}
MinSpareServers {n}
MaxSpareServers {m}
""".format(n=CHILDREN, m=2 * CHILDREN)


def config(env, extra=""):
    body = BALANCERS.format(extra=extra, pidlog=env.dir / "pid_log",
                            **env.urls)
    return (PREFORK if env.mpm == "prefork" else "") + body


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("status", extra_modules=("status",)) as e:
        e.urls = {n: e.member(n).url for n in ("st0", "st1", "st2")}
        e.urls["dead"] = "http://127.0.0.1:%d" % free_port()
        e.start(config(e))
        yield e


def test_auto_lines_are_complete(env):
    s = status(env)
    assert list(s) == ["balancer://st", "balancer://dead",
                       "balancer://retry"]
    st = s["balancer://st"]
    assert list(st["members"]) == ["ST_0", "ST_1", "ST_2"]
    for counters in st["members"].values():
        assert sorted(counters) == sorted(MEMBER_COUNTERS)
    assert sorted(k for k in st if k != "members") == sorted(BALANCER_COUNTERS)


def test_html_table(env):
    r = env.get("/server-status")
    body = r.body.decode()
    assert r.status == 200
    assert "<h3>balancer://st</h3>" in body
    assert "<th>Member</th><th>Route</th>" + "".join(
        "<th>%s</th>" % c for c in MEMBER_COUNTERS) + "</tr>" in body
    assert "<td>ST_1</td>" in body
    # ?notable: the same figures without tables
    body = env.get("/server-status?notable").body.decode()
    assert "<th>Moved</th>" not in body
    assert re.search(r"<p>http://127\.0\.0\.1:\d+, route ST_1: Param \d+, "
                     r"Cookie \d+, Fallback \d+, Lbmethod \d+, Moved \d+, "
                     r"Issued \d+, Refreshed \d+</p>", body), body
    assert re.search(r"<p>balancer: Forged \d+, Expired \d+, Legacy \d+, "
                     r"Unknown \d+</p>", body), body


ROUTE = {"st0": "ST_0", "st1": "ST_1", "st2": "ST_2"}
KINDS = [
    # (kind, target, Cookie lines, counter the serving member gets)
    ("param", "/st/k?alias=x.ST_1", [], "Param"),
    ("cookie", "/st/k", ["STID=.ST_0"], "Cookie"),
    ("none", "/st/k", [], "Lbmethod"),
    ("unknown", "/st/k?alias=x.NOPE", [], "Lbmethod"),
    ("moved", "/st/k", ["STID=.ST_2"], "Lbmethod"),
]
ROUNDS = 12  # requests of each kind


def send_known_kinds(env):
    """ROUNDS requests of each kind over CHILDREN keep-alive connections,
    all open at once (so under prefork each is a child of its own), one
    client thread each, so the counters are added to concurrently; returns
    (responses with their kinds, the expected counters, Unknown)."""
    conns = [env.connection() for _ in range(CHILDREN)]
    sent, errors = [], []

    def client(k):
        try:
            for n in range(k, ROUNDS * len(KINDS), CHILDREN):
                kind, target, cookies, _ = KINDS[n % len(KINDS)]
                sent.append((kind, conns[k].request(target, cookies=cookies)))
        except Exception as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=client, args=(k,))
               for k in range(CHILDREN)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        for c in conns:
            c.close()
    assert not errors and not any(t.is_alive() for t in threads), errors
    assert len(sent) == ROUNDS * len(KINDS)
    for _, r in sent:
        assert r.status == 200 and r.member, r
    want = {route: Counter() for route in ROUTE.values()}
    unknown = 0
    for kind, r in sent:
        counter = dict((k, c) for k, _, _, c in KINDS)[kind]
        want[ROUTE[r.member]][counter] += 1
        want[ROUTE[r.member]]["Issued"] += len(route_cookies(r, "STID"))
        if kind == "moved":
            want["ST_2"]["Moved"] += 1
        if kind == "unknown":
            unknown += 1
    return sent, want, unknown


def pids_of(env, responses):
    """The child process that served each response (%P in pid_log)."""
    ids = {r.id for r in responses}
    pids = set()
    for line in (env.dir / "pid_log").read_text().splitlines():
        rid, _, pid = line.partition(" ")
        if rid in ids:
            pids.add(pid)
    return pids


def test_counters_add_up_by_kind(env):
    before = status(env)
    sent, want, unknown = send_known_kinds(env)
    d = delta(before, status(env))["balancer://st"]
    n = len(sent)

    served = sum(d["members"][m][c] for m in d["members"] for c in PICKS)
    assert served == n, "counted %d served, sent %d" % (served, n)
    for route, counters in d["members"].items():
        got = {c: v for c, v in counters.items() if v}
        assert got == {c: v for c, v in want[route].items() if v}, route
    assert d["Unknown"] == unknown == ROUNDS
    assert d["Forged"] == d["Expired"] == d["Legacy"] == 0
    assert d["members"]["ST_2"]["Moved"] == ROUNDS
    issued = sum(len(route_cookies(r, "STID")) for _, r in sent)
    assert sum(c["Issued"] for c in d["members"].values()) == issued
    # param: the cookie is issued; cookie: not again; none, unknown and
    # moved: issued by the member that served
    assert issued == 4 * ROUNDS

    pids = pids_of(env, [r for _, r in sent])
    if env.mpm == "prefork":
        assert len(pids) == CHILDREN, "served by children %s" % pids
    write_figures(env, sent, d, pids)


def write_figures(env, sent, d, pids):
    out = Path(REPO) / "build" / "results" / "status-figures.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    kinds = Counter(k for k, _ in sent)
    lines = ["MPM %s: %d requests sent over %d connections, served by %d "
             "child process(es)" % (env.mpm, len(sent), CHILDREN, len(pids)),
             "  sent per kind: " + ", ".join(
                 "%s %d" % (k, kinds[k]) for k, _, _, _ in KINDS),
             "  set-cookies seen by the client: %d" % sum(
                 len(route_cookies(r, "STID")) for _, r in sent)]
    for route, counters in d["members"].items():
        lines.append("  counted %s: " % route + ", ".join(
            "%s %d" % (c, counters[c]) for c in MEMBER_COUNTERS))
    lines.append("  counted balancer: " + ", ".join(
        "%s %d" % (c, d[c]) for c in BALANCER_COUNTERS))
    lines.append("  counted served in total: %d" % sum(
        d["members"][m][c] for m in d["members"] for c in PICKS))
    # one block per MPM: this run's replaces the one an earlier run left
    blocks = {}
    if out.exists():
        for block in ("\n" + out.read_text()).split("\nMPM ")[1:]:
            blocks[block.split(":")[0]] = "MPM " + block.rstrip("\n")
    blocks[env.mpm] = "\n".join(lines)
    out.write_text("\n".join(blocks[m] for m in sorted(blocks)) + "\n")


def test_no_member_answered_is_not_served(env):
    before = status(env)
    env.expect_log(*BACKEND_DOWN)
    for _ in range(3):
        assert env.get("/dead/x").status == 503
    d = delta(before, status(env))["balancer://dead"]
    assert all(v == 0 for v in d["members"]["DEAD_0"].values()), d


def test_a_failover_counts_once_for_the_member_that_served(env):
    """The first request's first attempt goes to the requested member,
    which refuses the connection; mod_proxy retries and another member
    serves: counted once, for the member that served, and as Moved for the
    one asked for.  The next requests find the member in error (retry=
    60 s) and are balanced at once."""
    before = status(env)
    env.expect_log(*BACKEND_DOWN)
    for _ in range(3):
        r = env.get("/retry/x", cookies=["RTID=.RT_DEAD"])
        assert r.status == 200 and r.member == "st0", r
        assert [c[1] for c in route_cookies(r, "RTID")] == [".RT_LIVE"]
    d = delta(before, status(env))["balancer://retry"]["members"]
    assert {c: v for c, v in d["RT_LIVE"].items() if v} == \
        {"Lbmethod": 3, "Issued": 3}
    assert {c: v for c, v in d["RT_DEAD"].items() if v} == {"Moved": 3}


@pytest.mark.parametrize("graceful", [True, False], ids=["graceful", "full"])
def test_restart_keeps_counters(env, graceful):
    send_known_kinds(env)
    before = status(env)
    assert before["balancer://st"]["Unknown"] >= ROUNDS
    env.restart(config(env), graceful=graceful)
    assert status(env) == before
    env.get("/st/k?alias=x.ST_1")
    after = delta(before, status(env))["balancer://st"]
    assert after["members"]["ST_1"]["Param"] == 1


def test_requests_during_a_graceful_restart_are_all_counted(env):
    """Old children finish their requests after the new generation has
    started: they count into the same shared memory."""
    before = status(env)
    seen, failures, stop = Counter(), [], threading.Event()

    def client(k):
        target = "/st/g?alias=x.ST_1" if k % 2 else "/st/g"
        while not stop.is_set():
            try:
                r = env.get(target)
            except OSError as e:  # a lost request would spoil the sum
                failures.append(e)
                return
            seen[(k % 2, r.status, r.member)] += 1

    threads = [threading.Thread(target=client, args=(k,))
               for k in range(CHILDREN)]
    for t in threads:
        t.start()
    try:
        env.restart(config(env), graceful=True)
        env.restart(config(env), graceful=True)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not failures and not any(t.is_alive() for t in threads)
    assert all(st == 200 and m for (_, st, m) in seen), seen
    d = delta(before, status(env))["balancer://st"]["members"]
    param = sum(n for (k, _, _), n in seen.items() if k == 1)
    balanced = Counter()
    for (k, _, m), n in seen.items():
        if k == 0:
            balanced[ROUTE[m]] += n
    assert d["ST_1"]["Param"] == param > 0
    assert {r: d[r]["Lbmethod"] for r in ROUTE.values()} == \
        {r: balanced[r] for r in ROUTE.values()}


def test_reload_with_another_member_keeps_each_members_counts(env):
    """More members (a new slot count): a new segment, counts copied by
    member name."""
    send_known_kinds(env)
    before = status(env)["balancer://st"]
    more = BALANCERS.replace(
        '    BalancerMember "{st2}" route=ST_2 status=+D\n',
        '    BalancerMember "{st2}" route=ST_2 status=+D\n'
        '    BalancerMember "{st3}" route=ST_3 status=+D\n')
    urls = dict(env.urls, st3=env.member("st3").url)
    body = more.format(extra="", pidlog=env.dir / "pid_log", **urls)
    env.restart((PREFORK if env.mpm == "prefork" else "") + body)
    after = status(env)["balancer://st"]
    assert list(after["members"]) == ["ST_0", "ST_1", "ST_2", "ST_3"]
    for route in ("ST_0", "ST_1", "ST_2"):
        assert after["members"][route] == before["members"][route]
    assert all(v == 0 for v in after["members"]["ST_3"].values())
    assert all(after[c] == before[c] for c in BALANCER_COUNTERS)
    env.restart(config(env))
    assert status(env)["balancer://st"] == before


def test_balancer_added_in_reload_starts_at_zero(env):
    send_known_kinds(env)
    before = status(env)
    env.restart(config(env, ADDED.format(**env.urls)), graceful=True)
    s = status(env)
    assert list(s) == ["balancer://st", "balancer://dead", "balancer://retry",
                       "balancer://added"]
    assert s["balancer://st"] == before["balancer://st"]
    added = s["balancer://added"]
    assert list(added["members"]) == ["ADD_0", "ADD_1"]
    assert all(v == 0 for c in added["members"].values()
               for v in c.values())
    assert all(added[c] == 0 for c in BALANCER_COUNTERS)
    r = env.get("/added/x")
    s2 = delta(s, status(env))
    route = {"st0": "ADD_0", "st1": "ADD_1"}[r.member]
    assert s2["balancer://added"]["members"][route]["Lbmethod"] == 1
    assert s2["balancer://added"]["members"][route]["Issued"] == 1
    assert all(v == 0 for c in s2["balancer://st"]["members"].values()
               for v in c.values())


VHOSTS = """
<Proxy "balancer://s">
    BalancerMember "{m1}" route=R1
    BalancerMember "{m2}" route=R2
    GWELBStickyParam alias
</Proxy>

<VirtualHost 127.0.0.1:{port}>
    ServerName a.test
    ProxyPass "/s/" "balancer://s/"
</VirtualHost>

<VirtualHost 127.0.0.1:{port}>
    ServerName b.test
    BalancerInherit Off
    ProxyPassInherit Off
    <Proxy "balancer://s">
        BalancerMember "{m1}" route=B1
        GWELBStickyParam alias
    </Proxy>
    ProxyPass "/s/" "balancer://s/"
</VirtualHost>

<Location "/server-status">
    SetHandler server-status
</Location>
"""


def test_virtual_hosts_inherited_copy_shares_own_balancer_apart():
    """An inherited copy of the main server's balancer counts with it; a
    virtual host's own balancer of the same name has counters of its own,
    kept apart across a graceful restart too."""
    with HttpdEnv("status-vhost", extra_modules=("status",)) as e:
        m = {n: e.member(n).url for n in ("m1", "m2")}
        body = VHOSTS.format(port=e.port, **m)
        e.start(body)
        for _ in range(3):
            r = e.get("/s/x?alias=.R2", headers=[("Host", "a.test")])
            assert r.member == "m2"
        for _ in range(2):
            r = e.get("/s/x?alias=.B1", headers=[("Host", "b.test")])
            assert r.member == "m1"
        want = [("balancer://s", ["R1", "R2"], {"R2": 3}),
                ("balancer://s", ["B1"], {"B1": 2})]
        for restart in (False, True):
            if restart:
                e.restart(body, graceful=True)
            got = status_list(e, [("Host", "a.test")])
            assert [(n, list(b["members"]),
                     {r: c["Param"] for r, c in b["members"].items()
                      if c["Param"]}) for n, b in got] == want
        html = e.get("/server-status", headers=[("Host", "a.test")])
        assert "balancer://s (virtual host b.test:%d)" % e.port \
            in html.body.decode()


GROWTH = """
<Proxy "balancer://grow">
    BalancerMember "{g0}" route=G_0
    ProxySet growth=2
    GWELBStickyParam alias
</Proxy>
ProxyPass "/grow/" "balancer://grow/"
<Location "/balancer-manager">
    SetHandler balancer-manager
</Location>
<Location "/server-status">
    SetHandler server-status
</Location>
"""


def test_member_added_by_balancer_manager_counts_in_its_own_slot():
    with HttpdEnv("status-growth", extra_modules=("status",)) as e:
        urls = {n: e.member(n).url for n in ("g0", "g1")}
        e.start(GROWTH.format(**urls))
        bm = BalancerManager(e)
        bm.edit_balancer("grow", b_nwrkr=urls["g1"], b_wyes="1")
        bm.edit("grow", urls["g1"], w_wr="G_1", w_status_D="0")
        for _ in range(3):
            assert e.get("/grow/x?alias=.G_1").member == "g1"
        assert e.get("/grow/x?alias=.G_0").member == "g0"
        members = status(e)["balancer://grow"]["members"]
        assert list(members) == ["G_0", "G_1"]
        assert members["G_1"]["Param"] == 3 and members["G_0"]["Param"] == 1
