# SPDX-License-Identifier: Apache-2.0
"""README 3: a balancer without GWELB directives behaves exactly as stock
mod_proxy_balancer, next to GWELB balancers in the same server.

The stock quirks (README 1) are the proof: stock stickysession matches a
substring of the parameter name, takes the route after the first
separator, and lets an empty value take the next parameter's text.  The
GWELB balancer beside it, configured with the same names, does none of it.
"""
import pytest

from gwetest import HttpdEnv
from gwetest.checks import assert_all, no_route_cookie, unset


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("stock") as e:
        m = {n: e.member(n).url for n in (
            "st_default", "st1", "st2", "gw_default", "gw1", "gw2", "pl1",
            "pl2")}
        e.start("""
<Proxy "balancer://stock">
    BalancerMember "{st_default}" route=ST_DEFAULT
    BalancerMember "{st1}" route=ST_1 lbset=1
    BalancerMember "{st2}" route=ST_2 lbset=1
</Proxy>
ProxyPass "/stock/" "balancer://stock/" stickysession=ROUTEID

<Proxy "balancer://gw">
    BalancerMember "{gw_default}" route=GW_DEFAULT
    BalancerMember "{gw1}" route=GW_1 lbset=1
    BalancerMember "{gw2}" route=GW_2 lbset=1
    GWELBStickyParam ROUTEID
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/gw/" "balancer://gw/"

<Proxy "balancer://plain">
    BalancerMember "{pl1}" route=PL_1
    BalancerMember "{pl2}" route=PL_2
</Proxy>
ProxyPass "/plain/" "balancer://plain/"
""".format(**m))
        yield e


@pytest.mark.parametrize("query,stock_member,gwelb_member", [
    ("xROUTEID=.{}_2", "st2", "gw_default"),
    ("ROUTEID=a.b.{}_2", "st_default", "gw2"),
    ("ROUTEID=&x=a.{}_2", "st2", "gw_default"),
    ("ROUTEID=.{}_1", "st1", "gw1"),
], ids=["substring name", "route after first separator",
        "empty value takes next parameter", "plain parameter"])
def test_stock_quirks_only_on_stock_balancer(env, query, stock_member,
                                             gwelb_member):
    assert_all(env.served("/stock/p?" + query.format("ST"), n=3),
               stock_member, "stock")
    assert_all(env.served("/gw/p?" + query.format("GW"), n=3),
               gwelb_member, "GWELB")


def test_stock_cookie_routing_untouched(env):
    r = env.get("/stock/p", cookies=["ROUTEID=.ST_2"])
    assert r.member == "st2"
    no_route_cookie(r, "ROUTEID")
    log = env.log_entry(r)
    assert log["BALANCER_SESSION_ROUTE"] == "ST_2"
    assert unset(log["GWELB_ROUTE"]) and unset(log["GWELB_ROUTE_SOURCE"])


def test_stock_new_session_gets_no_cookie(env):
    r = env.get("/stock/p")
    assert r.member == "st_default"
    assert r.set_cookies == []
    log = env.log_entry(r)
    assert log["BALANCER_ROUTE_CHANGED"] == "1"
    assert unset(log["GWELB_ROUTE"])


def test_plain_balancer_untouched(env):
    names = []
    for _ in range(4):
        r = env.get("/plain/p?alias=.PL_1", cookies=["ROUTEID=.PL_1"])
        assert r.set_cookies == []
        assert unset(env.log_entry(r)["GWELB_ROUTE_SOURCE"])
        names.append(r.member)
    assert set(names) == {"pl1", "pl2"}, names
