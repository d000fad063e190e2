# SPDX-License-Identifier: Apache-2.0
"""README 4.8's response-side rules: nocache=on merges Cache-Control:
private into the member's own on the response that carries the module's
cookie (never weakening no-store or private, and only there); a member
that sets the route cookie itself decides; secure=auto counts HTTPS=on
(set by SetEnvIf behind a TLS-terminating proxy) as TLS."""
import time

import pytest

from gwetest import HttpdEnv, signed
from gwetest.checks import no_route_cookie, one_route_cookie
from gwetest.members import answer_header

CONF = """
<Proxy "balancer://nc">
    BalancerMember "{a}" route=R_A
    BalancerMember "{b}" route=R_B
    GWELBRouteCookie NC path=/nc/ nocache=on
</Proxy>
ProxyPass "/nc/" "balancer://nc/"

<Proxy "balancer://own">
    BalancerMember "{a}" route=R_A
    BalancerMember "{b}" route=R_B
    GWELBRouteCookie OWN path=/own/ maxidle=400
    GWELBCookieKey "{key}"
</Proxy>
ProxyPass "/own/" "balancer://own/"

<Proxy "balancer://sec">
    BalancerMember "{a}" route=R_A
    GWELBRouteCookie SEC path=/sec/
</Proxy>
ProxyPass "/sec/" "balancer://sec/"
SetEnvIf X-Forwarded-Proto "^https$" HTTPS=on
"""


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("cookie-headers", extra_modules=("setenvif",)) as e:
        signed.start_with_key(e, CONF)
        yield e


def cache_control(env, member_sends, cookies=()):
    """(response, its Cache-Control lines) when the member answers with
    Cache-Control member_sends (None: none)."""
    hdrs = [answer_header(("Cache-Control", member_sends))] \
        if member_sends is not None else []
    r = env.get("/nc/x", headers=hdrs, cookies=cookies)
    assert r.status == 200, r
    return r, r.header_all("Cache-Control")


@pytest.mark.parametrize("member_sends,want", [
    (None, "private"),
    ("max-age=60", "private, max-age=60"),
    ("public, max-age=60", "private, max-age=60"),
    ("no-store", "no-store"),
    # private="x" lets a shared cache store the rest: not private enough
    ('private="x", max-age=5', 'private, private="x", max-age=5'),
    ('no-cache="a, public", max-age=5', 'private, no-cache="a, public", '
     'max-age=5'),
    ("private, max-age=5", "private, max-age=5"),
])
def test_nocache_merges_private_into_the_members_cache_control(
        env, member_sends, want):
    r, got = cache_control(env, member_sends)
    one_route_cookie(r, "NC")
    assert got == [want]


@pytest.mark.parametrize("member_sends", [
    None, "public, max-age=60", 'private="x", max-age=5'])
def test_without_the_modules_cookie_cache_control_is_the_members(
        env, member_sends):
    r, got = cache_control(env, member_sends, cookies=["NC=.R_B"])
    assert r.member == "b"
    no_route_cookie(r, "NC")
    assert got == ([] if member_sends is None else [member_sends])


MEMBERS_OWN = "OWN=chosen-by-the-member.R_B; Path=/own/; HttpOnly"


@pytest.mark.parametrize("visitor", ["new", "returning, refresh due"])
def test_a_member_that_sets_the_route_cookie_decides(env, visitor):
    cookies = []
    if visitor != "new":
        now = int(time.time())
        cookies = ["OWN=" + signed.build(env.key, "OWN", "balancer://own",
                                         "R_A", now - 1000, now - 200)]
    plain = env.get("/own/x", cookies=cookies)
    assert route_cookie_lines(plain), "the module would set one here"
    r = env.get("/own/x", cookies=cookies,
                headers=[answer_header(("Set-Cookie", MEMBERS_OWN))])
    assert route_cookie_lines(r) == [MEMBERS_OWN]


def route_cookie_lines(resp):
    return [v for v in resp.set_cookies if v.startswith("OWN=")]


@pytest.mark.parametrize("proto,secure", [("https", True), (None, False)])
def test_secure_auto_counts_https_on_as_tls(env, proto, secure):
    hdrs = [("X-Forwarded-Proto", proto)] if proto else []
    attrs = one_route_cookie(env.get("/sec/x", headers=hdrs), "SEC")
    assert ("secure" in {k.lower() for k in attrs}) == secure, attrs
