"""README 7.3 (nofailover=On), 7.5 and 7.6: a requested member that is
unusable under GWELBStickyForce On or nofailover=On gets a 503 at once,
whatever the balancer's timeout=; and when no member served, the variables
name no member and no route cookie is sent."""
import time

import pytest

from gwetest import BACKEND_DOWN, HttpdEnv
from gwetest.checks import no_route_cookie, unset


@pytest.fixture(scope="module")
def env():
    """b: GWELBStickyForce On; n: nofailover=On; both with timeout=3, a
    disabled member (R2) and one that gets stopped (R3)."""
    with HttpdEnv("force-503") as e:
        m = {n: e.member(n).url for n in ("m1", "m2", "m3", "n1", "n2",
                                          "n3")}
        e.start("""
<Proxy "balancer://b">
    BalancerMember "{m1}" route=R1
    BalancerMember "{m2}" route=R2 status=+D
    BalancerMember "{m3}" route=R3 retry=60
    GWELBRouteCookie ROUTEID path=/b/
    GWELBStickyForce On
    ProxySet timeout=3
</Proxy>
ProxyPass "/b/" "balancer://b/"

<Proxy "balancer://n">
    BalancerMember "{n1}" route=R1
    BalancerMember "{n2}" route=R2 status=+D
    BalancerMember "{n3}" route=R3 retry=60
    GWELBRouteCookie ROUTEID path=/n/
    ProxySet nofailover=On timeout=3
</Proxy>
ProxyPass "/n/" "balancer://n/"
""".format(**m))
        e.member("m3").stop()
        e.member("n3").stop()
        yield e


def refused(env, target, route, other):
    """Two requests whose cookie names `route`: each a 503, no failover to
    `other`, no route cookie; returns the slowest's seconds."""
    hits = other.hits
    slowest = 0.0
    for _ in range(2):
        t0 = time.monotonic()
        r = env.get(target, cookies=["ROUTEID=." + route])
        slowest = max(slowest, time.monotonic() - t0)
        assert r.status == 503, r
        assert r.member is None
        no_route_cookie(r, "ROUTEID")
        log = env.log_entry(r)
        assert log["GWELB_REQUESTED_ROUTE"] == route, log
        assert unset(log["GWELB_ROUTE"]), log
    assert other.hits == hits, "failed over to %s" % other.name
    return slowest


@pytest.mark.expect_log(*BACKEND_DOWN)
@pytest.mark.parametrize("route", ["R2", "R3"],
                         ids=["disabled member", "stopped member"])
def test_nofailover_on_is_sticky_force_on(env, route):
    """README 7.3: nofailover=On on a GWELB balancer keeps its stock
    meaning, GWELBStickyForce On: a cookie naming an unusable member gets
    503, never another member."""
    refused(env, "/n/x", route, env.member("n1"))
    r = env.get("/n/x", cookies=["ROUTEID=.R1"])
    assert r.status == 200 and r.member == "n1"


@pytest.mark.expect_log(*BACKEND_DOWN)
@pytest.mark.parametrize("prefix", ["/b/", "/n/"],
                         ids=["GWELBStickyForce On", "nofailover=On"])
@pytest.mark.parametrize("route", ["R2", "R3"],
                         ids=["disabled member", "stopped member"])
def test_refusal_is_immediate_whatever_the_balancer_timeout(env, prefix,
                                                            route):
    """README 7.5: the balancer has timeout=3 (stock mod_proxy_balancer
    waits that long for a usable member); the refusal comes at once -
    well under half of it - and holds no worker thread waiting."""
    other = env.member("m1" if prefix == "/b/" else "n1")
    slowest = refused(env, prefix + "x", route, other)
    assert slowest < 1.5, "503 took %.2f s with timeout=3" % slowest


@pytest.mark.expect_log(*BACKEND_DOWN)
@pytest.mark.parametrize("how", ["cookie", "param", "none"])
def test_no_variable_names_a_member_that_did_not_answer(how):
    """README 7.6: every member is down, every attempt fails: 503, no
    route cookie, GWELB_ROUTE empty, no GWELB variable (nor
    BALANCER_ROUTE_CHANGED) names a member; GWELB_REQUESTED_ROUTE and
    GWELB_ROUTE_SOURCE still say what the request asked for."""
    with HttpdEnv("nobody-answered") as e:
        dead = [e.member(n) for n in ("d1", "d2")]
        e.start("""
<Proxy "balancer://d">
    BalancerMember "{}" route=D1
    BalancerMember "{}" route=D2
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/d/" "balancer://d/"
""".format(*(m.url for m in dead)))
        for m in dead:
            m.stop()
        target, cookies = {
            "cookie": ("/d/x", ["ROUTEID=.D2"]),
            "param": ("/d/x?alias=.D2", []),
            "none": ("/d/x", []),
        }[how]
        for _ in range(2):
            r = e.get(target, cookies=cookies)
            assert r.status == 503 and r.member is None, r
            no_route_cookie(r, "ROUTEID")
            log = e.log_entry(r)
            assert unset(log["GWELB_ROUTE"]), log
            assert unset(log["GWELB_ROUTE_CHANGED"]), log
            assert unset(log["BALANCER_ROUTE_CHANGED"]), log
            assert log["GWELB_ROUTE_SOURCE"] == how, log
            if how == "none":
                assert unset(log["GWELB_REQUESTED_ROUTE"]), log
            else:
                assert log["GWELB_REQUESTED_ROUTE"] == "D2", log
            print("no member answered (%s): BALANCER_WORKER_ROUTE=%s "
                  "BALANCER_WORKER_NAME=%s" % (
                      how, log["BALANCER_WORKER_ROUTE"],
                      log["BALANCER_WORKER_NAME"]))
