# SPDX-License-Identifier: Apache-2.0
"""README 4.2 and 4.3: the route from the route cookie (backend stickiness).

As in test_param_routing, routed members sit in lbset 1 and a default
member in lbset 0, so one response tells routed from balanced.
"""
import pytest

from gwetest import HttpdEnv
from gwetest.checks import assert_all, unset


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("cookie") as e:
        m = {n: e.member(n).url for n in (
            "be_default", "be1", "be2", "both_default", "both1", "both2")}
        e.start("""
<Proxy "balancer://be">
    BalancerMember "{be_default}" route=BE_DEFAULT
    BalancerMember "{be1}" route=BE_1 lbset=1
    BalancerMember "{be2}" route=BE_2 lbset=1
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/be/" "balancer://be/"

<Proxy "balancer://both">
    BalancerMember "{both_default}" route=BOTH_DEFAULT
    BalancerMember "{both1}" route=BOTH_1 lbset=1
    BalancerMember "{both2}" route=BOTH_2 lbset=1
    GWELBStickyParam alias
    GWELBRouteCookie GWELB
</Proxy>
ProxyPass "/both/" "balancer://both/"
""".format(**m))
        yield e


ROUTED = [
    # (rule, Cookie header lines, member, route)
    ("legacy stock cookie .route", ["ROUTEID=.BE_2"], "be2", "BE_2"),
    ("own text before the route", ["ROUTEID=abc.def.BE_1"], "be1", "BE_1"),
    ("double-quoted value", ['ROUTEID=".BE_2"'], "be2", "BE_2"),
    ("no spaces between pairs", ["a=1;ROUTEID=.BE_2;b=2"], "be2", "BE_2"),
    ("spaces and tabs between pairs", ["a=1;  \tROUTEID=.BE_1; b=2"], "be1",
     "BE_1"),
    ("cookie on a second Cookie line", ["a=1; b=2", "ROUTEID=.BE_2"], "be2",
     "BE_2"),
    ("cookie on the first Cookie line", ["ROUTEID=.BE_1", "a=1"], "be1",
     "BE_1"),
    ("comma and space start a new pair", ["a=1, ROUTEID=.BE_2"], "be2",
     "BE_2"),
    ("comma inside the value does not cut it", ["ROUTEID=abc,def.BE_2"],
     "be2", "BE_2"),
    ("= inside the value", ["ROUTEID=a=b.BE_2"], "be2", "BE_2"),
    ("first value naming a member wins", ["ROUTEID=.nope; ROUTEID=.BE_2"],
     "be2", "BE_2"),
    ("first valid value across lines", ["ROUTEID=.nope", "ROUTEID=.BE_1"],
     "be1", "BE_1"),
    ("first of two valid values", ["ROUTEID=.BE_1; ROUTEID=.BE_2"], "be1",
     "BE_1"),
    ("value is percent-decoded", ["ROUTEID=.BE%5F2"], "be2", "BE_2"),
    ("other cookies ending in a route are not read",
     ["_ga=GA1.2.3.4; JSESSIONID=abc.BE_1; ROUTEID=x.BE_2; z=.BE_1"], "be2",
     "BE_2"),
]

NOT_ROUTED = [
    # (rule, Cookie header lines)
    ("name with a prefix is not a match", ["XROUTEID=.BE_2"]),
    ("name with a suffix is not a match", ["ROUTEIDX=.BE_2"]),
    ("names are case-sensitive", ["routeid=.BE_2"]),
    ("unknown route", ["ROUTEID=.BE_9"]),
    ("value without separator", ["ROUTEID=BE_2"]),
    ("malformed escape is ignored", ["ROUTEID=%zz.BE_2"]),
    ("empty value", ["ROUTEID=; x=.BE_2"]),
    ("pair without =", ["ROUTEID; x=.BE_2"]),
    ("route in another cookie", ["JSESSIONID=.BE_2"]),
    ("comma then name= ends the value", ["ROUTEID=abc, x=.BE_2"]),
    ("lone separator", ["ROUTEID=."]),
]


@pytest.mark.parametrize("rule,cookies,member,route", ROUTED,
                         ids=[r[0] for r in ROUTED])
def test_cookie_routes(env, rule, cookies, member, route):
    assert_all(env.served("/be/x", n=3, cookies=cookies), member, rule)
    log = env.log_entry(env.get("/be/x", cookies=cookies))
    assert log["GWELB_ROUTE_SOURCE"] == "cookie"
    assert log["GWELB_REQUESTED_ROUTE"] == route
    assert log["GWELB_ROUTE"] == route


@pytest.mark.parametrize("rule,cookies", NOT_ROUTED,
                         ids=[r[0] for r in NOT_ROUTED])
def test_cookie_not_routed(env, rule, cookies):
    assert_all(env.served("/be/x", n=3, cookies=cookies), "be_default", rule)
    log = env.log_entry(env.get("/be/x", cookies=cookies))
    assert log["GWELB_ROUTE_SOURCE"] == "none"
    assert unset(log["GWELB_REQUESTED_ROUTE"])


def test_cookie_reaches_member_unchanged(env):
    r = env.get("/be/x", cookies=["a=1; ROUTEID=abc,def.BE_2"])
    assert r.member == "be2"
    assert r.json()["cookie"] == "a=1; ROUTEID=abc,def.BE_2"


def test_param_wins_over_cookie(env):
    target, cookies = "/both/p?alias=.BOTH_1", ["GWELB=.BOTH_2"]
    assert_all(env.served(target, n=3, cookies=cookies), "both1")
    assert env.log_entry(env.get(target, cookies=cookies))[
        "GWELB_ROUTE_SOURCE"] == "param"


def test_cookie_used_without_param(env):
    assert_all(env.served("/both/p", n=3, cookies=["GWELB=.BOTH_2"]), "both2")


def test_param_naming_no_member_falls_back_to_cookie(env):
    # sticky.h: a parameter value that names no member is no route; the
    # route cookie is read next.
    r = env.get("/both/p?alias=.nope", cookies=["GWELB=.BOTH_2"])
    assert r.member == "both2"
    assert env.log_entry(r)["GWELB_ROUTE_SOURCE"] == "cookie"


def test_cookie_of_another_balancer_is_ignored(env):
    # ROUTEID is the cookie of balancer "be", not of "both".
    assert_all(env.served("/both/p", n=3, cookies=["ROUTEID=.BOTH_2"]),
               "both_default")
