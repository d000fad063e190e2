# SPDX-License-Identifier: Apache-2.0
"""The README's table: stock recipe vs mod_gwe_lb, per deployment.

For each third-party-cookie mode of Chromium, each setup (where the page
is, where the load balancer is, which cookie attributes) and each recipe,
the page makes 8 sequential credentialed fetch() calls to a balancer of
its own with two members; the cell is how many distinct members answered
(1: the visitor kept their member; 2: lost, the calls went round-robin).
The rows of one mode share one fresh Chromium profile; each row's cookie
has a name of its own (RID_<row>_<recipe>) so no row sees another's
cookie, and each row has a balancer of its own so the round-robin of a
lost row is exact.

tests/browser/test_cookie_table.py measures and asserts EXPECTED and
leaves the measured cells in build/browser/table-<mode>.json;
`python3 tests/browser/cookietable.py [DIR]` prints the table from them.
"""
import json
import sys
from pathlib import Path

CALLS = 8

# Chromium's third-party-cookie modes: (column title, Chromium kwargs).
# Preference profile.cookie_controls_mode 0 is the user's choice "Allow
# third-party cookies"; a new profile of Chromium 156 blocks them.
MODES = {
    "3pc-allowed": ("third-party cookies allowed (user setting)",
                    {"prefs": {"profile": {"cookie_controls_mode": 0}}}),
    "default": ("default profile", {}),
    "3pc-blocked": ("third-party cookies blocked "
                    "(--test-third-party-cookie-phaseout)",
                    {"block_third_party_cookies": True}),
}

# key, setup, title, stock recipe's extra attributes, GWELBRouteCookie's
ROWS = (
    ("fp", "first-party", "first-party: page on gwe.shop.test, defaults",
     "", ""),
    ("ss", "same-site", "same-site: www.shop.test -> gwe.shop.test, "
     "defaults", "", ""),
    ("xsdef", "cross-site", "cross-site: shop.test -> gwe.test, defaults",
     "", ""),
    ("xsnone", "cross-site", "cross-site, SameSite=None; Secure",
     "; SameSite=None; Secure", " secure=on samesite=None"),
    ("xspart", "cross-site", "cross-site, SameSite=None; Secure; "
     "Partitioned", "; SameSite=None; Secure; Partitioned",
     " secure=on samesite=None partitioned=on"),
)
RECIPES = ("stock", "gwe")

# Distinct members among the 8 calls, measured with Chromium 156 headless:
# EXPECTED[mode][row] = (stock recipe, mod_gwe_lb).
_LOST_CROSS_SITE = {"fp": (1, 1), "ss": (1, 1), "xsdef": (2, 2),
                    "xsnone": (2, 2), "xspart": (1, 1)}
EXPECTED = {
    "3pc-allowed": dict(_LOST_CROSS_SITE, xsnone=(1, 1)),
    "default": dict(_LOST_CROSS_SITE),
    "3pc-blocked": dict(_LOST_CROSS_SITE),
}


def balancer_name(mode, row, recipe):
    return "t-%s-%s-%s" % (mode, row, recipe)


def cookie_name(row, recipe):
    return "RID_%s_%s" % (row, recipe)


def balancers():
    """One balancer per (mode, row, recipe); all share members tm1, tm2."""
    from shopsite import Balancer
    out = []
    for mode in MODES:
        for row, _, _, stock_attrs, gwe_attrs in ROWS:
            out.append(Balancer(
                balancer_name(mode, row, "stock"), members=["tm1", "tm2"],
                stock=(cookie_name(row, "stock"), stock_attrs)))
            out.append(Balancer(
                balancer_name(mode, row, "gwe"), members=["tm1", "tm2"],
                gwe="GWELBRouteCookie %s%s" % (cookie_name(row, "gwe"),
                                               gwe_attrs)))
    return out


def measure(site, browser, mode):
    """Run every row of `mode` in `browser`; {row: {recipe: answers}}."""
    out = {}
    page = browser.page
    for row, setup, _, _, _ in ROWS:
        if page.eval("location.href", await_promise=False) != \
                site.page(setup):
            page.goto(site.page(setup))
        out[row] = {}
        for recipe in RECIPES:
            url = site.lb(setup, balancer_name(mode, row, recipe))
            out[row][recipe] = page.eval(
                "gwe.calls(%s, %d)" % (json.dumps(url), CALLS), timeout=60)
    return out


def distinct(answers):
    return len({a.get("member") for a in answers})


def cells(measured):
    """{row: (stock distinct, gwe distinct)} of a measure() result."""
    return {row: tuple(distinct(measured[row][r]) for r in RECIPES)
            for row in measured}


def _cell(n):
    return "%d (%s)" % (n, "sticky" if n == 1 else "lost")


def render(results):
    """The table as text, from {mode: {row: (stock, gwe)}}."""
    lines = []
    for mode, (title, _) in MODES.items():
        if mode not in results:
            continue
        lines.append("Chromium, %s: distinct members for %d calls "
                     "(stock recipe | mod_gwe_lb)" % (title, CALLS))
        for row, _, row_title, _, _ in ROWS:
            stock, gwe = results[mode][row]
            lines.append("  %-58s %-11s | %s" % (row_title, _cell(stock),
                                                  _cell(gwe)))
        lines.append("")
    return "\n".join(lines)


def load(directory):
    results = {}
    for mode in MODES:
        p = Path(directory) / ("table-%s.json" % mode)
        if p.exists():
            data = json.loads(p.read_text())
            results[mode] = {row: tuple(v) for row, v in
                             data["cells"].items()}
            results.setdefault("_version", data.get("chromium"))
    return results


if __name__ == "__main__":
    d = sys.argv[1] if len(sys.argv) > 1 else "build/browser"
    res = load(d)
    version = res.pop("_version", None)
    if not res:
        sys.exit("no measured table in %s: run tests/browser/run.sh" % d)
    print("measured with %s\n" % version)
    print(render(res))
