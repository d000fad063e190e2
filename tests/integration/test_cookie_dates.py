# SPDX-License-Identifier: Apache-2.0
"""README 4.8's dates and refresh, with values the test signs itself
(gwetest.signed, an oracle independent of the module's code) and dates it
puts in the past or the future, so nothing waits: maxidle and maxlife
expire a value, a value dated more than 24 hours ahead is forged, and a
valid value is refreshed at most once per maxidle/4 with its issue time
kept; the Refreshed and Expired counters of README 7.13 count it."""
import time

import pytest

from gwetest import HttpdEnv, signed
from gwetest.checks import route_cookies
from gwetest.status import delta, status

MAXIDLE, MAXLIFE = 400, 2000
QUARTER = MAXIDLE // 4
# Seconds between a date the test chooses and a limit: the test's clock
# and Apache's are one clock, read a few seconds apart at most.
MARGIN = 30
BALANCER = "balancer://dates"
CONF = """
<Proxy "%s">
    BalancerMember "{a}" route=R_A
    BalancerMember "{b}" route=R_B
    GWELBRouteCookie DATES maxidle=%d maxlife=%d
    GWELBCookieKey "{key}"
</Proxy>
ProxyPass "/dates/" "%s/"
<Location "/server-status">
    SetHandler server-status
</Location>
""" % (BALANCER, MAXIDLE, MAXLIFE, BALANCER)


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("cookie-dates", extra_modules=("status",)) as e:
        signed.start_with_key(e, CONF)
        yield e


def value(env, route, issued_ago, refreshed_ago=None):
    """A value for route, signed with the instance's key, issued
    issued_ago seconds ago (negative: in the future)."""
    now = int(time.time())
    return signed.build(env.key, "DATES", BALANCER, route, now - issued_ago,
                        None if refreshed_ago is None
                        else now - refreshed_ago)


def send(env, v):
    """A request carrying DATES=v: (response, GWELB_COOKIE_STATUS, the
    route cookie values it sets)."""
    r = env.get("/dates/x", cookies=["DATES=" + v])
    return (r, env.log_entry(r)["GWELB_COOKIE_STATUS"],
            [c[1] for c in route_cookies(r, "DATES")])


def test_the_builder_agrees_with_the_module(env):
    """The oracle first: the module's own cookie carries the key id the
    test derives, and a value the test builds is valid, routes to its
    member and is not replaced."""
    issued = route_cookies(env.get("/dates/x"), "DATES")[0][1]
    assert signed.decode(issued).key_id == signed.key_id(env.key)
    for route, member in (("R_A", "a"), ("R_B", "b")):
        for _ in range(3):
            r, st, set_ = send(env, value(env, route, 10))
            assert (r.member, st, set_) == (member, "valid", [])
            assert env.log_entry(r)["GWELB_ROUTE_SOURCE"] == "cookie"


@pytest.mark.parametrize("case,issued_ago,refreshed_ago", [
    ("not refreshed for longer than maxidle", 3 * MAXIDLE, MAXIDLE + MARGIN),
    ("refreshed lately but issued longer than maxlife ago",
     MAXLIFE + MARGIN, 10),
])
def test_expired_value_is_balanced_anew_and_replaced(env, case, issued_ago,
                                                     refreshed_ago):
    before = status(env)
    r, st, set_ = send(env, value(env, "R_B", issued_ago, refreshed_ago))
    assert st == "expired", case
    assert env.log_entry(r)["GWELB_ROUTE_SOURCE"] == "none"
    assert len(set_) == 1
    new = signed.decode(set_[0])
    # a new cookie, issued now, for the member that was picked
    assert abs(new.issued - time.time()) < MARGIN
    assert new.issued == new.refreshed and new.route == "R_" + r.member.upper()
    assert delta(before, status(env))[BALANCER]["Expired"] == 1


def test_within_maxidle_and_maxlife_is_valid(env):
    r, st, _ = send(env, value(env, "R_B", MAXLIFE - MARGIN,
                               MAXIDLE - MARGIN))
    assert (r.member, st) == ("b", "valid")


@pytest.mark.parametrize("ahead,want", [
    (24 * 3600 - MARGIN, "valid"),
    (24 * 3600 + MARGIN, "forged"),
])
def test_dated_in_the_future(env, ahead, want):
    """More than 24 hours ahead is forged (balanced anew, replaced); less
    is a clock difference between load balancers and valid."""
    r, st, set_ = send(env, value(env, "R_B", -ahead))
    assert st == want
    if want == "valid":
        assert r.member == "b" and set_ == []
    else:
        assert env.log_entry(r)["GWELB_ROUTE_SOURCE"] == "none"
        assert len(set_) == 1 and abs(signed.decode(set_[0]).issued
                                      - time.time()) < MARGIN


def test_refreshed_at_most_once_per_quarter_of_maxidle(env):
    """A value refreshed less than maxidle/4 ago gets no Set-Cookie; one
    refreshed longer ago gets one for the same member with the same issue
    time, counted Refreshed (not Issued); the refreshed value is then
    quiet again."""
    r, st, set_ = send(env, value(env, "R_A", 1000, QUARTER - MARGIN))
    assert (r.member, st, set_) == ("a", "valid", [])

    old = value(env, "R_A", 1000, QUARTER + MARGIN)
    before = status(env)
    t0 = int(time.time())
    r, st, set_ = send(env, old)
    t1 = int(time.time())
    assert (r.member, st, len(set_)) == ("a", "valid", 1)
    was, new = signed.decode(old), signed.decode(set_[0])
    assert new.route == "R_A" and new.issued == was.issued
    assert t0 <= new.refreshed <= t1
    d = delta(before, status(env))[BALANCER]["members"]["R_A"]
    assert (d["Refreshed"], d["Issued"]) == (1, 0)

    fresh = set_[0]
    for _ in range(3):
        r, st, set_ = send(env, fresh)
        assert (r.member, st, set_) == ("a", "valid", [])


def test_every_new_visitor_gets_its_members_value_of_its_second(env):
    """New visitors sent to one member within one second get the same
    value, signed once (README 4.8).  Over more than two seconds of new
    visitors, taking turns on both members, every value the module issues
    is exactly the one the test signs itself for the member that served
    and the second Apache received the request in: no value of another
    member, or of a second before, is handed out."""
    sent = []
    end = time.time() + 2.2
    while time.time() < end:
        sent.append(env.get("/dates/x"))
        time.sleep(0.02)
    seen = set()
    for r in sent:
        second = int(env.log_entry(r)["time"])
        route = {"a": "R_A", "b": "R_B"}[r.member]
        values = [c[1] for c in route_cookies(r, "DATES")]
        assert values == [signed.build(env.key, "DATES", BALANCER, route,
                                       second)], (r.member, second)
        seen.add((route, second))
    assert len({route for route, _ in seen}) == 2
    assert len({second for _, second in seen}) >= 2
