# SPDX-License-Identifier: Apache-2.0
"""README 4.7: GWELBFallback client-ip, affinity without a cookie.

Many client addresses reach one Apache over one keep-alive connection:
mod_remoteip (RemoteIPHeader X-Forwarded-For, RemoteIPInternalProxy
127.0.0.1) makes each request's X-Forwarded-For its r->useragent_ip, which
is all the fallback reads.  The members are virtual hosts of the same
Apache serving a file that names them (fast enough for 10,000 requests a
scenario); routes GWE_Frontend_1 ... are the ones sticky/'s unit tables pin.

The large-sample figures (10,000 addresses: moved fractions, load shares,
another instance with the members in another order and at other URLs,
the three MPMs side by side) run once, in the MPM run of LARGE_MPM; every
MPM run checks 1,000 addresses against a reordered instance, the load
shares over 10,000 (a bound over fewer would be left to chance) and the
pinned picks of tests/unit/test_rendezvous.c.  What was measured goes to
build/results/fallback-figures.txt.
"""
import http.client
import os
import re
import socket
from pathlib import Path

import pytest

from gwetest import BalancerManager, HttpdEnv
from gwetest.configs import proxy
from gwetest.httpd import BACKEND_DOWN, REPO, free_port

ROUTES = ("GWE_Frontend_1", "GWE_Frontend_2", "GWE_Backend_1",
          "GWE_Backend_2", "GWE_Frontend_3")
LARGE_MPM = "event"
MPM = os.environ.get("GWE_MPM", "event")
LARGE = MPM == LARGE_MPM
N_LARGE = 10000
N_SMALL = 1000
FIGURES = REPO / "build" / "results" / "fallback-figures.txt"
REMOTEIP = """
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
# one connection carries a whole sample
MaxKeepAliveRequests 0
"""


def address(i):
    """Sample address i: mostly neighbouring IPv4 addresses of one network
    (the hard case for a hash), every fifth an IPv6 address of one /32."""
    if i % 5 == 4:
        return "2001:db8:%x:%x::%x" % (i >> 12, (i >> 6) & 63, i & 63)
    return "10.%d.%d.%d" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


class Members:
    """Five members as virtual hosts of the Apache under test: each serves
    /who, a file holding its name (m1 ... m5, route ROUTES[i])."""

    def __init__(self, env):
        self.env = env
        self.ports = [free_port() for _ in ROUTES]
        self.names = ["m%d" % (i + 1) for i in range(len(ROUTES))]

    def url(self, i):
        return "http://127.0.0.1:%d" % self.ports[i]

    def listen(self):
        return ["127.0.0.1:%d" % p for p in self.ports]

    def config(self):
        out = []
        keepalive = "On" if self.env.mpm == "event" else "Off"
        for name, port in zip(self.names, self.ports):
            root = Path(self.env.dir) / "members" / name
            root.mkdir(parents=True, exist_ok=True)
            (root / "who").write_text(name)
            # its own (empty) log: the access log holds the balancer's
            # lines.  Under prefork and worker an idle keep-alive
            # connection from mod_proxy holds a process or thread, and the
            # test's few would run out; event parks it without one.
            out.append('<VirtualHost 127.0.0.1:%d>\n    DocumentRoot "%s"\n'
                       '    CustomLog "/dev/null" "%%h"\n    KeepAlive %s\n'
                       '</VirtualHost>' % (port, root, keepalive))
        return "\n".join(out) + "\n"


def balancer(members, name, spec, extra="GWELBFallback client-ip",
             cookie=True, routes=ROUTES):
    """A balancer of `members`; spec: [(member index, BalancerMember
    parameters)], in the order written; member i has route routes[i]."""
    lines = ['<Proxy "balancer://%s">' % name]
    for i, params in spec:
        lines.append('    BalancerMember "%s" route=%s %s'
                     % (members.url(i), routes[i], params))
    if cookie:
        lines.append("    GWELBRouteCookie ROUTEID path=/%s/" % name)
    lines += ["    " + x for x in extra.splitlines() if x.strip()]
    lines.append("</Proxy>")
    lines.append('ProxyPass "/%s/" "balancer://%s/"' % (name, name))
    return "\n".join(lines) + "\n"


def plain(indexes, params=""):
    return [(i, params) for i in indexes]


# The routes test_edited_route_is_hashed_anew gives m2: the same length
# differing in the second 8 bytes, then a short one in the first 8 (the
# longer route's bytes stay after its end in httpd's shared memory).
REROUTES = {"reroute_same_length": "GWE_Frontend_9", "reroute_short": "F2"}

# Instance A: every balancer the tests need, over members m1 ... m5.
BALANCERS_A = {
    "four": plain(range(4)),
    # m3 removed: disabled in the configuration
    "three": plain((0, 1)) + [(2, "status=+D")] + plain((3,)),
    "five": plain(range(5)),
    "weighted": [(0, "loadfactor=1"), (1, "loadfactor=1"),
                 (2, "loadfactor=2"), (3, "loadfactor=4")],
    "weighted2": [(0, "loadfactor=3"), (1, "loadfactor=1"),
                  (2, "loadfactor=1"), (3, "loadfactor=5")],
    "three_b": plain(range(3)) + [(3, "status=+D")],
    # drained, hot standby, disabled: the fallback picks m4 and m5 only
    "special": [(0, "status=+N"), (1, "status=+H"), (2, "status=+D"),
                (3, ""), (4, "")],
    # no ordinary member usable: the hot standby serves
    "standby": [(0, "status=+D"), (1, "status=+H"), (2, "status=+D")],
    # the lowest lbset with a usable member: m1, m2
    "lbset": [(0, "lbset=0"), (1, "lbset=0"), (2, "lbset=1"),
              (3, "lbset=1")],
    # what a fallback pick counts: m3 drained and m4 (lbset 1) are never
    # offered by the walk
    "credit": [(0, "lbset=0"), (1, "lbset=0"), (2, "lbset=0 status=+N"),
               (3, "lbset=1")],
    # m1, m2 of lbset 0 disabled: lbset 1 takes over
    "lbset_up": [(0, "lbset=0 status=+D"), (1, "lbset=0 status=+D"),
                 (2, "lbset=1"), (3, "lbset=1")],
}


def config_a(members):
    body = REMOTEIP + members.config() + """
<Location "/balancer-manager">
    SetHandler balancer-manager
</Location>
ProxyPass "/balancer-manager" "!"
"""
    body += balancer(members, "runtime", plain(range(4)))
    # m2's route edited by balancer-manager, and balancers configured with
    # the routes it is edited to
    body += balancer(members, "reroute", plain(range(4)))
    for name, route in REROUTES.items():
        body += balancer(members, name, plain(range(4)),
                         routes=(ROUTES[0], route) + ROUTES[2:])
    for name, spec in BALANCERS_A.items():
        body += balancer(members, name, spec)
    body += balancer(members, "stock", plain(range(4)), extra="")
    body += balancer(members, "forced", BALANCERS_A["three"],
                     extra="GWELBFallback client-ip\nGWELBStickyForce On")
    body += balancer(members, "param", plain(range(4)),
                     extra="GWELBStickyParam alias\nGWELBFallback client-ip",
                     cookie=False)
    # the 4th member's server is down; "three_b" is what remains
    body += balancer(members, "dead", plain(range(3)),
                     extra="GWELBFallback client-ip").replace(
        "</Proxy>", '    BalancerMember "http://127.0.0.1:%d" route=%s\n'
        "</Proxy>" % (free_port(), ROUTES[3]))
    # members without route=: keyed by their URL
    body += '<Proxy "balancer://unrouted">\n'
    for i in range(4):
        body += '    BalancerMember "%s"\n' % members.url(i)
    body += "    GWELBRouteCookie ROUTEID path=/unrouted/\n" \
            "    GWELBFallback client-ip\n</Proxy>\n" \
            'ProxyPass "/unrouted/" "balancer://unrouted/"\n'
    return body


def config_b(members):
    """Instance B: balancer "four" with the members in reverse order, at
    other URLs (its own member hosts), with the same routes."""
    return REMOTEIP + members.config() + balancer(
        members, "four", plain((3, 2, 1, 0)))


def start(name, config, mpm=None):
    e = HttpdEnv(name, mpm=mpm, extra_modules=("remoteip",))
    members = Members(e)
    e.fallback_members = members
    e.start(config(members), listen=members.listen())
    return e


def env_members(env):
    """The BalancerMember URLs of an instance's members m1 ... m5."""
    return [env.fallback_members.url(i) for i in range(len(ROUTES))]


@pytest.fixture(scope="module")
def env():
    e = start("fallback-a", config_a)
    yield e
    e.cleanup()


@pytest.fixture(scope="module")
def env_b():
    e = start("fallback-b", config_b)
    yield e
    e.cleanup()


class Client:
    """One keep-alive connection; ask(path, addr) -> (status, member,
    Set-Cookie value or None)."""

    def __init__(self, env):
        self.env = env
        self.conn = http.client.HTTPConnection("127.0.0.1", env.port,
                                               timeout=15)

    def ask(self, path, addr, cookie=None):
        headers = {"X-Forwarded-For": addr}
        if cookie:
            headers["Cookie"] = cookie
        self.conn.request("GET", path, headers=headers)
        r = self.conn.getresponse()
        body = r.read().decode("latin-1")
        return r.status, body if r.status == 200 else None, \
            r.getheader("Set-Cookie")

    def close(self):
        self.conn.close()


def mapping(env, balancer_name, n, batch=100):
    """The member each of the first n sample addresses reaches: requests
    pipelined on one keep-alive connection, `batch` at a time."""
    out = []
    with socket.create_connection(("127.0.0.1", env.port), timeout=15) as s:
        f = s.makefile("rb")
        for start in range(0, n, batch):
            addrs = [address(i) for i in range(start, min(n, start + batch))]
            s.sendall(b"".join(
                b"GET /%s/who HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"X-Forwarded-For: %s\r\n\r\n"
                % (balancer_name.encode(), a.encode()) for a in addrs))
            for a in addrs:
                status = int(f.readline().split()[1])
                length = 0
                for line in iter(f.readline, b"\r\n"):
                    assert line, "connection closed"
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                body = f.read(length).decode("latin-1")
                assert status == 200, (balancer_name, a, status, body)
                out.append(body)
    return out


_figures = []


def figure(text):
    """A measured figure, for the lead's report."""
    _figures.append(text)
    if LARGE:
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        FIGURES.write_text("".join(x + "\n" for x in _figures))


@pytest.fixture(scope="module")
def base(env):
    return mapping(env, "four", N_LARGE if LARGE else N_SMALL)


def shares(picks, names):
    return {m: picks.count(m) / len(picks) for m in names}


# ---- the routing rules --------------------------------------------------


def test_same_address_same_member_and_cookie_names_it(env):
    c = Client(env)
    try:
        for i in range(40):
            first = c.ask("/four/who", address(i))
            for _ in range(3):
                again = c.ask("/four/who", address(i))
                assert again[1] == first[1], address(i)
            # the route cookie is still issued, for the member picked
            m = int(first[1][1:]) - 1
            assert first[2] and first[2].startswith(
                "ROUTEID=.%s;" % ROUTES[m]), first
    finally:
        c.close()


def test_every_member_gets_addresses(env, base):
    assert set(base) == {"m1", "m2", "m3", "m4"}


def test_fallback_is_logged_and_in_the_environment(env):
    mark = env.log_mark()
    r = env.get("/four/who", headers=[("X-Forwarded-For", "192.0.2.7")])
    assert r.status == 200
    log = env.log_entry(r)
    assert log["GWELB_ROUTE_SOURCE"] == "none"
    assert log["GWELB_ROUTE"] == "GWE_Backend_1"
    assert log["GWELB_FALLBACK"] == "client-ip"
    assert log["BALANCER_WORKER_ROUTE"] == "GWE_Backend_1"
    lines = [x for x in env.log_lines(since=mark) if "GWELB00101" in x]
    assert any("picked by GWELBFallback client-ip" in x and
               "route=GWE_Backend_1" in x for x in lines), lines


# The picks tests/unit/test_rendezvous.c pins for these routes: the module
# hashes r->useragent_ip exactly as sticky/ does.
PINNED = [
    ("192.0.2.7", "four", "m3"),       # GWE_Backend_1
    ("203.0.113.200", "four", "m1"),   # GWE_Frontend_1
    ("203.0.113.200", "weighted", "m4"),  # weights 1,1,2,4
    ("2001:db8::1", "four", "m2"),     # GWE_Frontend_2
]


def test_routed_request_has_no_fallback_variable(env):
    r = env.get("/four/who", cookies=["ROUTEID=.GWE_Frontend_2"])
    log = env.log_entry(r)
    assert log["GWELB_ROUTE_SOURCE"] == "cookie"
    assert log["GWELB_ROUTE"] == "GWE_Frontend_2"
    assert log["GWELB_FALLBACK"] == "-"


def test_without_fallback_no_fallback_variable(env):
    log = env.log_entry(env.get("/stock/who"))
    assert log["GWELB_ROUTE_SOURCE"] == "none"
    assert log["GWELB_FALLBACK"] == "-"


@pytest.mark.parametrize("addr,balancer_name,member", PINNED,
                         ids=["%s %s" % (a, b) for a, b, _ in PINNED])
def test_pinned_picks(env, addr, balancer_name, member):
    c = Client(env)
    try:
        assert c.ask("/%s/who" % balancer_name, addr)[1] == member
    finally:
        c.close()


def test_ipv6_spelling_is_mod_remoteips(env):
    # mod_remoteip parses the header, so 2001:0db8::1 reaches the module
    # as 2001:db8::1 (sticky/ alone would hash the two texts apart).
    c = Client(env)
    try:
        assert c.ask("/four/who", "2001:0db8::1")[1] == "m2"
    finally:
        c.close()


def test_valid_route_still_follows_the_route(env):
    c = Client(env)
    try:
        for i in range(50):
            for m in range(4):
                status, member, cookie = c.ask(
                    "/four/who", address(i), "ROUTEID=.%s" % ROUTES[m])
                assert member == "m%d" % (m + 1)
                assert cookie is None
    finally:
        c.close()


def test_cookie_of_unusable_member_falls_back(env):
    # the requested member (m3, disabled) is unusable: the fallback picks,
    # as for a request without a route, and the cookie names the new member
    c = Client(env)
    try:
        for i in range(50):
            a = address(i)
            _, want, _ = c.ask("/three/who", a)
            status, member, cookie = c.ask("/three/who", a,
                                           "ROUTEID=.GWE_Backend_1")
            assert member == want != "m3"
            assert cookie.startswith("ROUTEID=.%s;"
                                     % ROUTES[int(member[1:]) - 1])
    finally:
        c.close()


def test_forced_route_unusable_is_still_503(env):
    # GWELBStickyForce On: a requested member that is unusable (m3,
    # disabled) answers 503; the fallback does not pick another one.
    c = Client(env)
    try:
        for i in range(20):
            a = address(i)
            assert c.ask("/forced/who", a, "ROUTEID=.GWE_Backend_1")[0] == 503
            assert c.ask("/forced/who", a, "ROUTEID=.GWE_Backend_2")[1] == \
                "m4"
            # no route: the fallback picks, never the disabled member
            assert c.ask("/forced/who", a)[1] in ("m1", "m2", "m4")
    finally:
        c.close()


def test_with_a_url_parameter_only(env, base):
    # GWELBStickyParam without a route cookie: the parameter routes, and a
    # request without one is picked by its address, like on "four" (the
    # same routes); no cookie is set
    c = Client(env)
    try:
        for i in range(100):
            assert c.ask("/param/who?alias=s.GWE_Frontend_2",
                         address(i))[1] == "m2"
            status, member, cookie = c.ask("/param/who", address(i))
            assert member == base[i] and cookie is None
    finally:
        c.close()


def test_unknown_route_uses_the_fallback(env):
    c = Client(env)
    try:
        for i in range(30):
            a = address(i)
            want = c.ask("/four/who", a)[1]
            assert c.ask("/four/who", a, "ROUTEID=.nope")[1] == want
    finally:
        c.close()


def test_drained_disabled_standby_never_picked(env):
    picks = mapping(env, "special", 2000)
    assert set(picks) == {"m4", "m5"}, set(picks)


@pytest.mark.expect_log(*BACKEND_DOWN)
def test_member_in_error_is_left_out(env):
    # The addresses of a member whose server is down fail over to the
    # member they rank next (mod_proxy_balancer's retry, then the member is
    # in error and left out): the mapping of the three that remain.
    want = mapping(env, "three_b", 600)
    assert mapping(env, "dead", 600) == want
    assert "m4" not in want and len(set(want)) == 3


def test_hot_standby_when_no_member_is_usable(env):
    assert set(mapping(env, "standby", 200)) == {"m2"}


def test_lowest_usable_lbset(env):
    assert set(mapping(env, "lbset", 500)) == {"m1", "m2"}
    assert set(mapping(env, "lbset_up", 500)) == {"m3", "m4"}


def test_pick_counts_as_the_lbmethods_own(env):
    # byrequests' own pick credits each member the walk offers its
    # loadfactor and debits the one picked their sum; a fallback pick does
    # the same: the loads (lbstatus) of the members offered still sum to
    # 0, members never offered (drained, another lbset) keep 0, and every
    # pick is elected once.
    manager = BalancerManager(env)
    url = env_members(env)
    before = [int(manager.member("credit", url[i])["elected"])
              for i in range(4)]
    picks = mapping(env, "credit", 200)
    assert set(picks) == {"m1", "m2"}
    rows = [manager.member("credit", url[i]) for i in range(4)]
    load = [int(row["load"]) for row in rows]
    elected = [int(row["elected"]) - b for row, b in zip(rows, before)]
    assert load[0] + load[1] == 0 and load[0] != 0, load
    assert load[2] == load[3] == 0, load
    assert elected == [picks.count("m1"), picks.count("m2"), 0, 0], elected


def test_members_without_route_are_keyed_by_their_url(env):
    picks = mapping(env, "unrouted", 1000)
    assert set(picks) == {"m1", "m2", "m3", "m4"}
    assert mapping(env, "unrouted", 1000) == picks


def test_without_fallback_the_lbmethod_picks(env):
    # byrequests with equal loadfactors: one address is spread round robin
    c = Client(env)
    try:
        seen = [c.ask("/stock/who", "192.0.2.7")[1] for _ in range(8)]
    finally:
        c.close()
    assert set(seen) == {"m1", "m2", "m3", "m4"}, seen


# ---- the figures ---------------------------------------------------------


def test_removing_a_member_moves_only_its_addresses(env, base):
    after = mapping(env, "three", len(base))
    moved = [i for i, (a, b) in enumerate(zip(base, after)) if a != b]
    assert "m3" not in after
    assert all(base[i] == "m3" for i in moved)
    assert len(moved) == base.count("m3")
    frac = len(moved) / len(base)
    figure("%s: removing 1 of 4 members (status=+D) moved %.4f of %d "
           "addresses, all of them its own (bound 1/4 + 2%% = 0.27)"
           % (MPM, frac, len(base)))
    assert frac <= 0.25 + 0.02


def test_adding_a_member_moves_only_to_it(env, base):
    after = mapping(env, "five", len(base))
    moved = [i for i, (a, b) in enumerate(zip(base, after)) if a != b]
    assert all(after[i] == "m5" for i in moved)
    frac = len(moved) / len(base)
    figure("%s: adding a 5th member moved %.4f of %d addresses, all to it "
           "(bound 1/5 + 2%% = 0.22)" % (MPM, frac, len(base)))
    assert frac <= 0.20 + 0.02


def moved_between(before, after):
    return [i for i, (a, b) in enumerate(zip(before, after)) if a != b]


def test_balancer_manager_changes_apply_at_once(env):
    # balancer-manager changes a member in shared memory: every child sees
    # it.  Disabling m2 moves only its addresses; enabling it again brings
    # back exactly the first mapping; a higher loadfactor for m4 moves
    # addresses only to m4.
    manager = BalancerManager(env)
    url = env_members(env)
    n = 2000
    first = mapping(env, "runtime", n)
    try:
        manager.edit("runtime", url[1], w_status_D="1")
        off = mapping(env, "runtime", n)
        moved = moved_between(first, off)
        assert "m2" not in off and moved
        assert all(first[i] == "m2" for i in moved)
        assert len(moved) == first.count("m2")
        manager.edit("runtime", url[1], w_status_D="0")
        assert mapping(env, "runtime", n) == first
        manager.edit("runtime", url[3], w_lf="4")
        heavy = mapping(env, "runtime", n)
        moved = moved_between(first, heavy)
        assert moved and all(heavy[i] == "m4" for i in moved)
        assert heavy.count("m4") / n > 0.5
    finally:
        manager.edit("runtime", url[1], w_status_D="0")
        manager.edit("runtime", url[3], w_lf="1")


def test_edited_route_is_hashed_anew(env):
    # The module keeps each member's route hash while the route stays; a
    # route edited by balancer-manager maps at once as a balancer
    # configured with the new route does, and editing it back brings back
    # the first mapping.
    manager = BalancerManager(env)
    m2 = env_members(env)[1]
    n = 2000
    first = mapping(env, "reroute", n)
    try:
        for name, route in REROUTES.items():
            manager.edit("reroute", m2, w_wr=route)
            assert manager.member("reroute", m2)["route"] == route
            got = mapping(env, "reroute", n)
            assert got != first, route
            assert got == mapping(env, name, n), route
        manager.edit("reroute", m2, w_wr=ROUTES[1])
        assert mapping(env, "reroute", n) == first
    finally:
        manager.edit("reroute", m2, w_wr=ROUTES[1])


@pytest.mark.parametrize("balancer_name", ["four", "weighted", "weighted2"])
def test_load_follows_loadfactor(env, base, balancer_name):
    spec = BALANCERS_A[balancer_name]
    weights = [int(re.search(r"loadfactor=(\d+)", p).group(1))
               if "loadfactor" in p else 1 for _, p in spec]
    # 10,000 addresses in every MPM run: the bound is issue 14's for a
    # sample that large; over 1,000 the standard deviation of a 1/8 share
    # is 8% of it, and the bound would be left to chance
    picks = base if balancer_name == "four" and len(base) == N_LARGE else \
        mapping(env, balancer_name, N_LARGE)
    got = shares(picks, ["m%d" % (i + 1) for i, _ in spec])
    want = {"m%d" % (i + 1): w / sum(weights)
            for (i, _), w in zip(spec, weights)}
    figure("%s: loadfactors %s over %d addresses: shares %s (want %s)"
           % (MPM, ",".join(map(str, weights)), len(picks),
              " ".join("%.4f" % got[m] for m in sorted(got)),
              " ".join("%.4f" % want[m] for m in sorted(want))))
    for m in want:
        assert want[m] * 0.9 <= got[m] <= want[m] * 1.1, (m, got, want)


def test_other_instance_other_order_same_mapping(env_b, base):
    other = mapping(env_b, "four", len(base))
    same = sum(a == b for a, b in zip(base, other))
    figure("%s: another instance, members in reverse order at other URLs: "
           "%d of %d addresses on the same member" % (MPM, same, len(base)))
    assert other == base


@pytest.mark.skipif(not LARGE, reason="the MPM comparison runs once, in the "
                    "%s run" % LARGE_MPM)
def test_same_mapping_under_every_mpm(base):
    for mpm in ("event", "worker", "prefork"):
        e = start("fallback-%s" % mpm, config_b, mpm=mpm)
        try:
            got = mapping(e, "four", N_SMALL)
        finally:
            e.cleanup()
        same = sum(a == b for a, b in zip(base, got))
        figure("%s instance: %d of %d addresses on the same member as the "
               "%s run" % (mpm, same, N_SMALL, MPM))
        assert got == base[:N_SMALL], mpm


# ---- configuration (README 3) ---------------------------------------------

REFUSED = [
    ("unknown value", proxy("GWELBRouteCookie R\n    GWELBFallback source"),
     ["GWELBFallback", "source", "client-ip"]),
    ("no value", proxy("GWELBRouteCookie R\n    GWELBFallback"),
     ["GWELBFallback"]),
    ("two values", proxy("GWELBRouteCookie R\n    GWELBFallback none x"),
     ["GWELBFallback"]),
    ("given twice with different values",
     proxy("GWELBRouteCookie R\n    GWELBFallback none\n"
           "    GWELBFallback client-ip"),
     ["GWELBFallback", "twice"]),
    ("without a route source", proxy("GWELBFallback client-ip"),
     ["GWELB00001", "GWELBFallback", "GWELBStickyParam"]),
    ("in the main server", "GWELBFallback client-ip\n" + proxy(
        "GWELBRouteCookie R"), ["GWELBFallback", "balancer"]),
    ("in a Location", '<Location "/x">\n    GWELBFallback client-ip\n'
     '</Location>\n', ["GWELBFallback", "balancer"]),
]

ACCEPTED = [
    ("with the route cookie",
     proxy("GWELBRouteCookie R\n    GWELBFallback client-ip")),
    ("with a URL parameter only",
     proxy("GWELBStickyParam alias\n    GWELBFallback client-ip")),
    ("none, explicitly", proxy("GWELBStickyParam alias\n    GWELBFallback none")),
    ("value in any case",
     proxy("GWELBRouteCookie R\n    GWELBFallback Client-IP")),
    ("repeated with the same value",
     proxy("GWELBRouteCookie R\n    GWELBFallback client-ip\n"
           "    GWELBFallback client-ip")),
]


@pytest.fixture(scope="module")
def conf_env():
    with HttpdEnv("fallback-conf") as e:
        yield e


@pytest.mark.parametrize("case,body,patterns", REFUSED,
                         ids=[c[0] for c in REFUSED])
def test_refused(conf_env, case, body, patterns):
    ok, output = conf_env.configtest(body)
    assert not ok, output
    for p in patterns:
        assert re.search(p, output), (p, output)
    started = conf_env.start(body, expect_fail=True)
    assert not started.ok


@pytest.mark.parametrize("case,body", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(conf_env, case, body):
    ok, output = conf_env.configtest(body)
    assert ok, output
