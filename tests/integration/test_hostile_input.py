# SPDX-License-Identifier: Apache-2.0
"""README 5: untrusted URLs, query strings and Cookie headers.

Every hostile request must be answered 200 by a member of the requested
balancer (never 500, never a member of another balancer), with no client
byte reflected in any response header, and no child may crash.  Each case
is also sent to a stock balancer first: that proves Apache itself lets the
request through to the balancer (a 400 from httpd's own parser would test
nothing).
"""
import pytest

from gwetest import HttpdEnv
from gwetest.checks import assert_all

MARK = "Zq7Mark"  # in every hostile value; must never show up in a header
BIG = 60000        # request line limit below; the members' limit is 65536


def cases():
    out = []

    def add(name, query=b"", cookies=(), path=b"/x"):
        out.append((name, path, query, list(cookies)))

    m = MARK.encode()
    many = b"&".join(b"p%d=%s%d" % (i, m, i) for i in range(3000))
    add("thousands of parameters, route last", many + b"&alias=x.HB_1")
    add("thousands of repeated names", b"&".join([b"alias=.nope" + m] * 3000))
    add("thousands of empty parameters", b"&" * 20000 + b"alias=" + m)
    add("long value ending in a route", b"alias=" + m * (BIG // 8) + b".HB_1")
    add("8 KB value", b"alias=" + b"a" * 8192 + m)
    add("8 KB of separators", b"alias=" + b"." * 8192)
    add("8 KB of escapes", b"alias=" + b"%2E" * 2730 + b"HB_1")
    add("%00 in value", b"alias=" + m + b"%00.HB_1")
    add("%00 after route", b"alias=" + m + b".HB_1%00")
    add("encoded control characters", b"alias=" + m + b"%01%1b%7f%0d%0a.HB_1")
    add("encoded CRLF header injection",
        b"alias=" + m + b"%0d%0aX-Injected:%201%0d%0a.HB_1")
    add("raw non-UTF-8 bytes", b"alias=\xff\xfe\xc3" + m + b".HB_1")
    add("encoded non-UTF-8 bytes", b"alias=%ff%fe%c3" + m + b".HB_1")
    add("quotes", b'alias="' + m + b'".HB_1"')
    add("lone separator", b"alias=.")
    add("lone percent", b"alias=%")
    add("percent at the very end", b"alias=" + m + b"%")
    add("malformed escapes", b"alias=%%%g0%0g%" + m)
    add("only delimiters", b"&&&;;;===&alias")
    add("name only", b"alias")
    add("empty query", b"")
    add("path parameters everywhere", b"", path=b"/;;;/;alias;/;alias=;/" +
        b";alias=" + m + b"/x;=;")
    add("long path parameter", b"", path=b"/a;alias=" + b"b" * 8000 + m)
    add("cookie: 8 KB value",
        cookies=[b"ROUTEID=" + b"x" * 7900 + m + b".HB_1"])
    add("cookie: thousand pairs",
        cookies=[b"; ".join(b"c%d=%s" % (i, m) for i in range(700))])
    add("cookie: many header lines",
        cookies=[b"c%d=%s" % (i, m) for i in range(80)] + [b"ROUTEID=.HB_1"])
    add("cookie: repeated route cookie",
        cookies=[b"; ".join([b"ROUTEID=" + m] * 600)])
    add("cookie: %00", cookies=[b"ROUTEID=" + m + b"%00.HB_1"])
    add("cookie: raw control characters",
        cookies=[b"ROUTEID=" + m + b"\x01\x7f.HB_1"])
    add("cookie: non-UTF-8", cookies=[b"ROUTEID=\xff\xfe" + m + b".HB_1"])
    add("cookie: unbalanced quote", cookies=[b'ROUTEID="' + m + b'.HB_1'])
    add("cookie: quote only", cookies=[b'ROUTEID="'])
    add("cookie: empty quotes", cookies=[b'ROUTEID=""'])
    add("cookie: lone separator", cookies=[b"ROUTEID=."])
    add("cookie: commas", cookies=[b"ROUTEID=,,,," + m + b",, ,=,"])
    add("cookie: leading comma", cookies=[b", ROUTEID=" + m])
    add("cookie: only delimiters", cookies=[b";;; ,,, ;=;=="])
    add("cookie: no value", cookies=[b"ROUTEID"])
    add("cookie: malformed escape", cookies=[b"ROUTEID=%G" + m + b"%"])
    add("route of another balancer", b"alias=.OTHER_1",
        cookies=[b"ROUTEID=.OTHER_1"])
    return out


CASES = cases()


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("hostile") as e:
        m = {n: e.member(n).url for n in (
            "hb_default", "hb1", "hs1", "other1")}
        e.start("""
LimitRequestLine 65000
LimitRequestFieldSize 32000
HttpProtocolOptions Unsafe

<Proxy "balancer://hb">
    BalancerMember "{hb_default}" route=HB_DEFAULT
    BalancerMember "{hb1}" route=HB_1 lbset=1
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/hb/
</Proxy>
ProxyPass "/hb/" "balancer://hb/"

<Proxy "balancer://hs">
    BalancerMember "{hs1}" route=HB_1
</Proxy>
ProxyPass "/hs/" "balancer://hs/"

<Proxy "balancer://other">
    BalancerMember "{other1}" route=OTHER_1
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID path=/other/
</Proxy>
ProxyPass "/other/" "balancer://other/"
""".format(**m))
        yield e


def send(env, prefix, path, query, cookies):
    target = prefix + path + (b"?" + query if query else b"")
    return env.get(target, cookies=cookies)


@pytest.mark.parametrize("name,path,query,cookies", CASES,
                         ids=[c[0] for c in CASES])
def test_hostile_request(env, name, path, query, cookies):
    control = send(env, b"/hs", path, query, cookies)
    assert control.status == 200, "httpd itself refused the request"
    r = send(env, b"/hb", path, query, cookies)
    assert r.status == 200, r
    assert r.member in ("hb_default", "hb1")
    for k, v in r.headers:
        assert MARK not in k and MARK not in v, "reflected: %s: %s" % (k, v)
        assert k.lower() != "x-injected"
    for line in r.set_cookies:
        if line.startswith("ROUTEID="):
            assert line.split(";")[0] in ("ROUTEID=.HB_DEFAULT",
                                          "ROUTEID=.HB_1"), line


def test_routes_still_work_after_hostile_input(env):
    assert_all(env.served("/hb/x?alias=.HB_1", n=3), "hb1")
    assert_all(env.served("/hb/x", n=3, cookies=["ROUTEID=.HB_1"]), "hb1")
    assert_all(env.served("/hb/x", n=3), "hb_default")
