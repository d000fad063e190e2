# SPDX-License-Identifier: Apache-2.0
"""README 4 (last paragraph): WebSocket upgrades through a GWELB balancer are
routed by the same rules, with mod_proxy_http's upgrade=websocket and with
mod_proxy_wstunnel's ws:// members."""
import pytest

from gwetest import HttpdEnv, websocket_exchange
from gwetest.checks import no_route_cookie, one_route_cookie


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("websocket") as e:
        m = {n: e.member(n).port for n in (
            "ws_default", "ws1", "ws2", "wt_default", "wt1")}
        e.start("""
<Proxy "balancer://ws">
    BalancerMember "http://127.0.0.1:{ws_default}" route=WS_DEFAULT upgrade=websocket
    BalancerMember "http://127.0.0.1:{ws1}" route=WS_1 lbset=1 upgrade=websocket
    BalancerMember "http://127.0.0.1:{ws2}" route=WS_2 lbset=1 upgrade=websocket
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/ws/
</Proxy>
ProxyPass "/ws/" "balancer://ws/"

<Proxy "balancer://wt">
    BalancerMember "ws://127.0.0.1:{wt_default}" route=WT_DEFAULT
    BalancerMember "ws://127.0.0.1:{wt1}" route=WT_1 lbset=1
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/wt/
</Proxy>
ProxyPass "/wt/" "balancer://wt/"
""".format(**m))
        yield e


def ws(env, target, cookies=()):
    resp, echo = websocket_exchange(
        env.port, target, "hello",
        headers=[("Cookie", c) for c in cookies])
    assert resp.status == 101, resp
    return resp, echo


@pytest.mark.parametrize("target,cookies,member", [
    ("/ws/cometd?alias=abc.WS_2", [], "ws2"),
    ("/ws/cometd;alias=abc.WS_1", [], "ws1"),
    ("/ws/cometd", ["ROUTEID=.WS_1"], "ws1"),
    ("/ws/cometd", ["ROUTEID=.WS_2"], "ws2"),
    ("/ws/cometd", [], "ws_default"),
    ("/wt/cometd?alias=.WT_1", [], "wt1"),
    ("/wt/cometd", ["ROUTEID=.WT_1"], "wt1"),
    ("/wt/cometd", [], "wt_default"),
], ids=["http param", "http path param", "http cookie 1", "http cookie 2",
        "http no route", "wstunnel param", "wstunnel cookie",
        "wstunnel no route"])
def test_upgrade_is_routed(env, target, cookies, member):
    for _ in range(2):
        _, echo = ws(env, target, cookies)
        assert echo == "%s: hello" % member


def test_upgrade_response_carries_route_cookie(env):
    resp, echo = ws(env, "/ws/cometd")
    assert echo == "ws_default: hello"
    one_route_cookie(resp, "ROUTEID", ".WS_DEFAULT")
    resp, echo = ws(env, "/ws/cometd", ["ROUTEID=.WS_DEFAULT"])
    no_route_cookie(resp, "ROUTEID")


def test_plain_requests_on_websocket_balancer(env):
    r = env.get("/ws/cometd/handshake?alias=.WS_2")
    assert r.status == 200 and r.member == "ws2"


@pytest.fixture(scope="module")
def tunnel_env():
    """ws:// members under mod_proxy_wstunnel's own tunnel: with
    ProxyWebsocketFallbackToProxyHttp Off it copies the member's 101 byte
    for byte, so the cookie has to go into those bytes."""
    with HttpdEnv("wstunnel") as e:
        m = {n: e.member(n).port for n in ("tn_default", "tn1")}
        e.start("""
ProxyWebsocketFallbackToProxyHttp Off
<Proxy "balancer://tn">
    BalancerMember "ws://127.0.0.1:{tn_default}" route=TN_DEFAULT
    BalancerMember "ws://127.0.0.1:{tn1}" route=TN_1 lbset=1
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/tn/
</Proxy>
ProxyPass "/tn/" "balancer://tn/"
""".format(**m))
        yield e


@pytest.mark.parametrize("env_name", ["env", "tunnel_env"])
def test_wstunnel_101_carries_route_cookie_once(request, env_name):
    """README 7.7: the route cookie is on the 101 of ws:// members, whether
    mod_proxy_http (the default fallback) or mod_proxy_wstunnel's own
    tunnel sends it, exactly once, and the tunnel still echoes."""
    e = request.getfixturevalue(env_name)
    prefix = "/wt/" if env_name == "env" else "/tn/"
    default, one = (("WT_DEFAULT", "wt_default"), ("WT_1", "wt1")) \
        if env_name == "env" else (("TN_DEFAULT", "tn_default"),
                                   ("TN_1", "tn1"))
    resp, echo = ws(e, prefix + "cometd")
    assert echo == "%s: hello" % default[1]
    one_route_cookie(resp, "ROUTEID", "." + default[0])
    resp, echo = ws(e, prefix + "cometd?alias=x." + one[0])
    assert echo == "%s: hello" % one[1]
    one_route_cookie(resp, "ROUTEID", "." + one[0])
    resp, echo = ws(e, prefix + "cometd", ["ROUTEID=." + one[0]])
    assert echo == "%s: hello" % one[1]
    no_route_cookie(resp, "ROUTEID")
