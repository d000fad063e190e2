# SPDX-License-Identifier: Apache-2.0
"""README 11: the mod_gwe_lb section of server-status.

Requests of known kinds (route by parameter, by cookie, none, a route
naming no member, a disabled member's route) go over four keep-alive
connections at once, round robin, so under prefork (four children here)
four different children count them; the counters in shared memory must add
up to exactly what was sent, split exactly by kind.  A graceful restart
keeps them; a balancer added in a reload starts at zero.
"""
import os
import re
from collections import Counter
from pathlib import Path

import pytest

from gwetest import BACKEND_DOWN, HttpdEnv, REPO, free_port
from gwetest.checks import route_cookies

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


def status(env):
    """The GWELB lines of server-status?auto as {balancer name: {"members":
    {route: {counter: n}}, counter: n}}, checking the numbering."""
    r = env.get("/server-status?auto")
    assert r.status == 200, r
    names, routes, out = {}, {}, {}
    for line in r.body.decode().splitlines():
        m = re.match(r"GWELBBalancer\[(\d+)\](?:Member\[(\d+)\])?(\w+): (.*)$",
                     line)
        if not m:
            continue
        i, j, key, val = int(m[1]), m[2], m[3], m[4]
        if j is None and key == "Name":
            assert i == len(names), "balancers numbered from 0: %s" % line
            names[i] = val
            out[val] = {"members": {}}
        elif j is None:
            out[names[i]][key] = int(val)
        elif key == "Route":
            routes[i, int(j)] = val
            members = out[names[i]]["members"]
            assert int(j) == len(members), "members numbered from 0: " + line
            members[val] = {}
        else:
            out[names[i]]["members"][routes[i, int(j)]][key] = int(val)
    return out


def test_auto_lines_are_complete(env):
    s = status(env)
    assert list(s) == ["balancer://st", "balancer://dead"]
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


def delta(before, after):
    """after - before, per balancer, member and counter."""
    out = {}
    for b, a in after.items():
        old = before.get(b, {"members": {}})
        d = {"members": {}}
        for k, v in a.items():
            if k != "members":
                d[k] = v - old.get(k, 0)
        for route, counters in a["members"].items():
            o = old["members"].get(route, {})
            d["members"][route] = {k: v - o.get(k, 0)
                                   for k, v in counters.items()}
        out[b] = d
    return out


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
    round robin; returns (responses with their kinds, the expected
    counters)."""
    conns = [env.connection() for _ in range(CHILDREN)]
    sent = []
    try:
        for n in range(ROUNDS * len(KINDS)):
            kind, target, cookies, _ = KINDS[n % len(KINDS)]
            r = conns[n % CHILDREN].request(target, cookies=cookies)
            assert r.status == 200 and r.member, r
            sent.append((kind, r))
    finally:
        for c in conns:
            c.close()
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
    with open(out, "a") as f:
        f.write("\n".join(lines) + "\n")


def test_no_member_answered_is_not_served(env):
    before = status(env)
    env.expect_log(*BACKEND_DOWN)
    for _ in range(3):
        assert env.get("/dead/x").status == 503
    d = delta(before, status(env))["balancer://dead"]
    assert all(v == 0 for v in d["members"]["DEAD_0"].values()), d


def test_graceful_restart_keeps_counters(env):
    send_known_kinds(env)
    before = status(env)
    assert before["balancer://st"]["Unknown"] >= ROUNDS
    env.restart(config(env), graceful=True)
    assert status(env) == before
    env.get("/st/k?alias=x.ST_1")
    after = delta(before, status(env))["balancer://st"]
    assert after["members"]["ST_1"]["Param"] == 1


def test_balancer_added_in_reload_starts_at_zero(env):
    send_known_kinds(env)
    before = status(env)
    env.restart(config(env, ADDED.format(**env.urls)), graceful=True)
    s = status(env)
    assert list(s) == ["balancer://st", "balancer://dead", "balancer://added"]
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
