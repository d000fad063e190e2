# SPDX-License-Identifier: Apache-2.0
"""GWELB balancers across virtual hosts: a vhost using a balancer defined
in the main server, a vhost's own GWELB balancer, and inherited ProxyPass."""
import pytest

from gwetest import HttpdEnv, free_port
from gwetest.checks import assert_all, no_route_cookie, one_route_cookie


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("vhost") as e:
        e.vport = free_port()
        m = {n: e.member(n).url for n in (
            "sh_default", "sh1", "vo_default", "vo1")}
        m["vport"] = e.vport
        e.start("""
<Proxy "balancer://shared">
    BalancerMember "{sh_default}" route=SH_DEFAULT
    BalancerMember "{sh1}" route=SH_1 lbset=1
    GWELBStickyParam alias
    GWELBRouteCookie GWELB path=/
</Proxy>
ProxyPass "/main/" "balancer://shared/"

<VirtualHost 127.0.0.1:{vport}>
    ServerName vhost.test
    ProxyPass "/v/" "balancer://shared/"
    <Proxy "balancer://vonly">
        BalancerMember "{vo_default}" route=VO_DEFAULT
        BalancerMember "{vo1}" route=VO_1 lbset=1
        GWELBRouteCookie VROUTE samesite=Lax
    </Proxy>
    ProxyPass "/vo/" "balancer://vonly/"
</VirtualHost>
""".format(**m), listen=["127.0.0.1:%d" % e.vport])
        yield e


@pytest.mark.parametrize("where", ["main server", "vhost"])
def test_main_server_balancer(env, where):
    port, prefix = (None, "/main") if where == "main server" else \
        (env.vport, "/v")
    assert_all(env.served(prefix + "/x?alias=.SH_1", n=3, port=port), "sh1")
    r = env.get(prefix + "/x?alias=.SH_1", port=port)
    one_route_cookie(r, "GWELB", ".SH_1")
    assert_all(env.served(prefix + "/x", n=3, port=port,
                          cookies=["GWELB=.SH_1"]), "sh1")
    r = env.get(prefix + "/x", port=port)
    assert r.member == "sh_default"
    one_route_cookie(r, "GWELB", ".SH_DEFAULT")


def test_inherited_proxypass_in_vhost(env):
    r = env.get("/main/x?alias=.SH_1", port=env.vport)
    assert r.member == "sh1"
    one_route_cookie(r, "GWELB", ".SH_1")


def test_vhost_own_balancer(env):
    r = env.get("/vo/x", port=env.vport)
    assert r.member == "vo_default"
    attrs = one_route_cookie(r, "VROUTE", ".VO_DEFAULT")
    assert attrs == {"path": "/", "httponly": True, "samesite": "Lax"}
    r = env.get("/vo/x", port=env.vport, cookies=["VROUTE=.VO_1"])
    assert r.member == "vo1"
    no_route_cookie(r, "VROUTE")
