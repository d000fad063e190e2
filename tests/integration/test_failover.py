# SPDX-License-Identifier: Apache-2.0
"""README 4.4: choosing the member when the requested one is unusable, drain
mode, hot standby, redirect=, GWELBStickyForce, and mod_proxy's retry loop.

Every balancer here has members of its own: tests stop members, and
mod_proxy keeps a failed member in error for its retry= time.
"""
import time

import pytest

from gwetest import BACKEND_DOWN, BalancerManager, HttpdEnv, free_port
from gwetest.checks import assert_all, no_route_cookie, one_route_cookie

NAMES = ("fo_a", "fo_b", "f_a", "f_b", "r_a", "r_b", "r_c", "rf_a", "rf_b",
         "rf_c", "s_a", "s_s", "d_a", "d_b", "k_a", "k_b", "fs_a", "fs_b",
         "h_a", "h_b", "ft_a", "ft_b")


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("failover", extra_modules=("proxy_hcheck",)) as e:
        m = {n: e.member(n).url for n in NAMES}
        m["f_c"] = "http://127.0.0.1:%d" % free_port()
        e.start("""
# fo_a is routed only (lbset 1); the lbmethod picks fo_b.
<Proxy "balancer://fo">
    BalancerMember "{fo_a}" route=FO_A lbset=1
    BalancerMember "{fo_b}" route=FO_B
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/fo/
</Proxy>
ProxyPass "/fo/" "balancer://fo/"

<Proxy "balancer://force">
    BalancerMember "{f_a}" route=F_A lbset=1
    BalancerMember "{f_b}" route=F_B
    BalancerMember "{f_c}" route=F_C lbset=1 status=+D
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/force/
    GWELBStickyForce On
</Proxy>
ProxyPass "/force/" "balancer://force/"

# r_a is disabled and redirects to r_b; the lbmethod would pick r_c.
<Proxy "balancer://redir">
    BalancerMember "{r_a}" route=R_A redirect=R_B lbset=1 status=+D
    BalancerMember "{r_b}" route=R_B lbset=1
    BalancerMember "{r_c}" route=R_C
    GWELBRouteCookie ROUTEID path=/redir/
</Proxy>
ProxyPass "/redir/" "balancer://redir/"

<Proxy "balancer://redirforce">
    BalancerMember "{rf_a}" route=RF_A redirect=RF_B lbset=1 status=+D
    BalancerMember "{rf_b}" route=RF_B lbset=1
    BalancerMember "{rf_c}" route=RF_C
    GWELBRouteCookie ROUTEID path=/redirforce/
    GWELBStickyForce On
</Proxy>
ProxyPass "/redirforce/" "balancer://redirforce/"

<Proxy "balancer://standby">
    BalancerMember "{s_a}" route=S_A
    BalancerMember "{s_s}" route=S_S status=+H
    GWELBRouteCookie ROUTEID path=/standby/
</Proxy>
ProxyPass "/standby/" "balancer://standby/"

<Proxy "balancer://drain">
    BalancerMember "{d_a}" route=D_A status=+N
    BalancerMember "{d_b}" route=D_B
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/drain/
</Proxy>
ProxyPass "/drain/" "balancer://drain/"

<Proxy "balancer://retry">
    BalancerMember "{k_a}" route=K_A
    BalancerMember "{k_b}" route=K_B
    GWELBRouteCookie ROUTEID path=/retry/
</Proxy>
ProxyPass "/retry/" "balancer://retry/"

<Proxy "balancer://fs">
    BalancerMember "{fs_a}" route=FS_A lbset=1
    BalancerMember "{fs_b}" route=FS_B
    ProxySet failonstatus=500
    GWELBRouteCookie ROUTEID path=/fs/
</Proxy>
ProxyPass "/fs/" "balancer://fs/"

<Proxy "balancer://hc">
    BalancerMember "{h_a}" route=H_A lbset=1 hcmethod=GET hcuri=/health hcinterval=100ms hcfails=1 hcpasses=1
    BalancerMember "{h_b}" route=H_B
    GWELBRouteCookie ROUTEID path=/hc/
</Proxy>
ProxyPass "/hc/" "balancer://hc/"

<Proxy "balancer://ft">
    BalancerMember "{ft_a}" route=FT_A lbset=1 timeout=1
    BalancerMember "{ft_b}" route=FT_B timeout=1
    ProxySet failontimeout=On
    GWELBRouteCookie ROUTEID path=/ft/
</Proxy>
ProxyPass "/ft/" "balancer://ft/"

<Location "/balancer-manager">
    SetHandler balancer-manager
</Location>
ProxyPass "/balancer-manager" "!"
""".format(**m))
        yield e


def test_failover_when_member_is_killed(env):
    env.expect_log(*BACKEND_DOWN)
    r = env.get("/fo/x", cookies=["ROUTEID=.FO_A"])
    assert r.member == "fo_a"
    no_route_cookie(r, "ROUTEID")

    env.members["fo_a"].stop()
    try:
        r = env.get("/fo/x", cookies=["ROUTEID=.FO_A"])
        assert r.status == 200 and r.member == "fo_b"
        one_route_cookie(r, "ROUTEID", ".FO_B")
        log = env.log_entry(r)
        assert log["GWELB_ROUTE_CHANGED"] == "1"
        assert log["GWELB_REQUESTED_ROUTE"] == "FO_A"
        assert log["GWELB_ROUTE"] == "FO_B"
        assert log["BALANCER_ROUTE_CHANGED"] == "1"

        # the new cookie sticks; the old one keeps failing over
        r = env.get("/fo/x", cookies=["ROUTEID=.FO_B"])
        assert r.member == "fo_b"
        no_route_cookie(r, "ROUTEID")
        r = env.get("/fo/x", cookies=["ROUTEID=.FO_A"])
        assert r.member == "fo_b"
        one_route_cookie(r, "ROUTEID", ".FO_B")
        # a parameter naming the dead member fails over too
        r = env.get("/fo/x?alias=.FO_A")
        assert r.status == 200 and r.member == "fo_b"
        one_route_cookie(r, "ROUTEID", ".FO_B")
    finally:
        env.members["fo_a"].start()


def test_sticky_force_refuses_disabled_member(env):
    for kw in ({"cookies": ["ROUTEID=.F_C"]}, {"target": "/force/x?alias=.F_C"}):
        r = env.get(kw.pop("target", "/force/x"), **kw)
        assert r.status == 503 and r.member is None
        no_route_cookie(r, "ROUTEID")
    env.expect_log(*BACKEND_DOWN)


def test_sticky_force_refuses_killed_member(env):
    env.expect_log(*BACKEND_DOWN)
    r = env.get("/force/x", cookies=["ROUTEID=.F_A"])
    assert r.member == "f_a"
    env.members["f_a"].stop()
    try:
        for _ in range(2):
            r = env.get("/force/x", cookies=["ROUTEID=.F_A"])
            assert r.status == 503 and r.member is None
            no_route_cookie(r, "ROUTEID")
        # requests without a route, or with a usable one, are served
        r = env.get("/force/x")
        assert r.status == 200 and r.member == "f_b"
        one_route_cookie(r, "ROUTEID", ".F_B")
        assert env.get("/force/x", cookies=["ROUTEID=.F_B"]).member == "f_b"
    finally:
        env.members["f_a"].start()


def test_redirect_member_is_used(env):
    assert_all(env.served("/redir/x", n=3, cookies=["ROUTEID=.R_A"]), "r_b")
    r = env.get("/redir/x", cookies=["ROUTEID=.R_A"])
    one_route_cookie(r, "ROUTEID", ".R_B")
    assert env.log_entry(r)["GWELB_ROUTE_CHANGED"] == "1"


def test_redirect_member_is_used_with_sticky_force(env):
    assert_all(env.served("/redirforce/x", n=3, cookies=["ROUTEID=.RF_A"]),
               "rf_b")


def test_hot_standby_only_when_others_are_down(env):
    env.expect_log(*BACKEND_DOWN)
    assert_all(env.served("/standby/x", n=4), "s_a")
    env.members["s_a"].stop()
    try:
        r = env.get("/standby/x")
        assert r.status == 200 and r.member == "s_s"
        one_route_cookie(r, "ROUTEID", ".S_S")
        r = env.get("/standby/x", cookies=["ROUTEID=.S_A"])
        assert r.member == "s_s"
        one_route_cookie(r, "ROUTEID", ".S_S")
    finally:
        env.members["s_a"].start()


def test_drained_member_keeps_sessions_but_gets_no_new_ones(env):
    names = env.served("/drain/x", n=4)
    assert_all(names, "d_b", "new sessions")
    assert_all(env.served("/drain/x", n=3, cookies=["ROUTEID=.D_A"]), "d_a",
               "cookie sessions")
    assert_all(env.served("/drain/x?alias=x.D_A", n=3), "d_a",
               "parameter sessions")
    no_route_cookie(env.get("/drain/x", cookies=["ROUTEID=.D_A"]), "ROUTEID")


def test_retry_loop_moves_to_next_member_with_one_cookie(env):
    env.expect_log(*BACKEND_DOWN)
    env.members["k_a"].stop()
    try:
        for _ in range(4):
            r = env.get("/retry/x")
            assert r.status == 200 and r.member == "k_b"
            one_route_cookie(r, "ROUTEID", ".K_B")
    finally:
        env.members["k_a"].start()


def test_failonstatus_puts_member_in_error(env):
    env.expect_log(r"AH01174")  # forcing worker into error state
    r = env.get("/fs/x", cookies=["ROUTEID=.FS_A"])
    assert r.member == "fs_a"
    env.get("/fs/status/500", cookies=["ROUTEID=.FS_A"])
    r = env.get("/fs/x", cookies=["ROUTEID=.FS_A"])
    assert r.status == 200 and r.member == "fs_b"
    one_route_cookie(r, "ROUTEID", ".FS_B")
    assert env.log_entry(r)["GWELB_ROUTE_CHANGED"] == "1"


def test_failontimeout_puts_member_in_error(env):
    # member ft_a answers /sleep/3 after 3 s; its timeout= is 1 s
    env.expect_log(r"AH01102|AH00898|AH02460")  # timeout, error state
    r = env.get("/ft/sleep/3", cookies=["ROUTEID=.FT_A"])
    assert r.status in (502, 504) and r.member is None
    r = env.get("/ft/x", cookies=["ROUTEID=.FT_A"])
    assert r.status == 200 and r.member == "ft_b"
    one_route_cookie(r, "ROUTEID", ".FT_B")


def wait_for(predicate, what, timeout=15.0):
    """Polls until the health checker has acted (not a timing assertion:
    the bound only stops a hung run)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.05)


def test_health_check_failure_fails_over(env):
    env.expect_log(*BACKEND_DOWN)
    manager = BalancerManager(env)
    a = env.members["h_a"]

    def failed():
        return "HcFl" in manager.member("hc", a.url)["status"]
    assert env.get("/hc/x", cookies=["ROUTEID=.H_A"]).member == "h_a"
    a.stop()
    try:
        wait_for(failed, "the health check to fail")
        r = env.get("/hc/x", cookies=["ROUTEID=.H_A"])
        assert r.status == 200 and r.member == "h_b"
        one_route_cookie(r, "ROUTEID", ".H_B")
    finally:
        a.start()
    wait_for(lambda: not failed(), "the health check to pass")
    r = env.get("/hc/x", cookies=["ROUTEID=.H_A"])
    assert r.member == "h_a"
    no_route_cookie(r, "ROUTEID")
