# SPDX-License-Identifier: Apache-2.0
"""Issue #7, README 1, 3 and 4: a real browser keeps its member through the
load balancer, in the setups GWE is deployed in.

Each test starts a Chromium with a fresh profile, opens the shop page
(shopsite.py) and has it call the load balancer with credentialed fetch()
calls, one after the other, as GWE's scripts do.  Every call answers with
the member that served it and the Cookie header that member received; the
tests assert the member of EVERY call, the cookie the browser sent, and
the cookie the browser stored (DevTools Storage.getCookies).

A balancer whose cookie the browser does not send goes round-robin over
its two members: with sequential calls on a balancer no other test uses,
8 calls reach both.  So "all 8 on one member" is never luck, and the
controls below (cookie attributes a cross-site page cannot use) must come
out NOT sticky.
"""
import json
import re

import pytest

from gwetest import BACKEND_DOWN
from gwetest.checks import assert_all
from shopsite import (BACKENDS, FAILOVER, FRONTENDS, LB_HOST, ROUTES,
                      SETUPS, SIGNED, TPC_MODES, XS_LB_HOST)

CALLS = 8


def calls(page, url, n=CALLS):
    """n sequential credentialed fetches from the page; the answers
    [{status, member, cookie}], every one of them a member's 200."""
    answers = page.eval("gwe.calls(%s, %d)" % (json.dumps(url), n),
                        timeout=60)
    assert len(answers) == n
    bad = [a for a in answers if a.get("status") != 200 or not a.get("member")]
    assert not bad, "calls to %s failed: %s" % (url, answers)
    return answers


def members(answers):
    return [a["member"] for a in answers]


def assert_sticky(answers, what):
    """Every call on the first call's member, and every call after the
    first carried that member's route cookie."""
    first = answers[0]["member"]
    assert_all(members(answers), first, what)
    want = "ROUTEID=." + ROUTES[first]
    sent = [a["cookie"] for a in answers[1:]]
    assert all(c == want for c in sent), \
        "%s: expected every call after the first to send %s, sent %s" % (
            what, want, sent)
    return first


def assert_stays(answers, member, what):
    """Every call on member, every one sending its route cookie."""
    assert_all(members(answers), member, what)
    want = "ROUTEID=." + ROUTES[member]
    assert all(a["cookie"] == want for a in answers), \
        "%s: expected every call to send %s: %s" % (what, want, answers)


def assert_lost(answers, what):
    """The calls went round-robin: both members, no cookie sent."""
    got = members(answers)
    assert len(set(got)) == 2, \
        "%s: expected the calls to lose their member, got %s" % (what, got)
    assert all(a["cookie"] is None for a in answers), \
        "%s: the browser sent a cookie: %s" % (what, answers)


def jar(browser, host, name="ROUTEID"):
    """The browser's cookies called name for host."""
    return [c for c in browser.cookies()
            if c["name"] == name and c["domain"] == host]


def one_cookie(browser, host, member, path, partition=None):
    """The browser holds exactly one ROUTEID for host, naming member, with
    the attributes the module writes (Secure: secure=auto over TLS, or
    secure=on; HttpOnly; the balancer's mount `path`: each balancer of the
    host has its own cookie path, README 7.8), partitioned under
    `partition` or not."""
    found = jar(browser, host)
    assert len(found) == 1, "cookies ROUTEID for %s: %s" % (host, found)
    c = found[0]
    assert c["value"] == "." + ROUTES[member], c
    assert c["secure"] and c["httpOnly"] and c["path"] == path, c
    assert c.get("session", True), c
    if partition:
        assert c.get("partitionKey", {}).get("topLevelSite") == partition, c
    else:
        assert "partitionKey" not in c, c
    return c


# ---- 1 and 2: same registrable domain: the defaults are enough ----------

@pytest.mark.parametrize("setup,balancer", [
    ("first-party", "fp"), ("same-site", "ss")])
def test_same_site_pages_are_sticky_with_defaults(site, browser, setup,
                                                  balancer):
    """GWELBRouteCookie ROUTEID, no attribute: the page on the load
    balancer's host, or on a sibling host of its registrable domain."""
    b = browser(site.page(setup))
    page = b.page
    answers = calls(page, site.lb(setup, balancer))
    assert answers[0]["cookie"] is None
    member = assert_sticky(answers, setup)
    c = one_cookie(b, LB_HOST, member, "/%s/" % balancer)
    assert "sameSite" not in c or c["sameSite"] in ("Lax", "Unspecified"), c


# ---- 3: another site: partitioned ----------------------------------------

@pytest.mark.parametrize("mode", list(TPC_MODES))
def test_cross_site_page_is_sticky_with_partitioned_cookie(site, browser,
                                                           mode):
    """shop.test calls gwe.test.  First the controls: the defaults, and
    SameSite=None; Secure without Partitioned, lose the member on every
    call (the browser stores nothing); then secure=on samesite=None
    partitioned=on keeps it, also with third-party cookies blocked."""
    b = browser(site.page("cross-site"), **TPC_MODES[mode])
    page = b.page
    assert_lost(calls(page, site.lb("cross-site", "xs-lax-" + mode)),
                "cross-site, defaults")
    assert_lost(calls(page, site.lb("cross-site", "xs-none-" + mode)),
                "cross-site, SameSite=None; Secure")
    assert jar(b, XS_LB_HOST) == []

    answers = calls(page, site.lb("cross-site", "xs-" + mode))
    assert answers[0]["cookie"] is None
    member = assert_sticky(answers, "cross-site, partitioned")
    c = one_cookie(b, XS_LB_HOST, member, "/xs-%s/" % mode,
                   partition="https://shop.test")
    assert c["sameSite"] == "None", c


# ---- issue 13: the signed cookie, README 4.8 ------------------------------

# g1 <key id:2> <issued:6> <refreshed:6> . <route slot> . <MAC:22>, base64url
SIGNED_VALUE = re.compile(
    r"^g1[A-Za-z0-9_-]{14}\.(?P<slot>[A-Za-z0-9_-]+)\.[A-Za-z0-9_-]{22}$")


@pytest.mark.parametrize("balancer", list(SIGNED))
def test_browser_keeps_and_sends_signed_cookie(site, browser, balancer):
    """GWELBCookieKey on the same-site and the cross-site partitioned
    setups: the browser stores the signed value and sends it back byte for
    byte, and every call stays on its member.  The slot is the member's
    route, or with opaque=on a 16-character identifier that names no
    member's route."""
    setup, attrs = SIGNED[balancer]
    b = browser(site.page(setup))
    answers = calls(b.page, site.lb(setup, balancer))
    assert answers[0]["cookie"] is None
    member = answers[0]["member"]
    assert_all(members(answers), member, balancer)
    lb_host = SETUPS[setup][1]
    found = jar(b, lb_host)
    assert len(found) == 1, found
    value = found[0]["value"]
    sent = [a["cookie"] for a in answers[1:]]
    assert all(c == "ROUTEID=" + value for c in sent), (value, sent)
    m = SIGNED_VALUE.match(value)
    assert m, "not the signed format: %r" % value
    if "opaque=on" in attrs:
        assert len(m.group("slot")) == 16, value
        assert not any(r in value for r in BACKENDS.values()), value
    else:
        assert m.group("slot") == ROUTES[member], value
    c = found[0]
    assert c["secure"] and c["httpOnly"] and c["path"] == "/%s/" % balancer
    if setup == "cross-site":
        assert c.get("partitionKey", {}).get("topLevelSite") == \
            "https://shop.test", c


# ---- 4: the WebSocket reaches the member of the page's calls -------------

@pytest.mark.parametrize("setup,balancer", [
    ("same-site", "ws"), ("cross-site", "wsxs")])
def test_websocket_reaches_member_of_fetches(site, browser, setup,
                                             balancer):
    """Members with upgrade=websocket: the page's fetches set the route
    cookie, then every WebSocket it opens (the upgrade carries the cookie)
    is echoed by that same member.  Without the cookie on the upgrade,
    byrequests would send them to the other member, which served none of
    the sticky calls."""
    b = browser(site.page(setup))
    page = b.page
    member = assert_sticky(calls(page, site.lb(setup, balancer), 4),
                           setup + " fetch")
    echoes = [page.eval("gwe.ws(%s, 'hello %d')"
                        % (json.dumps(site.wss(setup, balancer)), i))
              for i in range(4)]
    assert echoes == ["%s: hello %d" % (member, i) for i in range(4)]
    assert_stays(calls(page, site.lb(setup, balancer), 4), member,
                 setup + " fetch after the WebSockets")


# ---- 5: frontend stickiness needs no cookie ------------------------------

def test_frontend_param_is_sticky_with_cookies_blocked(site, browser):
    """Cookies blocked entirely in the profile: calls without the GWE
    parameter go round-robin (the LB's cookie is dropped), calls carrying
    ?alias=<id>.<route> reach that route's member, every one of them."""
    b = browser(site.page("first-party"), block_all_cookies=True)
    page = b.page
    assert_lost(calls(page, site.lb("first-party", "fe")),
                "no parameter, cookies blocked")
    for member in ("fe2", "fe1"):
        url = site.lb("first-party", "fe",
                      query="?alias=7f3c9a2e.%s" % FRONTENDS[member])
        answers = calls(page, url)
        assert_all(members(answers), member, "alias=...%s" % member)
        assert all(a["cookie"] is None for a in answers), answers
    assert b.cookies() == []


# ---- 6: failover, as the browser sees it ---------------------------------

@pytest.mark.expect_log(*BACKEND_DOWN)
def test_failover_moves_browser_to_live_member(site, browser):
    """Cross-site deployment (partitioned cookie).  The member serving the
    page is stopped: the next call reaches the other member, the browser
    replaces its cookie with the new route, and the calls after it stay
    on the new member."""
    b = browser(site.page("cross-site"))
    page = b.page
    url = site.lb("cross-site", "fo")
    old = assert_sticky(calls(page, url, 4), "before failover")
    new = [m for m in FAILOVER if m != old][0]
    one_cookie(b, XS_LB_HOST, old, "/fo/", partition="https://shop.test")

    site.env.members[old].stop()
    try:
        hits_old = site.env.members[old].hits
        moved = calls(page, url, 1)[0]
        assert moved["member"] == new, moved
        assert moved["cookie"] == "ROUTEID=." + FAILOVER[old], moved
        one_cookie(b, XS_LB_HOST, new, "/fo/", partition="https://shop.test")
        assert_stays(calls(page, url), new, "after failover")
        assert site.env.members[old].hits == hits_old
    finally:
        site.env.members[old].start()

