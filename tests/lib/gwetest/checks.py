# SPDX-License-Identifier: Apache-2.0
"""Assertions shared by the suites (plain functions, usable with pytest)."""
from .client import parse_set_cookie


def assert_all(names, member, what=""):
    """Every request was answered by `member`."""
    assert names and all(n == member for n in names), \
        "%sexpected every request at %s, got %s" % (
            what + ": " if what else "", member, names)


def route_cookies(resp, name):
    """The Set-Cookie lines of `resp` that set cookie `name`, parsed."""
    out = []
    for line in resp.set_cookies:
        parsed = parse_set_cookie(line)
        if parsed[0] == name:
            out.append(parsed)
    return out


def one_route_cookie(resp, name, value=None):
    """Exactly one Set-Cookie for `name` (with `value` if given); returns
    its attribute dict."""
    found = route_cookies(resp, name)
    assert len(found) == 1, "expected one Set-Cookie %s, got %s" % (
        name, resp.set_cookies)
    if value is not None:
        assert found[0][1] == value, "Set-Cookie %s=%s, expected %s" % (
            name, found[0][1], value)
    return found[0][2]


def no_route_cookie(resp, name):
    found = route_cookies(resp, name)
    assert not found, "expected no Set-Cookie %s, got %s" % (
        name, resp.set_cookies)


def unset(value):
    """An environment variable that is not set (access log "-") or empty."""
    return value in ("-", "", None)
