# SPDX-License-Identifier: Apache-2.0
"""One small driver interface over the browser engines of the suite.

    b = open_browser("firefox", site, url, cookies="block-all")
    b.page.eval("gwe.calls(...)", timeout=60)   # run script, await it
    b.page.goto(url)                            # open a URL, wait loaded
    b.cookies()                                 # the profile's cookies
    b.version, b.close()

A wait for a condition is a page.eval of a promise with a timeout.  The
cookie policies (`cookies`):

    default            the engine's own default
    allow-all          every cookie stored, third-party ones too
    block-third-party  third-party cookies refused
    block-all          no cookie stored
    itp                WebKitGTK only: its default with Intelligent
                       Tracking Prevention on
    itp-allow-all      WebKitGTK only: allow-all with ITP on

Chromium (chromium.py, DevTools over a pipe) maps them to its profile
preference and switches; Firefox ESR (firefox.py, WebDriver BiDi) to
network.cookie.cookieBehavior; WebKitGTK (webkit.py, WebKitWebDriver with
selenium) to MiniBrowser's --cookies-policy and --enable-itp.
"""
from chromium import Chromium
from firefox import Firefox
from shopsite import HOSTS
from webkit import WebKit

ENGINES = ("chromium", "firefox", "webkit")

CHROMIUM_POLICY = {
    "default": {},
    "allow-all": {"prefs": {"profile": {"cookie_controls_mode": 0}}},
    "block-third-party": {"block_third_party_cookies": True},
    "block-all": {"block_all_cookies": True},
}


def open_browser(engine, site, url, cookies="default"):
    """A started browser of `engine` with a fresh profile that trusts the
    site's certificate and resolves its hosts, on url."""
    if engine == "chromium":
        b = Chromium(url=url, spki=site.spki, **CHROMIUM_POLICY[cookies])
    elif engine == "firefox":
        b = Firefox(url=url, cookies=cookies, hosts=HOSTS)
    elif engine == "webkit":
        b = WebKit(url=url, cookies=cookies, hosts=HOSTS)
    else:
        raise ValueError("unknown engine %r" % engine)
    return b.start()


# ---- the engine matrix (issue 14, README 8) -------------------------------
# Each cell: one engine, one row (setup and cookie policy), one recipe; the
# page makes CALLS sequential credentialed calls to a balancer of the
# cell's own (two members, byrequests) and the cell is how many distinct
# members answered: 1 sticky, 2 lost.  The rows of one policy share one
# fresh browser; every cookie is named after its row and recipe, so no
# cell sees another's.

CALLS = 8
XS_ATTRS = " secure=on samesite=None partitioned=on"
XS_STOCK = "; SameSite=None; Secure; Partitioned"

# key: (setup, cookie policy, title, stock attributes, GWELBRouteCookie's)
ROWS = {
    "fp": ("first-party", "default", "first-party, defaults", "", ""),
    "ss": ("same-site", "default", "same-site, defaults", "", ""),
    "ssall": ("same-site", "allow-all", "same-site, all cookies allowed",
              "", ""),
    "xspart": ("cross-site", "default", "cross-site, partitioned (1)",
               XS_STOCK, XS_ATTRS),
    "xsall": ("cross-site", "allow-all", "cross-site, partitioned, all "
              "allowed", XS_STOCK, XS_ATTRS),
    "xs3pc": ("cross-site", "block-third-party", "cross-site, partitioned, "
              "3rd-party blocked", XS_STOCK, XS_ATTRS),
    "block": ("same-site", "block-all", "same-site, all cookies blocked",
              "", ""),
    # WebKitGTK only (only EXPECTED["webkit"] has them): MiniBrowser with
    # --enable-itp, Safari's Intelligent Tracking Prevention
    "ssitpall": ("same-site", "itp-allow-all", "same-site, ITP, all allowed",
                 "", ""),
    "xsitp": ("cross-site", "itp", "cross-site, partitioned, ITP on",
              XS_STOCK, XS_ATTRS),
    "xsitpall": ("cross-site", "itp-allow-all", "cross-site, partitioned, "
                 "ITP, all allowed", XS_STOCK, XS_ATTRS),
}
# stock recipe; the module; the module with GWELBFallback client-ip
RECIPES = ("stock", "gwe", "fallback")
POLICIES = ("default", "allow-all", "block-third-party", "block-all", "itp",
            "itp-allow-all")

# make test runs these cells of every engine; make soak (GWE_BROWSER_FULL=1)
# all of them.
SMOKE = (("ss", "gwe"), ("xspart", "gwe"), ("block", "fallback"))

# Distinct members per cell as measured (this file is what README 8's
# engine tables say): EXPECTED[engine][row] = (stock, gwe, fallback).
EXPECTED = {
    "chromium": {"fp": (1, 1, 1), "ss": (1, 1, 1), "ssall": (1, 1, 1),
                 "xspart": (1, 1, 1), "xsall": (1, 1, 1),
                 "xs3pc": (1, 1, 1), "block": (2, 2, 1)},
    # cookieBehavior 1 refuses a third-party cookie even when Partitioned
    "firefox": {"fp": (1, 1, 1), "ss": (1, 1, 1), "ssall": (1, 1, 1),
                "xspart": (1, 1, 1), "xsall": (1, 1, 1),
                "xs3pc": (2, 2, 1), "block": (2, 2, 1)},
    # MiniBrowser's default policy is no-third-party, and it counts the
    # sibling host www.shop.test -> gwe.shop.test as third-party too;
    # "always" keeps both.  ITP refuses the cross-site cookie, Partitioned
    # as it is, even with "always", and keeps the sibling's.
    "webkit": {"fp": (1, 1, 1), "ss": (2, 2, 1), "ssall": (1, 1, 1),
               "xspart": (2, 2, 1), "xsall": (1, 1, 1),
               "xs3pc": (2, 2, 1), "block": (2, 2, 1),
               "ssitpall": (1, 1, 1), "xsitp": (2, 2, 1),
               "xsitpall": (2, 2, 1)},
}

# The protocol (%H) every call of an engine used, as measured: the load
# balancer offers h2 and http/1.1, and every engine takes h2 (WebKitGTK's
# libsoup only since webkit.py resolves the test hosts with nss_wrapper
# instead of a CONNECT proxy: libsoup offers h2 only without an HTTP
# proxy, README 8.1).
PROTOCOL = {"chromium": "HTTP/2.0", "firefox": "HTTP/2.0",
            "webkit": "HTTP/2.0"}


def balancer_name(engine, row, recipe):
    return "e-%s-%s-%s" % (engine, row, recipe)


def cookie_name(row, recipe):
    return "RID_%s_%s" % (row, recipe)


def balancers():
    """One balancer per (engine, row, recipe); all share members em1, em2."""
    from shopsite import Balancer
    out = []
    for engine in ENGINES:
        for row, (_, _, _, stock_attrs, gwe_attrs) in ROWS.items():
            if row not in EXPECTED[engine]:
                continue
            name = {r: balancer_name(engine, row, r) for r in RECIPES}
            cookie = "GWELBRouteCookie %s%s"
            out += [
                Balancer(name["stock"], members=["em1", "em2"],
                         stock=(cookie_name(row, "stock"), stock_attrs)),
                Balancer(name["gwe"], members=["em1", "em2"],
                         gwe=cookie % (cookie_name(row, "gwe"), gwe_attrs)),
                Balancer(name["fallback"], members=["em1", "em2"],
                         gwe=[cookie % (cookie_name(row, "fallback"),
                                        gwe_attrs),
                              "GWELBFallback client-ip"]),
            ]
        out.append(Balancer("ws-" + engine, gwe="GWELBRouteCookie ROUTEID",
                            member="upgrade=websocket"))
    return out


def cells_of(engine, policy, full):
    """The (row, recipe) cells measured in the browser of `engine` with
    cookie policy `policy`."""
    return [(row, recipe) for row, r in ROWS.items()
            if r[1] == policy and row in EXPECTED[engine]
            for recipe in RECIPES if full or (row, recipe) in SMOKE]


# The engines' titles in README 8.1.
TITLES = {"chromium": "Chromium 156 (DevTools protocol)",
          "firefox": "Firefox ESR 153 (WebDriver BiDi)",
          "webkit": "WebKitGTK 2.50, MiniBrowser (WebDriver classic)"}


def render(expected=None):
    """README 8.1's tables: per engine, distinct members of each row for
    the stock recipe, the module, and the module with fallback."""
    expected = expected or EXPECTED
    lines = []
    for engine in ENGINES:
        lines += ["  %s, calls over %s" % (TITLES[engine], PROTOCOL[engine]),
                  "    %-44s stock  gwe  fallback" % "page -> load balancer"]
        for row, (_, _, title, _, _) in ROWS.items():
            if row not in expected[engine]:
                continue
            cells = expected[engine][row]
            lines.append("    %-44s %3d   %3d   %3d" % (
                title, cells[0], cells[1], cells[2]))
        lines.append("")
    return "\n".join(lines)
