# SPDX-License-Identifier: Apache-2.0
"""README 4.4: balancer-manager's runtime changes keep working for GWELB
balancers, driven like a browser (nonce from the page, form POST)."""
import pytest

from gwetest import BalancerManager, HttpdEnv
from gwetest.checks import assert_all, no_route_cookie, one_route_cookie


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("manager") as e:
        m = {n: e.member(n).url for n in (
            "bm1_a", "bm1_b", "bm2_a", "bm2_d", "bm3_a", "bm3_b", "bm4_a",
            "bm4_d", "bm5_a", "bm5_d")}
        e.start("""
<Location "/balancer-manager">
    SetHandler balancer-manager
</Location>
ProxyPass "/balancer-manager" "!"

<Proxy "balancer://bm1">
    BalancerMember "{bm1_a}" route=BM1_A
    BalancerMember "{bm1_b}" route=BM1_B
    GWELBRouteCookie ROUTEID path=/bm1/
</Proxy>
ProxyPass "/bm1/" "balancer://bm1/"

<Proxy "balancer://bm2">
    BalancerMember "{bm2_a}" route=BM2_A lbset=1
    BalancerMember "{bm2_d}" route=BM2_D
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/bm2/
</Proxy>
ProxyPass "/bm2/" "balancer://bm2/"

<Proxy "balancer://bm3">
    BalancerMember "{bm3_a}" route=BM3_A
    BalancerMember "{bm3_b}" route=BM3_B
    GWELBRouteCookie ROUTEID path=/bm3/
</Proxy>
ProxyPass "/bm3/" "balancer://bm3/"

<Proxy "balancer://bm4">
    BalancerMember "{bm4_a}" route=BM4_A lbset=1
    BalancerMember "{bm4_d}" route=BM4_D
    GWELBRouteCookie ROUTEID path=/bm4/
</Proxy>
ProxyPass "/bm4/" "balancer://bm4/"

<Proxy "balancer://bm5">
    BalancerMember "{bm5_a}" route=BM5_A lbset=1
    BalancerMember "{bm5_d}" route=BM5_D
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/bm5/
</Proxy>
ProxyPass "/bm5/" "balancer://bm5/"
""".format(**m))
        yield e


@pytest.fixture
def manager(env):
    return BalancerManager(env)


def test_disable_then_enable_member(env, manager):
    a = env.members["bm1_a"].url
    assert_all(env.served("/bm1/x", n=2, cookies=["ROUTEID=.BM1_A"]), "bm1_a")

    manager.edit("bm1", a, w_status_D="1")
    assert "Dis" in manager.member("bm1", a)["status"]
    r = env.get("/bm1/x", cookies=["ROUTEID=.BM1_A"])
    assert r.member == "bm1_b"
    one_route_cookie(r, "ROUTEID", ".BM1_B")
    assert env.log_entry(r)["GWELB_ROUTE_CHANGED"] == "1"
    assert_all(env.served("/bm1/x", n=4), "bm1_b", "new sessions")

    manager.edit("bm1", a, w_status_D="0")
    assert "Dis" not in manager.member("bm1", a)["status"]
    assert "bm1_a" in env.served("/bm1/x", n=4), "new sessions reach it again"
    r = env.get("/bm1/x", cookies=["ROUTEID=.BM1_A"])
    assert r.member == "bm1_a"
    no_route_cookie(r, "ROUTEID")


def test_edited_route_is_honoured_at_once(env, manager):
    a = env.members["bm2_a"].url
    assert env.get("/bm2/x", cookies=["ROUTEID=.BM2_A"]).member == "bm2_a"
    manager.edit("bm2", a, w_wr="BM2_NEW")
    assert manager.member("bm2", a)["route"] == "BM2_NEW"

    assert_all(env.served("/bm2/x", n=3, cookies=["ROUTEID=.BM2_NEW"]),
               "bm2_a", "new route by cookie")
    assert_all(env.served("/bm2/x?alias=.BM2_NEW", n=3), "bm2_a",
               "new route by parameter")
    r = env.get("/bm2/x?alias=.BM2_NEW")
    one_route_cookie(r, "ROUTEID", ".BM2_NEW")
    assert env.log_entry(r)["GWELB_ROUTE"] == "BM2_NEW"
    # the old route names no member any more
    r = env.get("/bm2/x", cookies=["ROUTEID=.BM2_A"])
    assert r.member == "bm2_d"
    one_route_cookie(r, "ROUTEID", ".BM2_D")


def test_lbmethod_changed_at_runtime_keeps_routes(env, manager):
    """balancer-manager swaps the lbmethod in the child that serves the
    POST; every other child picks the change up when mod_proxy_balancer
    syncs, which resets the lbmethod.  Routes must hold in all of them,
    from their first request after the change.  Keep-alive connections
    opened before the change keep their children (prefork: one child
    each), so the requests after it reach the children that must sync."""
    conns = [env.connection() for _ in range(3)]
    for c in conns:
        assert c.request("/bm5/x", cookies=["ROUTEID=.BM5_A"]).member == \
            "bm5_a"
    manager.edit_balancer("bm5", b_lbm="bytraffic")
    page = manager._get(manager.path, manager.path).body.decode("latin-1")
    assert "bytraffic" in page
    for c in conns:
        assert c.request("/bm5/x", cookies=["ROUTEID=.BM5_A"]).member == \
            "bm5_a", "cookie route, first request after the change"
        assert c.request("/bm5/x?alias=.BM5_A").member == "bm5_a"
        assert c.request("/bm5/x").member == "bm5_d"
    for _ in range(3):  # fresh connections too
        assert_all(env.served("/bm5/x", n=4, cookies=["ROUTEID=.BM5_A"]),
                   "bm5_a", "cookie route after the lbmethod change")


def test_drain_from_manager(env, manager):
    a = env.members["bm3_a"].url
    manager.edit("bm3", a, w_status_N="1")
    assert "Drn" in manager.member("bm3", a)["status"]
    assert_all(env.served("/bm3/x", n=4), "bm3_b", "new sessions")
    r = env.get("/bm3/x", cookies=["ROUTEID=.BM3_A"])
    assert r.member == "bm3_a"
    no_route_cookie(r, "ROUTEID")
    manager.edit("bm3", a, w_status_N="0")
    assert "bm3_a" in env.served("/bm3/x", n=4)


def test_elected_and_busy_counters(env, manager):
    a, d = env.members["bm4_a"].url, env.members["bm4_d"].url
    before_a = int(manager.member("bm4", a)["elected"])
    before_d = int(manager.member("bm4", d)["elected"])
    assert_all(env.served("/bm4/x", n=3, cookies=["ROUTEID=.BM4_A"]), "bm4_a")
    assert_all(env.served("/bm4/x", n=2), "bm4_d")
    row_a, row_d = manager.member("bm4", a), manager.member("bm4", d)
    assert int(row_a["elected"]) == before_a + 3
    assert int(row_d["elected"]) == before_d + 2
    assert row_a["busy"] == "0" and row_d["busy"] == "0"
