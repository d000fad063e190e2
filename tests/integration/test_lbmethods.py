# SPDX-License-Identifier: Apache-2.0
"""README 4.4: with no requested route the balancer's own lbmethod picks the
member (byrequests, bytraffic, bybusyness); routes stick whatever the
lbmethod."""
import pytest

from gwetest import HttpdEnv
from gwetest.checks import assert_all, no_route_cookie, one_route_cookie

METHODS = ("byrequests", "bytraffic", "bybusyness")


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("lbmethods") as e:
        body = ""
        for method in METHODS:
            one, two = e.member(method + "_1"), e.member(method + "_2")
            body += """
<Proxy "balancer://{m}">
    BalancerMember "{one}" route={M}_1
    BalancerMember "{two}" route={M}_2
    ProxySet lbmethod={m}
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/{m}/
</Proxy>
ProxyPass "/{m}/" "balancer://{m}/"
""".format(m=method, M=method.upper(), one=one.url, two=two.url)
        e.start(body)
        yield e


@pytest.mark.parametrize("method", METHODS)
def test_lbmethod_balances_new_sessions(env, method):
    names = []
    for _ in range(6):
        r = env.get("/%s/x" % method)
        assert r.status == 200
        # the cookie names whichever member the lbmethod picked
        one_route_cookie(r, "ROUTEID", "." + r.member.upper())
        log = env.log_entry(r)
        assert log["GWELB_ROUTE_SOURCE"] == "none"
        assert log["BALANCER_NAME"] == "balancer://" + method
        names.append(r.member)
    assert set(names) == {method + "_1", method + "_2"}, names


@pytest.mark.parametrize("method", METHODS)
def test_lbmethod_keeps_routes(env, method):
    for n in ("1", "2"):
        route, member = "%s_%s" % (method.upper(), n), "%s_%s" % (method, n)
        assert_all(env.served("/%s/x?alias=s.%s" % (method, route), n=3),
                   member, "parameter")
        assert_all(env.served("/%s/x" % method, n=3,
                              cookies=["ROUTEID=." + route]), member, "cookie")
        no_route_cookie(env.get("/%s/x" % method,
                                cookies=["ROUTEID=." + route]), "ROUTEID")
