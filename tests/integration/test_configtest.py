"""README 7.1, 7.3, 7.8: every configuration the module refuses at start-up
is refused by `apache2 -t` too, with the same message naming the directive
or the problem, the configuration file and a line of the offending
section; all module errors of one configuration are reported together; and
`apachectl configtest && apachectl graceful` never stops a running server.
"""
import re

import pytest

from gwetest import BASE_MODULES, HttpdEnv
from gwetest.checks import one_route_cookie
from gwetest.configs import (assert_names_file_and_line,
                             assert_refused_by_configtest_and_start,
                             message_line, message_text)


def balancer(name, members, *lines, path=None):
    """A <Proxy "balancer://NAME"> section (members: [(route, url)]) and its
    ProxyPass /NAME/."""
    body = ['<Proxy "balancer://%s">' % name]
    body += ['    BalancerMember "%s" route=%s' % (url, route)
             for route, url in members]
    body += ["    " + line for line in lines]
    body.append("</Proxy>")
    body.append('ProxyPass "%s" "balancer://%s/"' % (path or "/%s/" % name,
                                                    name))
    return "\n".join(body) + "\n"


M1, M2 = "http://127.0.0.1:9", "http://127.0.0.1:10"  # never contacted

NO_BALANCER_MODULES = tuple(m for m in BASE_MODULES if m != "proxy_balancer")

# case: (body, base_modules, [(regex the message matches, balancer whose
#        <Proxy> section the message's line must be in)])
BAD = {
    "stickysession= with GWELBRouteCookie": (
        balancer("b", [("R1", M1)], "GWELBRouteCookie ROUTEID",
                 "ProxySet stickysession=JSESSIONID"),
        BASE_MODULES,
        [(r"stickysession.*(GWELBRouteCookie|GWELBStickyParam)", "b")]),
    "GWELB balancer without BalancerMember": (
        '<Proxy "balancer://b">\n    GWELBRouteCookie ROUTEID\n</Proxy>\n'
        'ProxyPass "/b/" "balancer://b/"\n',
        BASE_MODULES,
        [(r"BalancerMember", "b")]),
    "GWELBRouteSeparator without StickyParam or RouteCookie": (
        balancer("b", [("R1", M1)], "GWELBRouteSeparator -"),
        BASE_MODULES,
        [(r"GWELBRouteSeparator.*(GWELBStickyParam|GWELBRouteCookie)",
          "b")]),
    "GWELB directives over two <Proxy> sections": (
        balancer("b", [("R1", M1)], "GWELBRouteCookie ROUTEID") +
        '<Proxy "balancer://b">\n    GWELBStickyParam alias\n</Proxy>\n',
        BASE_MODULES,
        [(r"(?i)(two|more than one) <Proxy> sections", "b")]),
    "mod_gwe_lb without mod_proxy_balancer": (
        balancer("b", [("R1", M1)], "GWELBRouteCookie ROUTEID"),
        NO_BALANCER_MODULES,
        [(r"mod_proxy_balancer", "b")]),
    "two balancers of one vhost share cookie name, path and domain": (
        balancer("b", [("R1", M1)],
                 "GWELBRouteCookie ROUTEID path=/ domain=example.com") +
        balancer("c", [("R2", M2)],
                 "GWELBRouteCookie ROUTEID domain=example.com path=/"),
        BASE_MODULES,
        [(r"GWELBRouteCookie ROUTEID.*(?i:same name, path and domain)",
          "bc")]),
    "two balancers of a VirtualHost share cookie name, path and domain": (
        "<VirtualHost 127.0.0.1:9>\n" +
        balancer("b", [("R1", M1)], "GWELBRouteCookie ROUTEID path=/x/") +
        balancer("c", [("R2", M2)], "GWELBRouteCookie ROUTEID path=/x/") +
        "</VirtualHost>\n",
        BASE_MODULES,
        [(r"GWELBRouteCookie ROUTEID.*(?i:same name, path and domain)",
          "bc")]),
}


@pytest.mark.parametrize("case", list(BAD))
def test_configtest_refuses_what_start_refuses_with_file_and_line(case):
    """README 7.1: `apache2 -t` refuses the configuration with a message
    naming the problem, the file and the line; `apache2 -k start` refuses
    it with the same message."""
    body, modules, expected = BAD[case]
    with HttpdEnv("configtest", base_modules=modules) as e:
        assert_refused_by_configtest_and_start(e, body, expected)


STOCK = {
    "stickysession=": ("GWELBRouteCookie ROUTEID",
                       "ProxySet stickysession=JSESSIONID",
                       r"stickysession.*(GWELBStickyParam|GWELBRouteCookie)"),
    "stickysessionsep=": ("GWELBRouteCookie ROUTEID",
                          "ProxySet stickysessionsep=-",
                          r"stickysessionsep.*GWELBRouteSeparator"),
    "scolonpathdelim=": ("GWELBStickyParam alias",
                         "ProxySet scolonpathdelim=On",
                         r"scolonpathdelim.*GWELBStickyParam"),
}


@pytest.mark.parametrize("param", list(STOCK))
def test_stock_stickiness_parameter_is_refused_naming_the_gwelb_directive(
        param):
    """README 7.3: on a GWELB balancer a stock stickiness parameter that
    would read the route a second way is refused at start-up and by -t,
    with a message naming the GWELB directive to use."""
    gwelb, stock, regex = STOCK[param]
    body = balancer("b", [("R1", M1)], gwelb, stock)
    with HttpdEnv("stock-param") as e:
        ok, out = e.configtest(body)
        assert not ok, "apache2 -t accepted %s:\n%s" % (param, out)
        line = message_line(out, regex)
        assert_names_file_and_line(e, line, "b")
        started = e.start(body, expect_fail=True)
        assert not started.ok
        assert message_text(line) in started.output, started.output


def test_all_module_errors_of_one_configuration_are_reported_together():
    """README 7.1: three balancers, each with a different problem: -t and
    a start report all three, not only the first."""
    body = (balancer("b", [("R1", M1)], "GWELBRouteCookie ROUTEID",
                     "ProxySet stickysession=JSESSIONID") +
            balancer("c", [("R2", M2)], "GWELBRouteSeparator -") +
            balancer("d", [("R3", M1)], "GWELBStickyParam alias",
                     "ProxySet scolonpathdelim=On"))
    regexes = [(r"stickysession=", "b"),
               (r"GWELBRouteSeparator.*(GWELBStickyParam|GWELBRouteCookie)",
                "c"),
               (r"scolonpathdelim", "d")]
    with HttpdEnv("configtest-all") as e:
        ok, out = e.configtest(body)
        assert not ok
        lines = [message_line(out, regex) for regex, _ in regexes]
        for line, (_, names) in zip(lines, regexes):
            assert_names_file_and_line(e, line, names)
        started = e.start(body, expect_fail=True)
        assert not started.ok
        for line in lines:
            assert message_text(line) in started.output, started.output


def test_two_balancers_may_share_a_cookie_name_on_other_paths_or_domains():
    """README 7.8, the other side: only name, path and domain together
    clash; another path or another domain is a valid configuration."""
    for other in ("GWELBRouteCookie ROUTEID path=/c/",
                  "GWELBRouteCookie ROUTEID domain=other.example"):
        body = (balancer("b", [("R1", M1)], "GWELBRouteCookie ROUTEID") +
                balancer("c", [("R2", M2)], other))
        with HttpdEnv("cookie-paths") as e:
            ok, out = e.configtest(body)
            assert ok, "%s refused:\n%s" % (other, out)


@pytest.fixture(scope="module")
def urls():
    with HttpdEnv("configtest-members") as e:
        yield {n: e.member(n).url for n in ("m1", "m2")}


def test_configtest_refuses_a_bad_rewrite_of_a_running_server(urls):
    """README 7.1: a running server's configuration rewritten into each bad
    one: configtest refuses every one of them (so the admin's
    `configtest && graceful` never restarts into it) and the server keeps
    serving."""
    good = balancer("b", [("R1", urls["m1"])], "GWELBRouteCookie ROUTEID")
    with HttpdEnv("graceful-bad") as e:
        e.start(good)
        for case, (body, modules, expected) in BAD.items():
            if modules != BASE_MODULES:
                continue
            ok, out = e.configtest(body)
            assert not ok, "%s: configtest accepted it:\n%s" % (case, out)
            for regex, _ in expected:
                message_line(out, regex)
        e.write_config(good)
        r = e.get("/b/x")
        assert r.status == 200 and r.member == "m1"
        one_route_cookie(r, "ROUTEID", ".R1")


def accepted_configs(u):
    """Configurations -t accepts, each touching another start-up check."""
    return [
        ("a stock balancer becomes GWELB",
         balancer("b", [("R1", u["m1"]), ("R2", u["m2"])],
                  "GWELBRouteCookie ROUTEID", "GWELBStickyParam alias"),
         "/b/x?alias=.R2", "m2"),
        ("nofailover=On with GWELBStickyForce On",
         balancer("b", [("R1", u["m1"]), ("R2", u["m2"])],
                  "GWELBRouteCookie ROUTEID", "GWELBStickyForce On",
                  "ProxySet nofailover=On"),
         "/b/x?x=1", None),
        ("two balancers of the same routes share a cookie",
         balancer("b", [("R1", u["m1"]), ("R2", u["m2"])],
                  "GWELBRouteCookie ROUTEID") +
         balancer("c", [("R1", u["m1"]), ("R2", u["m2"])],
                  "GWELBRouteCookie ROUTEID"),
         "/c/x", None),
        ("a member less, a vhost with BalancerInherit Off",
         balancer("b", [("R2", u["m2"])], "GWELBRouteCookie ROUTEID") +
         "<VirtualHost 127.0.0.1:9>\n    ServerName v.test\n"
         "    BalancerInherit Off\n    ProxyPassInherit Off\n"
         "</VirtualHost>\n",
         "/b/x", "m2"),
        ("GWELB directives removed again",
         balancer("b", [("R1", u["m1"])]), "/b/x", "m1"),
    ]


def test_graceful_restart_into_a_configuration_configtest_accepted_never_stops_the_server(urls):  # noqa: E501
    """README 7.1: `apachectl configtest && apachectl graceful`, several
    times in a row, each time into another accepted configuration: the
    server stays up and serves the new configuration."""
    with HttpdEnv("graceful-good") as e:
        e.start(balancer("b", [("R1", urls["m1"])]))
        pid = e.pid
        for case, body, target, member in accepted_configs(urls):
            ok, out = e.configtest(body)
            assert ok, "%s: configtest refused it:\n%s" % (case, out)
            e.restart(graceful=True)  # raises when the server stopped
            assert e.pid == pid
            r = e.get(target)
            assert r.status == 200, "%s: %s" % (case, r)
            if member:
                assert r.member == member, case
