# SPDX-License-Identifier: Apache-2.0
"""README 4.8 on the request path: the signed cookie's statuses, legacy
accept and refuse, opaque=on, issue=off, and indirect=on's Cookie lines as
the member receives them."""
import time

import pytest

from gwetest import HttpdEnv, signed

CONF = """
<Proxy "balancer://sig">
    BalancerMember "{a}" route=R_A
    BalancerMember "{b}" route=R_B
    GWELBRouteCookie SIG path=/sig/ maxidle=600{attrs}
    GWELBCookieKey "{key}"
</Proxy>
ProxyPass "/sig/" "balancer://sig/"

<Proxy "balancer://ind">
    BalancerMember "{a}" route=R_A
    BalancerMember "{b}" route=R_B
    GWELBRouteCookie IND path=/ind/ indirect=on
</Proxy>
ProxyPass "/ind/" "balancer://ind/"

<Proxy "balancer://off">
    BalancerMember "{a}" route=R_A
    BalancerMember "{b}" route=R_B
    GWELBRouteCookie GWEROUTEID path=/off/ issue=off
</Proxy>
ProxyPass "/off/" "balancer://off/"
"""


def conf(e, attrs=""):
    """CONF for e, its key file made once (a restart keeps the key)."""
    key = e.dir / "gwelb.key"
    if not key.exists():
        signed.write_key(key)
    return CONF.format(a=e.member("a").url, b=e.member("b").url,
                       key=key, attrs=attrs)


def start(e, attrs=""):
    e.start(conf(e, attrs))


def route_cookie(resp, name):
    got = [v.split(";")[0] for v in resp.set_cookies
           if v.startswith(name + "=")]
    assert len(got) <= 1, got
    return got[0] if got else None


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("hardened") as e:
        start(e)
        yield e


def status(e, resp):
    return e.log_entry(resp)["GWELB_COOKIE_STATUS"]


def test_signed_cookie_routes_and_is_valid(env):
    first = env.get("/sig/x")
    cookie = route_cookie(first, "SIG")
    assert cookie.startswith("SIG=g1") and status(env, first) == "absent"
    for _ in range(3):
        r = env.get("/sig/x", cookies=[cookie])
        assert r.member == first.member and status(env, r) == "valid"
        assert route_cookie(r, "SIG") is None  # no refresh within maxidle/4


@pytest.mark.parametrize("mangle", [
    lambda v: v[:-1] + ("A" if v[-1] != "A" else "B"),     # MAC
    lambda v: v[:-24],                                     # cut
    lambda v: v[:6] + "Zz" + v[8:],                        # unknown key id
])
def test_forged_cookie_is_balanced_and_replaced(env, mangle):
    cookie = route_cookie(env.get("/sig/x"), "SIG")
    r = env.get("/sig/x", cookies=[mangle(cookie)])
    assert status(env, r) == "forged"
    assert route_cookie(r, "SIG").startswith("SIG=g1")


def test_legacy_cookie_refused_by_default(env):
    r = env.get("/sig/x", cookies=["SIG=.R_B"])
    assert status(env, r) == "legacy"
    assert env.log_entry(r)["GWELB_ROUTE_SOURCE"] == "none"
    assert route_cookie(r, "SIG").startswith("SIG=g1")


def test_legacy_cookie_accepted_and_replaced():
    with HttpdEnv("hardened-legacy") as e:
        start(e, " legacy=accept")
        for _ in range(3):
            r = e.get("/sig/x", cookies=["SIG=sess.R_B"])
            assert r.member == "b" and status(e, r) == "legacy"
            new = route_cookie(r, "SIG")
            assert new.startswith("SIG=g1")
        r = e.get("/sig/x", cookies=[new])
        assert r.member == "b" and status(e, r) == "valid"


def test_issue_off_reads_the_members_cookie_and_sets_none(env):
    for route, member in (("R_A", "a"), ("R_B", "b")):
        r = env.get("/off/x", cookies=["GWEROUTEID=abc123.%s" % route])
        assert r.member == member and route_cookie(r, "GWEROUTEID") is None
    assert route_cookie(env.get("/off/x"), "GWEROUTEID") is None


@pytest.mark.parametrize("lines,want", [
    (["a=1; IND=.R_B; b=2"], ["a=1; b=2"]),
    (["IND=.R_B"], []),
    # httpd joins repeated lines with ", " before the module sees them
    (["x = 1 ;IND=.R_B", "IND=.R_B", "c=\"q w\""], ["x = 1 ;c=\"q w\""]),
    (["a=1; b=2"], ["a=1; b=2"]),
])
def test_indirect_member_never_sees_the_route_cookie(env, lines, want):
    r = env.get("/ind/x", cookies=lines)
    if any("IND=" in line for line in lines):
        assert r.member == "b"  # routed by the cookie before it went
    assert r.json()["cookies"] == want


def slot(cookie):
    """The route slot of a signed NAME=value (README 4.8 format)."""
    value = cookie.split("=", 1)[1]
    assert value.startswith("g1") and value[16] == "." and value[-23] == "."
    return value[17:-23]


def test_opaque_cookie_shows_no_route_and_routes_back():
    with HttpdEnv("hardened-opaque") as e:
        start(e, " opaque=on")
        visitors = {}
        for _ in range(4):  # byrequests: both members get new visitors
            r = e.get("/sig/x")
            cookie = route_cookie(r, "SIG")
            assert "R_A" not in cookie and "R_B" not in cookie, cookie
            assert len(slot(cookie)) == 16, cookie
            visitors[cookie] = r.member
        assert sorted(set(visitors.values())) == ["a", "b"]
        # a member's identifier is the same for every visitor, and differs
        # between members
        assert len({slot(c) for c in visitors}) == 2
        for cookie, member in visitors.items():
            r = e.get("/sig/x", cookies=[cookie])
            assert r.member == member and status(e, r) == "valid"
            assert route_cookie(r, "SIG") is None
        # a flipped identifier character no longer verifies
        cookie = next(iter(visitors))
        flipped = cookie[:-30] + ("A" if cookie[-30] != "A" else "B") + \
            cookie[-29:]
        r = e.get("/sig/x", cookies=[flipped])
        assert status(e, r) == "forged" and route_cookie(r, "SIG")

        # opaque=off with the same key: the opaque values keep routing
        # (nobody moves), new cookies show the route again
        e.restart(conf(e))
        for cookie, member in visitors.items():
            r = e.get("/sig/x", cookies=[cookie])
            assert r.member == member and status(e, r) == "valid"
        new = route_cookie(e.get("/sig/x"), "SIG")
        assert slot(new) in ("R_A", "R_B")


def test_opaque_without_a_key_is_refused():
    with HttpdEnv("hardened-opaque-nokey") as e:
        body = """
<Proxy "balancer://nokey">
    BalancerMember "{a}" route=R_A
    GWELBRouteCookie NK opaque=on
</Proxy>
ProxyPass "/nk/" "balancer://nokey/"
""".format(a=e.member("a").url)
        ok, out = e.configtest(body)
        assert not ok and "GWELB00021" in out and "opaque" in out, out
        started = e.start(body, expect_fail=True)
        assert not started.ok and "GWELB00021" in started.output


def test_one_connection_judges_every_value_it_sends(env):
    """A connection remembers the last value whose MAC verified (README
    4.8): that value routes again without its MAC checked, but any other
    value on the same connection is judged in full, and the remembered
    one's dates are judged again on every request."""
    key = (env.dir / "gwelb.key").read_bytes()
    now = int(time.time())
    good = "SIG=" + signed.build(key, "SIG", "balancer://sig", "R_B", now)
    forged = good[:-1] + ("A" if good[-1] != "A" else "B")
    conn = env.connection()
    try:
        seen = []
        for cookie in (good, forged, good, good[:-3], good):
            r = conn.request("/sig/x", cookies=[cookie])
            seen.append(status(env, r))
            if seen[-1] == "valid":
                assert r.member == "b"
        assert seen == ["valid", "forged", "valid", "forged", "valid"]
        # 597 s after its refresh: valid for maxidle=600 for 3 s more,
        # expired after 4 s (the connection's KeepAliveTimeout is 5 s)
        aging = "SIG=" + signed.build(key, "SIG", "balancer://sig", "R_B",
                                      int(time.time()) - 597)
        r = conn.request("/sig/x", cookies=[aging])
        assert status(env, r) == "valid" and r.member == "b"
        time.sleep(4)
        r = conn.request("/sig/x", cookies=[aging])
        assert status(env, r) == "expired"
        assert route_cookie(r, "SIG").startswith("SIG=g1")
    finally:
        conn.close()
