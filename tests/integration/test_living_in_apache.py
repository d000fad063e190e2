# SPDX-License-Identifier: Apache-2.0
"""README 7: the module inside a real Apache - configtest and graceful
restarts, virtual hosts, the stock stickiness parameters, mod_headers,
mod_cache, immediate refusals, the variables when no member answered, two
balancers and their cookies, ProxyErrorOverride, HTTP/2."""
import os
import subprocess
import threading
import time

import pytest

from gwetest import BACKEND_DOWN, BalancerManager, HttpdEnv, free_port
from gwetest.checks import no_route_cookie, one_route_cookie, unset


def balancer(name, members, *lines, path=None):
    body = ['<Proxy "balancer://%s">' % name]
    body += ['    BalancerMember "%s" route=%s' % (url, route)
             for route, url in members]
    body += ["    " + line for line in lines]
    body.append("</Proxy>")
    body.append('ProxyPass "%s" "balancer://%s/"' % (path or "/%s/" % name,
                                                    name))
    return "\n".join(body) + "\n"


@pytest.fixture(scope="module")
def urls():
    """Members shared by the configurations below (started once)."""
    with HttpdEnv("living-members") as e:
        yield {n: e.member(n).url for n in ("m1", "m2", "m3")}


# ---- 7.1: configtest refuses what a start refuses ------------------------

def bad_configs(u):
    return {
        "stickysession with GWELB": (
            balancer("b", [("R1", u["m1"])], "GWELBRouteCookie ROUTEID",
                     "ProxySet stickysession=JSESSIONID"),
            ["GWELB00004", "stickysession", "GWELBRouteCookie"]),
        "no BalancerMember": (
            '<Proxy "balancer://b">\n    GWELBRouteCookie ROUTEID\n'
            '</Proxy>\nProxyPass "/b/" "balancer://b/"\n',
            ["GWELB00003", "BalancerMember"]),
        "separator alone": (
            balancer("b", [("R1", u["m1"])], "GWELBRouteSeparator -"),
            ["GWELB00001", "GWELBRouteSeparator"]),
        "two sections": (
            balancer("b", [("R1", u["m1"])], "GWELBRouteCookie ROUTEID") +
            '<Proxy "balancer://b">\n    GWELBStickyParam alias\n</Proxy>\n',
            ["GWELB00005", "two <Proxy> sections"]),
        "stickysessionsep": (
            balancer("b", [("R1", u["m1"])], "GWELBRouteCookie ROUTEID",
                     "ProxySet stickysessionsep=-"),
            ["GWELB00007", "GWELBRouteSeparator"]),
        "scolonpathdelim": (
            balancer("b", [("R1", u["m1"])], "GWELBStickyParam alias",
                     "ProxySet scolonpathdelim=On"),
            ["GWELB00008", "GWELBStickyParam"]),
        "nofailover against GWELBStickyForce Off": (
            balancer("b", [("R1", u["m1"])], "GWELBRouteCookie ROUTEID",
                     "GWELBStickyForce Off", "ProxySet nofailover=On"),
            ["GWELB00009", "nofailover"]),
        "two balancers, one cookie": (
            balancer("b", [("R1", u["m1"])], "GWELBRouteCookie ROUTEID") +
            balancer("c", [("R2", u["m2"])], "GWELBRouteCookie ROUTEID"),
            ["GWELB00010", "same name, path and domain"]),
    }


CASES = list(bad_configs({"m1": "", "m2": ""}))


@pytest.mark.parametrize("case", CASES)
def test_configtest_refuses_what_start_refuses(urls, case):
    body, words = bad_configs(urls)[case]
    with HttpdEnv("configtest") as e:
        ok, out = e.configtest(body)
        assert not ok, out
        for w in words + [str(e.conf), "line "]:
            assert w in out, "%r not in apache2 -t output:\n%s" % (w, out)
        started = e.start(body, expect_fail=True)
        assert not started.ok
        line = [l for l in out.splitlines() if words[0] in l][0]
        assert line.split("] ")[-1] in started.output, started.output


def test_configtest_reports_every_error_at_once(urls):
    u = urls
    body = (balancer("b", [("R1", u["m1"])], "GWELBRouteCookie ROUTEID",
                     "ProxySet stickysession=X") +
            balancer("c", [("R2", u["m2"])], "GWELBStickyParam alias",
                     "ProxySet scolonpathdelim=On"))
    with HttpdEnv("configtest-all") as e:
        ok, out = e.configtest(body)
        assert not ok
        assert "GWELB00004" in out and "GWELB00008" in out, out


def test_configtest_then_graceful_never_stops_the_server(urls):
    """apachectl configtest && apachectl graceful: a refused configuration
    is refused by -t (so graceful never runs), an accepted one reloads."""
    good = balancer("b", [("R1", urls["m1"])], "GWELBRouteCookie ROUTEID")
    bad = balancer("b", [("R1", urls["m1"])], "GWELBRouteCookie ROUTEID",
                   "ProxySet stickysession=JSESSIONID")
    with HttpdEnv("graceful") as e:
        e.start(good)
        ok, out = e.configtest(bad)
        assert not ok and "GWELB00004" in out
        ok, out = e.configtest(good + balancer(
            "c", [("R2", urls["m2"])], "GWELBStickyParam alias"))
        assert ok, out
        e.restart()
        r = e.get("/c/x?alias=.R2")
        assert r.status == 200 and r.member == "m2"
        one_route_cookie(e.get("/b/x"), "ROUTEID", ".R1")


# ---- 7.2: virtual hosts ----------------------------------------------------

def test_vhost_section_changes_only_what_it_sets(urls):
    with HttpdEnv("vhost-merge") as e:
        vport = free_port()
        e.start(balancer("s", [("R1", urls["m1"]), ("R2", urls["m2"])],
                         "GWELBStickyParam alias", "ProxySet lbmethod=byrequests")
                + """
<VirtualHost 127.0.0.1:%d>
    ServerName v.test
    <Proxy "balancer://s">
        GWELBRouteCookie VR path=/s/
    </Proxy>
</VirtualHost>
""" % vport, listen=["127.0.0.1:%d" % vport])
        # the vhost keeps the inherited parameter and adds its cookie
        r = e.get("/s/x?alias=.R2", port=vport)
        assert r.member == "m2"
        one_route_cookie(r, "VR", ".R2")
        assert e.get("/s/x", port=vport, cookies=["VR=.R1"]).member == "m1"
        # the main server has no cookie
        r = e.get("/s/x?alias=.R2")
        assert r.member == "m2" and not r.set_cookies


def test_vhost_own_stock_balancer_stays_stock(urls):
    with HttpdEnv("vhost-stock") as e:
        vport = free_port()
        e.start(balancer("s", [("R1", urls["m1"])], "GWELBRouteCookie ROUTEID",
                         "GWELBStickyParam alias") + """
<VirtualHost 127.0.0.1:%d>
    ServerName v.test
    BalancerInherit Off
    ProxyPassInherit Off
    <Proxy "balancer://s">
        BalancerMember "%s" route=R2
    </Proxy>
    ProxyPass "/s/" "balancer://s/"
</VirtualHost>
""" % (vport, urls["m2"]), listen=["127.0.0.1:%d" % vport])
        r = e.get("/s/x?alias=.R1", port=vport)
        assert r.member == "m2" and not r.set_cookies
        assert unset(e.log_entry(r)["GWELB_ROUTE_SOURCE"])
        r = e.get("/s/x")
        assert r.member == "m1"
        one_route_cookie(r, "ROUTEID", ".R1")


def test_inherit_off_with_gwelb_balancer_in_main_server_starts(urls):
    with HttpdEnv("vhost-inherit-off") as e:
        vport = free_port()
        e.start(balancer("s", [("R1", urls["m1"])], "GWELBRouteCookie ROUTEID")
                + """
<VirtualHost 127.0.0.1:%d>
    ServerName v.test
    BalancerInherit Off
    ProxyPassInherit Off
</VirtualHost>
""" % vport, listen=["127.0.0.1:%d" % vport])
        one_route_cookie(e.get("/s/x"), "ROUTEID", ".R1")


# ---- 7.3 and 7.5: nofailover, immediate refusals ---------------------------

@pytest.mark.expect_log(*BACKEND_DOWN)
@pytest.mark.parametrize("force", ["ProxySet nofailover=On",
                                   "GWELBStickyForce On"])
def test_refusal_is_immediate_whatever_the_timeout(urls, force):
    """A cookie naming a disabled member gets 503 at once (README 7.5),
    although the balancer would wait timeout=3 s for a member; nofailover=On
    means GWELBStickyForce On (README 7.3)."""
    with HttpdEnv("refuse") as e:
        e.start("""
<Proxy "balancer://f">
    BalancerMember "%s" route=R1
    BalancerMember "%s" route=R2 status=+D
    GWELBRouteCookie ROUTEID
    %s
    ProxySet timeout=3
</Proxy>
ProxyPass "/f/" "balancer://f/"
""" % (urls["m1"], urls["m2"], force))
        t0 = time.monotonic()
        r = e.get("/f/x", cookies=["ROUTEID=.R2"])
        elapsed = time.monotonic() - t0
        assert r.status == 503
        assert elapsed < 1.5, "refusal took %.2f s (timeout=3)" % elapsed
        no_route_cookie(r, "ROUTEID")
        log = e.log_entry(r)
        assert unset(log["GWELB_ROUTE"]) and log["GWELB_REQUESTED_ROUTE"] == "R2"
        assert e.get("/f/x", cookies=["ROUTEID=.R1"]).member == "m1"


# ---- 7.6: nobody answered --------------------------------------------------

@pytest.mark.expect_log(*BACKEND_DOWN)
def test_no_variable_names_a_member_that_did_not_answer():
    dead = ["http://127.0.0.1:%d" % free_port() for _ in range(2)]
    with HttpdEnv("nobody") as e:
        e.start(balancer("d", [("D1", dead[0]), ("D2", dead[1])],
                         "GWELBRouteCookie ROUTEID"))
        for cookies in ([], ["ROUTEID=.D2"]):
            r = e.get("/d/x", cookies=cookies)
            assert r.status == 503
            no_route_cookie(r, "ROUTEID")
            log = e.log_entry(r)
            assert unset(log["GWELB_ROUTE"]), log
            assert unset(log["GWELB_ROUTE_CHANGED"]), log
            assert unset(log["BALANCER_ROUTE_CHANGED"]), log


# ---- 7.4: mod_headers, mod_cache, deflate, HTTP/2 --------------------------

H2 = os.environ.get("GWE_MPM", "event") != "prefork"  # mod_http2 refuses it


@pytest.fixture(scope="module")
def others(urls):
    with HttpdEnv("others", extra_modules=(
            "headers", "cache", "cache_disk", "deflate", "filter") +
            (("http2",) if H2 else ())) as e:
        cache = e.dir / "cache"
        cache.mkdir()
        cache.chmod(0o777)  # the children (www-data) write it
        e.start("""
{protocols}
CacheRoot "{dir}/cache"
CacheEnable disk /c/
CacheIgnoreNoLastMod On
AddOutputFilterByType DEFLATE application/json
{edit}{unset}{cache}
<Location "/edit/">
    Header edit Set-Cookie "^(ROUTEID=[^;]*)(.*)$" "$1$2; X-Edited"
</Location>
<Location "/unset/">
    Header unset Set-Cookie
</Location>
""".format(dir=e.dir, protocols="Protocols h2c http/1.1" if H2 else "",
           edit=balancer("edit", [("E1", urls["m1"])],
                         "GWELBRouteCookie ROUTEID path=/edit/"),
           unset=balancer("unset", [("U1", urls["m1"])],
                          "GWELBRouteCookie ROUTEID path=/unset/"),
           cache=balancer("c", [("C1", urls["m1"]), ("C2", urls["m2"])],
                          "GWELBRouteCookie ROUTEID path=/c/",
                          "ProxySet lbmethod=byrequests")))
        yield e


def test_mod_headers_edits_the_route_cookie(others):
    r = others.get("/edit/x")
    assert r.set_cookies == ["ROUTEID=.E1; Path=/edit/; HttpOnly; X-Edited"]
    r = others.get("/edit/set-cookie/x")
    assert sorted(r.set_cookies) == sorted([
        "ROUTEID=.E1; Path=/edit/; HttpOnly; X-Edited",
        "app=m1; Path=/"]), r.set_cookies


def test_mod_headers_unsets_the_route_cookie(others):
    r = others.get("/unset/set-cookie/x")
    assert r.member == "m1" and r.set_cookies == []


def test_cache_never_hands_a_route_cookie_to_another_visitor(others):
    """README 7.4: the response that set visitor A's cookie is not stored;
    visitor B, whose cookie names the other member, never receives A's
    cookie, from the member or from the cache (which does serve: Age)."""
    first = others.get("/c/cacheable/a")
    assert first.status == 200
    route = one_route_cookie(first, "ROUTEID") and \
        first.set_cookies[0].split(";")[0].split("=.")[1]
    other = "C2" if route == "C1" else "C1"
    for _ in range(3):
        r = others.get("/c/cacheable/a", cookies=["ROUTEID=." + other])
        assert r.status == 200
        assert not any(c.startswith("ROUTEID=." + route)
                       for c in r.set_cookies), r.set_cookies
    # a returning visitor's response (no Set-Cookie) may be cached and
    # replayed: still no route cookie for anyone
    ages = []
    for _ in range(3):
        r = others.get("/c/cacheable/b", cookies=["ROUTEID=.C1"])
        assert r.status == 200
        no_route_cookie(r, "ROUTEID")
        ages.append(r.header("Age"))
    assert any(a is not None for a in ages), "mod_cache never served"


def test_deflate_changes_nothing(others):
    r = others.get("/edit/x", headers=[("Accept-Encoding", "gzip")])
    assert r.status == 200 and r.header("Content-Encoding") == "gzip"
    assert r.set_cookies == ["ROUTEID=.E1; Path=/edit/; HttpOnly; X-Edited"]


@pytest.mark.skipif(not H2, reason="mod_http2 does not run under prefork")
def test_h2c_changes_nothing(others):
    out = subprocess.run(
        ["curl", "-si", "--http2-prior-knowledge", "-H", "Cookie: ROUTEID=.C2",
         others.url("/c/h2")], capture_output=True, text=True, timeout=20)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("HTTP/2 200"), out.stdout[:200]
    assert '"member": "m2"' in out.stdout
    assert "set-cookie: ROUTEID" not in out.stdout.lower()
    out = subprocess.run(
        ["curl", "-si", "--http2-prior-knowledge", others.url("/unset/h2")],
        capture_output=True, text=True, timeout=20)
    assert out.stdout.startswith("HTTP/2 200")
    out = subprocess.run(
        ["curl", "-si", "--http2-prior-knowledge", others.url("/edit/h2")],
        capture_output=True, text=True, timeout=20)
    assert "ROUTEID=.E1; Path=/edit/; HttpOnly; X-Edited" in out.stdout


# ---- 7.8: balancers of the same members may share a cookie ---------------

def test_balancers_of_the_same_routes_share_a_cookie(urls):
    with HttpdEnv("share") as e:
        e.start(balancer("a", [("R1", urls["m1"])], "GWELBRouteCookie ROUTEID")
                + balancer("b", [("R1", urls["m1"])],
                           "GWELBRouteCookie ROUTEID"))
        one_route_cookie(e.get("/a/x"), "ROUTEID", ".R1")
        no_route_cookie(e.get("/b/x", cookies=["ROUTEID=.R1"]), "ROUTEID")


# ---- ProxyErrorOverride ------------------------------------------------------

def test_error_override_keeps_the_route_cookie(urls):
    """README 7.10: the member answered 500; Apache sends its own error
    page instead of the member's, with the cookie naming the member."""
    with HttpdEnv("override") as e:
        e.start("ProxyErrorOverride On\n" + balancer(
            "o", [("O1", urls["m1"])], "GWELBRouteCookie ROUTEID"))
        r = e.get("/o/status/500")
        assert r.status == 500 and r.member is None
        one_route_cookie(r, "ROUTEID", ".O1")
        r = e.get("/o/status/500", cookies=["ROUTEID=.O1"])
        no_route_cookie(r, "ROUTEID")


# ---- 7.9: balancer-manager under load ------------------------------------

def test_manager_changes_under_load_lose_no_route(urls):
    """Threads send requests whose cookies name each member while
    balancer-manager switches the lbmethod, a load factor and drain mode:
    every request stays on its member."""
    with HttpdEnv("manager-load") as e:
        e.start("""
<Location "/balancer-manager">
    SetHandler balancer-manager
</Location>
ProxyPass "/balancer-manager" "!"
""" + balancer("ml", [("L1", urls["m1"]), ("L2", urls["m2"]),
                       ("L3", urls["m3"])], "GWELBRouteCookie ROUTEID"))
        manager = BalancerManager(e)
        stop = threading.Event()
        counts = {"requests": 0, "lost": []}
        lock = threading.Lock()

        def visitor(route, member):
            conn = e.connection()
            for _ in range(2000):
                if stop.is_set():
                    break
                try:
                    r = conn.request("/ml/x", cookies=["ROUTEID=." + route])
                except OSError:
                    # keep-alive ends after MaxKeepAliveRequests: go on
                    # on a new connection, as a browser does
                    conn.close()
                    conn = e.connection()
                    continue
                with lock:
                    counts["requests"] += 1
                    if r.member != member or r.status != 200:
                        counts["lost"].append((route, r.status, r.member))
            conn.close()

        threads = [threading.Thread(target=visitor, args=(route, member))
                   for route, member in (("L1", "m1"), ("L2", "m2"),
                                         ("L3", "m3"))]
        for t in threads:
            t.start()
        try:
            for lbm in ("bytraffic", "bybusyness", "byrequests") * 4:
                manager.edit_balancer("ml", b_lbm=lbm)
                manager.edit("ml", urls["m3"], w_lf="7")
                manager.edit("ml", urls["m2"], w_status_N="1")
                manager.edit("ml", urls["m2"], w_status_N="0")
                manager.edit("ml", urls["m3"], w_lf="1")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        print("manager under load: %d requests, %d lost"
              % (counts["requests"], len(counts["lost"])))
        assert counts["requests"] > 30
        assert counts["lost"] == [], counts["lost"][:5]
