# SPDX-License-Identifier: Apache-2.0
"""README 4.6: environment variables (read through the access log) and the
one-line debug log of every decision."""
import re

import pytest

from gwetest import HttpdEnv
from gwetest.checks import unset


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("envvars") as e:
        m = {n: e.member(n).url for n in ("ev_default", "ev1", "ev_off")}
        e.start("""
<Proxy "balancer://ev">
    BalancerMember "{ev_default}" route=EV_DEFAULT
    BalancerMember "{ev1}" route=EV_1 lbset=1
    BalancerMember "{ev_off}" route=EV_OFF lbset=1 status=+D
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/ev/" "balancer://ev/"
""".format(**m))
        yield e


def test_route_from_param(env):
    r = env.get("/ev/x?alias=s.EV_1")
    assert r.member == "ev1"
    log = env.log_entry(r)
    assert log["GWELB_ROUTE"] == "EV_1"
    assert log["GWELB_ROUTE_SOURCE"] == "param"
    assert log["GWELB_REQUESTED_ROUTE"] == "EV_1"
    assert log["GWELB_ROUTE_CHANGED"] != "1"
    assert log["BALANCER_ROUTE_CHANGED"] != "1"
    assert log["BALANCER_WORKER_ROUTE"] == "EV_1"
    assert log["BALANCER_WORKER_NAME"] == env.members["ev1"].url
    assert log["BALANCER_NAME"] == "balancer://ev"


def test_route_from_cookie(env):
    r = env.get("/ev/x", cookies=["ROUTEID=.EV_1"])
    log = env.log_entry(r)
    assert (log["GWELB_ROUTE"], log["GWELB_ROUTE_SOURCE"],
            log["GWELB_REQUESTED_ROUTE"]) == ("EV_1", "cookie", "EV_1")
    assert log["GWELB_ROUTE_CHANGED"] != "1"
    assert log["BALANCER_ROUTE_CHANGED"] != "1"


@pytest.mark.parametrize("target,cookies", [
    ("/ev/x", []), ("/ev/x?alias=.EV_9", ["ROUTEID=.EV_9"])],
    ids=["no route", "unknown route"])
def test_no_route(env, target, cookies):
    r = env.get(target, cookies=cookies)
    assert r.member == "ev_default"
    log = env.log_entry(r)
    assert log["GWELB_ROUTE"] == "EV_DEFAULT"
    assert log["GWELB_ROUTE_SOURCE"] == "none"
    assert unset(log["GWELB_REQUESTED_ROUTE"])
    assert log["GWELB_ROUTE_CHANGED"] != "1"
    # the lbmethod picked the member, as a stock sticky balancer says
    assert log["BALANCER_ROUTE_CHANGED"] == "1"


def test_route_changed(env):
    r = env.get("/ev/x", cookies=["ROUTEID=.EV_OFF"])
    assert r.member == "ev_default"
    log = env.log_entry(r)
    assert log["GWELB_ROUTE"] == "EV_DEFAULT"
    assert log["GWELB_REQUESTED_ROUTE"] == "EV_OFF"
    assert log["GWELB_ROUTE_SOURCE"] == "cookie"
    assert log["GWELB_ROUTE_CHANGED"] == "1"
    assert log["BALANCER_ROUTE_CHANGED"] == "1"


def test_debug_log_line_per_decision(env):
    mark = env.log_mark()
    r = env.get("/ev/x?alias=.EV_1")
    assert r.member == "ev1"
    env.log_entry(r)  # the request is complete
    lines = [line for line in env.log_lines(since=mark)
             if "gwe_lb:debug" in line and re.search(r"GWELB\d+", line)]
    assert lines, "no GWELB debug line"
    assert any("EV_1" in line for line in lines), lines
