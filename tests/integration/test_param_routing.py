# SPDX-License-Identifier: Apache-2.0
"""README 4.1 and 4.3: the route from a URL parameter (frontend stickiness).

Every balancer here has a "default" member in lbset 0 and its routed
members in lbset 1: the lbmethod only ever picks the default member, so a
single request tells routed (a routed member answered) from not routed
(the default member answered).
"""
import pytest

from gwetest import HttpdEnv
from gwetest.checks import assert_all, unset


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("param") as e:
        m = {n: e.member(n).url for n in (
            "fe_default", "fe1", "fe2", "dots_default", "one", "f1", "g1",
            "tilde_default", "t1")}
        e.start("""
<Proxy "balancer://fe">
    BalancerMember "{fe_default}" route=FE_DEFAULT
    BalancerMember "{fe1}" route=GWE_Frontend_1 lbset=1
    BalancerMember "{fe2}" route=GWE_Frontend_2 lbset=1
    GWELBStickyParam alias gweSession
</Proxy>
ProxyPass "/fe/" "balancer://fe/"

<Proxy "balancer://dots">
    BalancerMember "{dots_default}" route=DOTS_DEFAULT
    # longest route first: a matcher that takes the last or the shortest
    # match fails the "longest suffix" cases
    BalancerMember "{g1}" route=GWE.Frontend.1 lbset=1
    BalancerMember "{f1}" route=Frontend.1 lbset=1
    BalancerMember "{one}" route=1 lbset=1
    GWELBStickyParam alias
</Proxy>
ProxyPass "/dots/" "balancer://dots/"

<Proxy "balancer://tilde">
    BalancerMember "{tilde_default}" route=T_DEFAULT
    BalancerMember "{t1}" route=T.1 lbset=1
    GWELBStickyParam alias
    GWELBRouteSeparator ~
</Proxy>
ProxyPass "/tilde/" "balancer://tilde/"
""".format(**m))
        yield e


ROUTED = [
    # (rule, request target, member, route)
    ("query parameter", "/fe/page?alias=abc.GWE_Frontend_2", "fe2",
     "GWE_Frontend_2"),
    ("query parameter after others",
     "/fe/page?x=1&y=2&alias=abc.GWE_Frontend_1", "fe1", "GWE_Frontend_1"),
    ("query parameter after ;", "/fe/page?x=1;alias=s.GWE_Frontend_2", "fe2",
     "GWE_Frontend_2"),
    ("second configured name", "/fe/page?gweSession=s.GWE_Frontend_2", "fe2",
     "GWE_Frontend_2"),
    ("path parameter in a middle segment",
     "/fe/a;alias=s.GWE_Frontend_2/b/c", "fe2", "GWE_Frontend_2"),
    ("path parameter in the last segment", "/fe/a/b;alias=s.GWE_Frontend_1",
     "fe1", "GWE_Frontend_1"),
    ("path parameter after another one", "/fe/a;x=1;alias=s.GWE_Frontend_2/b",
     "fe2", "GWE_Frontend_2"),
    ("value is only separator and route", "/fe/p?alias=.GWE_Frontend_2",
     "fe2", "GWE_Frontend_2"),
    ("%2E is decoded", "/fe/p?alias=abc%2EGWE_Frontend_2", "fe2",
     "GWE_Frontend_2"),
    ("%2e is decoded", "/fe/p?alias=abc%2eGWE_Frontend_1", "fe1",
     "GWE_Frontend_1"),
    ("escapes inside the route are decoded",
     "/fe/p?alias=x.GWE%5FFrontend%5F1", "fe1", "GWE_Frontend_1"),
    ("first occurrence wins", "/fe/p?alias=.GWE_Frontend_1&alias=.GWE_Frontend_2",
     "fe1", "GWE_Frontend_1"),
    ("first occurrence wins whichever name",
     "/fe/p?gweSession=.GWE_Frontend_2&alias=.GWE_Frontend_1", "fe2",
     "GWE_Frontend_2"),
    ("path parameter comes before the query",
     "/fe/a;alias=.GWE_Frontend_2/b?alias=.GWE_Frontend_1", "fe2",
     "GWE_Frontend_2"),
    ("value ends at &", "/fe/p?alias=s.GWE_Frontend_2&z=.GWE_Frontend_1",
     "fe2", "GWE_Frontend_2"),
    ("path value ends at /", "/fe/a;alias=s.GWE_Frontend_1/b.GWE_Frontend_2",
     "fe1", "GWE_Frontend_1"),
    ("longest suffix wins", "/dots/p?alias=x.y.GWE.Frontend.1", "g1",
     "GWE.Frontend.1"),
    ("shorter dotted route", "/dots/p?alias=x.Frontend.1", "f1", "Frontend.1"),
    ("value equal to a dotted route names its longest proper suffix",
     "/dots/p?alias=GWE.Frontend.1", "f1", "Frontend.1"),
    ("one-character route", "/dots/p?alias=abc.1", "one", "1"),
    ("session id with dots before the route", "/dots/p?alias=a.b.c.d.1",
     "one", "1"),
    ("separator ~", "/tilde/p?alias=abc~T.1", "t1", "T.1"),
]

NOT_ROUTED = [
    # (rule, request target, default member)
    ("name with a prefix is not a match", "/fe/p?xalias=.GWE_Frontend_2",
     "fe_default"),
    ("name with a suffix is not a match", "/fe/p?aliasx=.GWE_Frontend_2",
     "fe_default"),
    ("path parameter name with a prefix", "/fe/a;xalias=.GWE_Frontend_2/b",
     "fe_default"),
    ("name inside another parameter's value", "/fe/p?q=alias=.GWE_Frontend_2",
     "fe_default"),
    ("escaped & and = do not start a parameter",
     "/fe/p?q=x%26alias%3D.GWE_Frontend_2", "fe_default"),
    ("path segment is not a path parameter", "/fe/alias=.GWE_Frontend_2/p",
     "fe_default"),
    ("empty value does not take the next parameter",
     "/fe/p?alias=&x=a.GWE_Frontend_2", "fe_default"),
    ("empty path parameter value", "/fe/a;alias=/b.GWE_Frontend_2",
     "fe_default"),
    ("name without =", "/fe/p?alias&x=.GWE_Frontend_2", "fe_default"),
    ("unknown route is balanced", "/fe/p?alias=abc.GWE_Frontend_9",
     "fe_default"),
    ("routes are case-sensitive", "/fe/p?alias=abc.gwe_frontend_2",
     "fe_default"),
    ("route without separator", "/fe/p?alias=GWE_Frontend_2", "fe_default"),
    ("route with trailing text", "/fe/p?alias=.GWE_Frontend_2x", "fe_default"),
    ("a suffix of a route is not a route", "/fe/p?alias=.Frontend_2",
     "fe_default"),
    ("malformed escape %2. is ignored", "/fe/p?alias=a%2.GWE_Frontend_2",
     "fe_default"),
    ("malformed escape %zz is ignored", "/fe/p?alias=%zz.GWE_Frontend_2",
     "fe_default"),
    ("trailing % is ignored", "/fe/p?alias=.GWE_Frontend_2%", "fe_default"),
    ("first occurrence wins even when it names no member",
     "/fe/p?alias=.nope&alias=.GWE_Frontend_2", "fe_default"),
    ("only the configured separator counts", "/tilde/p?alias=abc.T.1",
     "tilde_default"),
    ("lone separator", "/dots/p?alias=.", "dots_default"),
]


@pytest.mark.parametrize("rule,target,member,route", ROUTED,
                         ids=[r[0] for r in ROUTED])
def test_param_routes(env, rule, target, member, route):
    assert_all(env.served(target, n=3), member, rule)
    log = env.log_entry(env.get(target))
    assert log["GWELB_ROUTE_SOURCE"] == "param"
    assert log["GWELB_REQUESTED_ROUTE"] == route
    assert log["GWELB_ROUTE"] == route


@pytest.mark.parametrize("rule,target,member", NOT_ROUTED,
                         ids=[r[0] for r in NOT_ROUTED])
def test_param_not_routed(env, rule, target, member):
    assert_all(env.served(target, n=3), member, rule)
    log = env.log_entry(env.get(target))
    assert log["GWELB_ROUTE_SOURCE"] == "none"
    assert unset(log["GWELB_REQUESTED_ROUTE"])


def test_param_reaches_member_unchanged(env):
    r = env.get("/fe/page?x=1&alias=abc%2EGWE_Frontend_2&y=2")
    assert r.status == 200 and r.member == "fe2"
    assert r.json()["path"] == "/page?x=1&alias=abc%2EGWE_Frontend_2&y=2"


def test_no_parameter_is_balanced(env):
    assert_all(env.served("/fe/plain", n=3), "fe_default")
    log = env.log_entry(env.get("/fe/plain"))
    assert log["GWELB_ROUTE_SOURCE"] == "none"
    assert log["GWELB_ROUTE"] == "FE_DEFAULT"
