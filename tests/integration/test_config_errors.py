# SPDX-License-Identifier: Apache-2.0
"""README 3: configurations Apache must refuse at start-up, with a message
that names the directive (and the attribute), and the ones it must accept.

Each case really runs `apache2 -k start` (errors found after parsing, in
post_config, are not seen by `apache2 -t`).
"""
import re

import pytest

from gwetest import HttpdEnv
from gwetest.configs import MEMBERS, proxy

ALL_DIRECTIVES = [
    ("GWELBStickyParam", "GWELBStickyParam alias"),
    ("GWELBRouteCookie", "GWELBRouteCookie ROUTEID"),
    ("GWELBRouteSeparator", "GWELBRouteSeparator ~"),
    ("GWELBStickyForce", "GWELBStickyForce On"),
    ("GWELBCookieFromParam", "GWELBCookieFromParam Off"),
]

REFUSED = [
    # (case, configuration body, regexes the message must match)
]
for _name, _line in ALL_DIRECTIVES:
    REFUSED += [
        ("%s in the main server" % _name, _line + "\n" + proxy(""),
         [_name, r"(?i)proxy"]),
        ("%s in a VirtualHost" % _name,
         "<VirtualHost 127.0.0.1:9>\n%s\n</VirtualHost>\n" % _line,
         [_name, r"(?i)proxy"]),
        ("%s in a Location" % _name,
         '<Location "/x">\n%s\n</Location>\n' % _line, [_name, r"(?i)proxy"]),
        ("%s in a Proxy section that is not a balancer" % _name,
         '<Proxy "http://127.0.0.1:9/">\n%s\n</Proxy>\n' % _line,
         [_name, r"(?i)balancer"]),
    ]

REFUSED += [
    ("unknown attribute", proxy("GWELBRouteCookie ROUTEID colour=blue"),
     ["GWELBRouteCookie", "colour"]),
    ("attribute without value", proxy("GWELBRouteCookie ROUTEID secure"),
     ["GWELBRouteCookie", "secure"]),
    ("bad secure", proxy("GWELBRouteCookie ROUTEID secure=maybe"),
     ["GWELBRouteCookie", "secure", "maybe"]),
    ("bad httponly", proxy("GWELBRouteCookie ROUTEID httponly=yes"),
     ["GWELBRouteCookie", "httponly"]),
    ("bad samesite", proxy("GWELBRouteCookie ROUTEID samesite=Sloppy"),
     ["GWELBRouteCookie", "(?i)samesite"]),
    ("max-age 0", proxy("GWELBRouteCookie ROUTEID max-age=0"),
     ["GWELBRouteCookie", "(?i)max-age"]),
    ("negative max-age", proxy("GWELBRouteCookie ROUTEID max-age=-5"),
     ["GWELBRouteCookie", "(?i)max-age"]),
    ("max-age not a number", proxy("GWELBRouteCookie ROUTEID max-age=1h"),
     ["GWELBRouteCookie", "(?i)max-age"]),
    ("bad partitioned", proxy("GWELBRouteCookie ROUTEID partitioned=maybe"),
     ["GWELBRouteCookie", "partitioned"]),
    ("relative path", proxy("GWELBRouteCookie ROUTEID path=backend"),
     ["GWELBRouteCookie", "path"]),
    ("bad domain", proxy('GWELBRouteCookie ROUTEID "domain=a b;c"'),
     ["GWELBRouteCookie", "domain"]),
    ("cookie name missing", proxy("GWELBRouteCookie path=/"),
     ["GWELBRouteCookie"]),
    ("cookie name not a token", proxy('GWELBRouteCookie "ROUTE;ID"'),
     ["GWELBRouteCookie"]),
    ("attribute given twice with different values",
     proxy("GWELBRouteCookie ROUTEID path=/a path=/b"),
     ["GWELBRouteCookie", "path"]),
    ("samesite=None with secure=off",
     proxy("GWELBRouteCookie ROUTEID samesite=None secure=off"),
     ["GWELBRouteCookie", "(?i)samesite", "secure"]),
    ("partitioned=on with secure=off",
     proxy("GWELBRouteCookie ROUTEID partitioned=on secure=off"),
     ["GWELBRouteCookie", "partitioned", "secure"]),
    ("separator of two characters", proxy("GWELBRouteSeparator .."),
     ["GWELBRouteSeparator"]),
    ("empty separator", proxy('GWELBRouteSeparator ""'),
     ["GWELBRouteSeparator"]),
    ("separator ;", proxy('GWELBRouteSeparator ";"'), ["GWELBRouteSeparator"]),
    ("separator =", proxy("GWELBRouteSeparator ="), ["GWELBRouteSeparator"]),
    ("separator &", proxy("GWELBRouteSeparator &"), ["GWELBRouteSeparator"]),
    ("bad StickyForce", proxy("GWELBStickyForce maybe"),
     ["GWELBStickyForce"]),
    ("bad CookieFromParam", proxy("GWELBCookieFromParam maybe"),
     ["GWELBCookieFromParam"]),
    ("StickyParam without name", proxy("GWELBStickyParam"),
     ["GWELBStickyParam"]),
    ("StickyParam twice, different names",
     proxy("GWELBStickyParam alias\n    GWELBStickyParam other"),
     ["GWELBStickyParam"]),
    ("RouteCookie twice, different names",
     proxy("GWELBRouteCookie A\n    GWELBRouteCookie B"),
     ["GWELBRouteCookie"]),
    ("RouteCookie twice, different attributes",
     proxy("GWELBRouteCookie A path=/x\n    GWELBRouteCookie A path=/y"),
     ["GWELBRouteCookie"]),
    ("Separator twice, different values",
     proxy("GWELBRouteSeparator .\n    GWELBRouteSeparator ~"),
     ["GWELBRouteSeparator"]),
    ("StickyForce twice, different values",
     proxy("GWELBStickyForce On\n    GWELBStickyForce Off"),
     ["GWELBStickyForce"]),
    ("CookieFromParam twice, different values",
     proxy("GWELBCookieFromParam On\n    GWELBCookieFromParam Off"),
     ["GWELBCookieFromParam"]),
    ("same balancer, two sections, different values",
     proxy("GWELBRouteCookie A") +
     '<Proxy "balancer://b">\n    GWELBRouteCookie B\n</Proxy>\n',
     ["GWELBRouteCookie"]),
    ("stickysession set by ProxySet",
     proxy("GWELBRouteCookie ROUTEID\n    ProxySet stickysession=JSESSIONID"),
     ["(?i)stickysession"]),
    ("stickysession set on ProxyPass",
     '<Proxy "balancer://b">%s    GWELBStickyParam alias\n</Proxy>\n'
     'ProxyPass "/b/" "balancer://b/" stickysession=JSESSIONID\n' % MEMBERS,
     ["(?i)stickysession"]),
]

ACCEPTED = [
    ("every directive with every attribute", proxy("""
    GWELBStickyParam alias gweSession
    GWELBRouteCookie ROUTEID path=/backend domain=example.com secure=on httponly=off samesite=None max-age=600 partitioned=on
    GWELBRouteSeparator .
    GWELBStickyForce Off
    GWELBCookieFromParam On""")),
    ("attribute keys in any case",
     proxy("GWELBRouteCookie ROUTEID PATH=/ SameSite=lax SECURE=auto")),
    ("samesite=None with secure=auto",
     proxy("GWELBRouteCookie ROUTEID samesite=None partitioned=on")),
    ("directive repeated with the same value", proxy(
        "GWELBRouteCookie A path=/x\n    GWELBRouteCookie A path=/x\n"
        "    GWELBRouteSeparator ~\n    GWELBRouteSeparator ~")),
    ("quoted balancer name", '<Proxy balancer://b>%s    GWELBStickyParam a\n'
     '</Proxy>\nProxyPass "/b/" "balancer://b/"\n' % MEMBERS),
    ("balancer without GWELB directives keeps stickysession",
     proxy("ProxySet stickysession=JSESSIONID")),
    ("GWELB in a VirtualHost's balancer",
     "<VirtualHost 127.0.0.1:9>\n" + proxy("GWELBRouteCookie V") +
     "</VirtualHost>\n"),
]


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("conferr") as e:
        yield e


@pytest.mark.parametrize("case,body,patterns", REFUSED,
                         ids=[c[0] for c in REFUSED])
def test_refused_at_start_up(env, case, body, patterns):
    started = env.start(body, expect_fail=True)
    assert not started.ok
    for p in patterns:
        assert re.search(p, started.output), \
            "message does not match %r:\n%s" % (p, started.output)


@pytest.mark.parametrize("case,body", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_accepted(env, case, body):
    ok, output = env.configtest(body)
    assert ok, output
    env.start(body)
    env.stop()
