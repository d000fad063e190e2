# SPDX-License-Identifier: Apache-2.0
"""README 4.8's rotation across load balancers sharing the key files: two
Apache instances (other ports, the same members) read one set of key
files; a cookie issued by one routes through the other; and the rolling
rotation (a) new key last, (b) new key first, (c) old key removed, applied
by graceful restarts one instance at a time, moves no visitor of a load
that keeps going across every step, and answers no 5xx.  The figures go
to build/results/rotation-figures.txt."""
import os
import threading
import time

import pytest

from gwetest import REPO, HttpdEnv, signed
from gwetest.checks import route_cookies
from gwetest.client import Connection

MPM = os.environ.get("GWE_MPM", "event")
LOAD_MPM = "event"  # the load runs once, in this MPM's run
VISITORS = 200
THREADS = 2
# Refresh every maxidle/4 = 2 s re-signs a returning visitor's value with
# the first key, so (c) can follow (b) once every value carries the new one.
MAXIDLE = 8
FIGURES = REPO / "build" / "results" / "rotation-figures.txt"
CONF = """
<Proxy "balancer://rot">
    BalancerMember "{a}" route=R_A
    BalancerMember "{b}" route=R_B
    GWELBRouteCookie ROT maxidle=%d
{keys}
</Proxy>
ProxyPass "/rot/" "balancer://rot/"
""" % MAXIDLE


def config(members, keys):
    return CONF.format(a=members["a"].url, b=members["b"].url, keys="\n".join(
        '    GWELBCookieKey "%s"' % k for k in keys))


@pytest.fixture(scope="module")
def pair():
    with HttpdEnv("rotation-a") as a, HttpdEnv("rotation-b") as b:
        members = {n: a.member(n) for n in ("a", "b")}
        a.keys = [signed.write_key(a.dir / n) for n in ("old.key", "new.key")]
        a.members_ = members
        for e in (a, b):
            e.start(config(members, a.keys[:1]))
        yield a, b


def test_a_cookie_issued_by_one_instance_routes_through_the_other(pair):
    a, b = pair
    for first, other in ((a, b), (b, a)):
        r = first.get("/rot/x")
        cookie = "ROT=" + route_cookies(r, "ROT")[0][1]
        for _ in range(3):
            r2 = other.get("/rot/x", cookies=[cookie])
            assert r2.member == r.member and route_cookies(r2, "ROT") == []
            assert other.log_entry(r2)["GWELB_COOKIE_STATUS"] == "valid"


class Load:
    """VISITORS visitors, each with its own cookie jar, asking A and B in
    turn over keep-alive connections, from THREADS threads, until stop().
    Counts per step: requests, Set-Cookies, re-signed values (key id
    changed), moved visitors, 5xx."""

    def __init__(self, a, b):
        self.ports = (a.port, b.port)
        self.jar = [None] * VISITORS
        self.member = [None] * VISITORS
        self.step = "start"
        self.stats = {}
        self.rounds = [0] * THREADS
        self.errors = []
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self.run, args=(t,),
                                         daemon=True) for t in range(THREADS)]

    def count(self, key, n=1):
        with self.lock:
            s = self.stats.setdefault(self.step, dict.fromkeys(
                ("requests", "set_cookies", "resigned", "moved", "5xx"), 0))
            s[key] += n

    def ask(self, conns, i, k):
        hdrs = [("Cookie", "ROT=" + self.jar[i])] if self.jar[i] else []
        for _ in range(3):  # a graceful restart closes kept-alive sockets
            try:
                if conns[k] is None:
                    conns[k] = Connection(self.ports[k])
                return conns[k].request("/rot/x", headers=hdrs)
            except OSError:
                conns[k] = None
        raise AssertionError("no answer from port %d" % self.ports[k])

    def run(self, t):
        conns = [None, None]
        try:
            while not self.done.is_set():
                for i in range(t, VISITORS, THREADS):
                    self.visit(conns, i, (i + self.rounds[t]) % 2)
                self.rounds[t] += 1
        except Exception as exc:  # reported by stop()
            self.errors.append(repr(exc))

    def visit(self, conns, i, k):
        r = self.ask(conns, i, k)
        self.count("requests")
        if r.status >= 500:
            self.count("5xx")
            return
        if self.member[i] is None:
            self.member[i] = r.member
        elif r.member != self.member[i]:
            self.count("moved")
        for _, v, _ in route_cookies(r, "ROT"):
            self.count("set_cookies")
            if self.jar[i] and \
                    signed.decode(v).key_id != signed.decode(self.jar[i]).key_id:
                self.count("resigned")
            self.jar[i] = v

    def next_rounds(self, n=2, timeout=20):
        """Wait until every thread has made n more rounds."""
        want = [x + n for x in self.rounds]
        deadline = time.monotonic() + timeout
        while any(x < w for x, w in zip(self.rounds, want)):
            assert not self.errors, self.errors
            assert time.monotonic() < deadline, "load stalled"
            time.sleep(0.05)

    def key_ids(self):
        return {signed.decode(v).key_id for v in self.jar if v}



@pytest.mark.skipif(MPM != LOAD_MPM, reason="the rotation under load runs "
                    "once, in the %s run" % LOAD_MPM)
def test_rolling_rotation_under_load_moves_no_visitor(pair):
    a, b = pair
    old, new = a.keys
    members = a.members_
    load = Load(a, b)
    for th in load.threads:
        th.start()
    try:
        load.next_rounds()
        steps = [("(a) new key last", [old, new]),
                 ("(b) new key first", [new, old]),
                 ("(c) old key removed", [new])]
        for name, keys in steps:
            if name.startswith("(c)"):
                # "when old sessions no longer matter": every visitor's
                # value is signed by the new key (refreshed, maxidle/4)
                deadline = time.monotonic() + 4 * MAXIDLE
                while load.key_ids() != {signed.key_id(new.read_bytes())}:
                    assert time.monotonic() < deadline, load.key_ids()
                    load.next_rounds(1)
            for e, label in ((a, "A"), (b, "B")):
                load.step = "%s, %s reloaded" % (name, label)
                e.restart(config(members, keys))
                load.next_rounds()
        load.step = "after"
        load.next_rounds()
    finally:
        load.done.set()
        for th in load.threads:
            th.join(30)
    assert not load.errors, load.errors
    lines = ["%d visitors, %d threads, requests alternately to A and B over "
             "keep-alive, maxidle=%d, MPM %s" % (VISITORS, THREADS, MAXIDLE,
                                                 MPM)]
    for step, s in load.stats.items():
        lines.append("%-36s requests %5d  moved %d  5xx %d  Set-Cookie %4d  "
                     "re-signed %4d" % (step, s["requests"], s["moved"],
                                        s["5xx"], s["set_cookies"],
                                        s["resigned"]))
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    FIGURES.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    assert sum(s["moved"] for s in load.stats.values()) == 0, lines
    assert sum(s["5xx"] for s in load.stats.values()) == 0, lines
    assert sum(s["resigned"] for s in load.stats.values()) >= VISITORS, lines
