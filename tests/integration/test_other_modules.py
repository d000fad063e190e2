"""README 7.4, 7.7, 7.10, 7.11: other modules see the route cookie like any
other - mod_headers edits, unsets and appends to it, mod_cache never
replays it to another visitor, mod_deflate and h2c change nothing;
mod_proxy_wstunnel's own tunnel carries it on the 101; ProxyErrorOverride
keeps it on Apache's ErrorDocument; mod_include's subrequests are routed.
"""
import os
import shutil
import subprocess

import pytest

from gwetest import HttpdEnv, websocket_exchange
from gwetest.checks import no_route_cookie, one_route_cookie, route_cookies


def balancer(name, members, *lines):
    body = ['<Proxy "balancer://%s">' % name]
    body += ['    BalancerMember "%s" route=%s' % (url, route)
             for route, url in members]
    body += ["    " + line for line in lines]
    body.append("</Proxy>")
    body.append('ProxyPass "/%s/" "balancer://%s/"' % (name, name))
    return "\n".join(body) + "\n"


@pytest.fixture(scope="module")
def env():
    mpm = os.environ.get("GWE_MPM", "event")
    # mod_http2 does not run under prefork (AH10034): no h2c there
    h2 = () if mpm == "prefork" else ("http2",)
    with HttpdEnv("other-modules", extra_modules=(
            "headers", "cache", "cache_disk", "deflate", "filter",
            "include") + h2) as e:
        m1, m2 = e.member("m1").url, e.member("m2").url
        (e.dir / "cache").mkdir()
        (e.dir / "cache").chmod(0o777)  # the children (www-data) write it
        docs = e.dir / "docs"
        (docs / "errors").mkdir(parents=True)
        (docs / "errors" / "404.html").write_text("gwetest local 404 page\n")
        (docs / "page.shtml").write_text(
            'before <!--#include virtual="/inc/x?alias=.I2" --> between '
            '<!--#include virtual="/inc/y" --> after\n')
        e.start(("Protocols h2c http/1.1\n" if h2 else "") + """
DocumentRoot "{dir}/docs"
<Directory "{dir}/docs">
    Require all granted
    Options +Includes
</Directory>
<Location "/page.shtml">
    SetOutputFilter INCLUDES
</Location>
CacheRoot "{dir}/cache"
CacheEnable disk /c/
CacheIgnoreNoLastMod On
AddOutputFilterByType DEFLATE application/json
<Location "/edit/">
    Header edit Set-Cookie "^(ROUTEID=[^;]*)(.*)$" "$1$2; X-Edited"
</Location>
<Location "/unset/">
    Header unset Set-Cookie
</Location>
<Location "/append/">
    Header append Set-Cookie "extra=1"
</Location>
<Location "/always/">
    Header always edit Set-Cookie "^(.*)$" "$1; X-Always"
</Location>
<Location "/override/">
    ProxyErrorOverride On
</Location>
ErrorDocument 500 "gwetest error page"
ErrorDocument 404 /errors/404.html
{b}""".format(dir=e.dir, b="".join(
            balancer(name, [(name[0].upper() + "1", m1),
                            (name[0].upper() + "2", m2)],
                     "GWELBRouteCookie ROUTEID path=/%s/" % name,
                     "GWELBStickyParam alias",
                     "ProxySet lbmethod=byrequests")
            for name in ("edit", "unset", "append", "always", "c", "d",
                         "override", "inc"))))
        yield e


def served_route(resp):
    return {"m1": "1", "m2": "2"}[resp.member]


def test_header_edit_applies_to_the_route_cookie(env):
    """README 7.4: `Header edit Set-Cookie` edits the route cookie, as it
    would the member's own cookie (which this regex does not match)."""
    r = env.get("/edit/set-cookie/x?alias=.E2")
    assert r.member == "m2"
    assert sorted(r.set_cookies) == sorted([
        "ROUTEID=.E2; Path=/edit/; HttpOnly; X-Edited",
        "app=m2; Path=/"]), r.set_cookies


def test_header_unset_removes_the_route_cookie(env):
    """README 7.4: `Header unset Set-Cookie` removes the route cookie with
    the member's own cookie."""
    for target in ("/unset/x", "/unset/set-cookie/x?alias=.U1"):
        r = env.get(target)
        assert r.status == 200 and r.member in ("m1", "m2")
        assert r.set_cookies == [], r.set_cookies


def test_header_append_applies_to_the_route_cookie(env):
    """README 7.4: `Header append Set-Cookie` appends to the Set-Cookie
    header that holds the route cookie: one line with both."""
    r = env.get("/append/x?alias=.A1")
    assert r.member == "m1"
    lines = [c for c in r.set_cookies if "ROUTEID=.A1" in c]
    assert len(lines) == 1 and "extra=1" in lines[0], r.set_cookies


def test_header_always_edit_treats_the_route_cookie_as_the_members(env):
    """README 7.4: `Header always edit` acts on r->err_headers_out: on the
    route cookie exactly as on the member's own cookie."""
    r = env.get("/always/set-cookie/x?alias=.A2")
    assert r.member == "m2"
    route = [c for c in r.set_cookies if c.startswith("ROUTEID=")]
    app = [c for c in r.set_cookies if c.startswith("app=")]
    assert len(route) == 1 and len(app) == 1, r.set_cookies
    assert route[0].endswith("; X-Always") == app[0].endswith("; X-Always"), \
        r.set_cookies


def test_cache_never_replays_a_route_cookie_to_another_visitor(env):
    """README 7.4: visitor A (no cookie) gets a route cookie; the response
    that carried it is not stored; visitor B, whose cookie names the other
    member, never gets A's cookie; a response mod_cache serves (Age)
    carries no route cookie at all; the cache does serve."""
    first = env.get("/c/cacheable/p")
    assert first.status == 200 and first.member
    a = served_route(first)
    one_route_cookie(first, "ROUTEID", ".C" + a)
    b = "2" if a == "1" else "1"
    cached = 0
    for visitor in [["ROUTEID=.C" + b]] * 3 + [[]] * 2 + \
            [["ROUTEID=.C" + a]] * 2 + [["ROUTEID=.C" + b]] * 2:
        r = env.get("/c/cacheable/p", cookies=visitor)
        assert r.status == 200
        if r.header("Age") is not None:
            cached += 1
            no_route_cookie(r, "ROUTEID")
            continue
        for _, value, _ in route_cookies(r, "ROUTEID"):
            assert value == ".C" + served_route(r), \
                "cookie %s on a response of %s" % (value, r.member)
        if visitor == ["ROUTEID=.C" + b]:
            assert r.member == "m" + b
            no_route_cookie(r, "ROUTEID")
    assert cached, "mod_cache never served: the test proves nothing"


def test_deflate_changes_nothing(env):
    """README 7.4: gzip-compressed responses are routed by cookie and
    parameter and carry the route cookie once."""
    gz = [("Accept-Encoding", "gzip")]
    r = env.get("/d/x?alias=.D2", headers=gz)
    assert r.status == 200 and r.header("Content-Encoding") == "gzip"
    assert r.header("X-Member") == "m2"  # the body is compressed
    one_route_cookie(r, "ROUTEID", ".D2")
    for _ in range(2):
        r = env.get("/d/x", headers=gz, cookies=["ROUTEID=.D1"])
        assert r.header("Content-Encoding") == "gzip"
        assert r.header("X-Member") == "m1"
        no_route_cookie(r, "ROUTEID")


def curl_h2c(env, target, cookie=None):
    cmd = ["curl", "-si", "--http2-prior-knowledge", env.url(target)]
    if cookie:
        cmd[1:1] = ["-H", "Cookie: " + cookie]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("HTTP/2 200"), out.stdout[:300]
    return out.stdout


@pytest.mark.skipif(not shutil.which("curl"), reason="curl is missing")
def test_h2c_changes_nothing(env):
    if env.mpm == "prefork":
        pytest.skip("mod_http2 does not run under prefork")
    """README 7.4: over h2c the request is routed by parameter and cookie
    and the route cookie comes once."""
    out = curl_h2c(env, "/d/h2?alias=.D2")
    assert '"member": "m2"' in out
    cookies = [l for l in out.lower().splitlines()
               if l.startswith("set-cookie: routeid=")]
    assert cookies == ["set-cookie: routeid=.d2; path=/d/; httponly"], out
    for _ in range(2):
        out = curl_h2c(env, "/d/h2", "ROUTEID=.D1")
        assert '"member": "m1"' in out
        assert "set-cookie: routeid" not in out.lower(), out


@pytest.mark.parametrize("status,page", [
    ("500", "gwetest error page"), ("404", "gwetest local 404 page")],
    ids=["ErrorDocument string", "ErrorDocument local URL"])
def test_error_override_keeps_the_route_cookie(env, status, page):
    """README 7.10: with ProxyErrorOverride On the member did answer: the
    ErrorDocument Apache sends instead of the member's body carries the
    route cookie naming the member, once."""
    r = env.get("/override/status/%s?alias=.O2" % status)
    assert r.status == int(status), r
    assert page in r.body.decode("latin-1"), r.body[:200]
    one_route_cookie(r, "ROUTEID", ".O2")
    r = env.get("/override/status/%s" % status, cookies=["ROUTEID=.O1"])
    assert r.status == int(status) and page in r.body.decode("latin-1")
    no_route_cookie(r, "ROUTEID")


def test_subrequest_is_routed_like_any_request(env):
    """README 7.11: mod_include's `<!--#include virtual -->` through a
    GWELB balancer is routed by its URL's parameter and by the Cookie
    header it carries over from the page's request."""
    r = env.get("/page.shtml", cookies=["ROUTEID=.I1"])
    assert r.status == 200, r
    text = r.body.decode("latin-1")
    assert text.startswith("before ") and text.rstrip().endswith(" after")
    first, second = text.split(" between ")
    assert '"member": "m2"' in first, text
    assert '"member": "m1"' in second, text


@pytest.fixture(scope="module")
def tunnel_env():
    with HttpdEnv("wstunnel-cookie") as e:
        m = {n: e.member(n).port for n in ("t1", "t2")}
        e.start("""
ProxyWebsocketFallbackToProxyHttp Off
<Proxy "balancer://t">
    BalancerMember "ws://127.0.0.1:{t1}" route=T1
    BalancerMember "ws://127.0.0.1:{t2}" route=T2
    GWELBRouteCookie ROUTEID path=/t/
    ProxySet lbmethod=byrequests
</Proxy>
ProxyPass "/t/" "balancer://t/"
""".format(**m))
        yield e


def test_wstunnel_101_carries_the_route_cookie_of_the_member_that_echoed(
        tunnel_env):
    """README 7.7: mod_proxy_wstunnel with ProxyWebsocketFallbackToProxyHttp
    Off: the 101 carries Set-Cookie ROUTEID naming the member that echoed
    the frame, once; with that cookie the next upgrade goes to the same
    member and gets no cookie."""
    for _ in range(2):
        resp, echo = websocket_exchange(tunnel_env.port, "/t/cometd", "hi")
        assert resp.status == 101 and echo, resp
        member = echo.split(":")[0]
        one_route_cookie(resp, "ROUTEID", ".T" + member[1])
    resp, echo = websocket_exchange(tunnel_env.port, "/t/cometd", "hi",
                                    headers=[("Cookie", "ROUTEID=.T2")])
    assert resp.status == 101 and echo == "t2: hi"
    no_route_cookie(resp, "ROUTEID")
