# SPDX-License-Identifier: Apache-2.0
"""README 3 and 4.8: the start-up refusals of GWELBCookieKey and of the
attributes that need or exclude it, in `apache2 -t` as at start, each
with its GWELB000NN id, the file and the line."""
import pytest

from gwetest import HttpdEnv, signed
from gwetest.configs import assert_refused_by_configtest_and_start, proxy

# case: (directives of balancer b, the key file to make (name, bytes,
#        mode) or None, regex of the message)
REFUSED = {
    "key without GWELBRouteCookie": (
        "GWELBStickyParam alias\n    GWELBCookieKey {dir}/k", ("k", 32, 0o600),
        r"GWELB00020: GWELBCookieKey .*GWELBRouteCookie"),
    "maxidle without a key": (
        "GWELBRouteCookie R maxidle=600", None,
        r"GWELB00021: .*maxidle needs GWELBCookieKey"),
    "maxlife without a key": (
        "GWELBRouteCookie R maxlife=600", None,
        r"GWELB00021: .*maxlife needs GWELBCookieKey"),
    "issue=off with a key": (
        "GWELBRouteCookie R issue=off\n    GWELBCookieKey {dir}/k",
        ("k", 32, 0o600),
        r"GWELB00021: .*issue=off cannot be combined with GWELBCookieKey"),
    "issue=off with maxidle": (
        "GWELBRouteCookie R issue=off maxidle=600", None,
        r"GWELB00021: .*issue=off cannot be combined with maxidle"),
    "issue=off with maxlife": (
        "GWELBRouteCookie R issue=off maxlife=600", None,
        r"GWELB00021: .*issue=off cannot be combined with maxlife"),
    "key file missing": (
        "GWELBRouteCookie R\n    GWELBCookieKey {dir}/none", None,
        r"GWELB00022: GWELBCookieKey \S+/none cannot be read"),
    "key file a directory": (
        "GWELBRouteCookie R\n    GWELBCookieKey {dir}", None,
        r"GWELB00022: GWELBCookieKey \S+ is not a file"),
    "key file group-readable": (
        "GWELBRouteCookie R\n    GWELBCookieKey {dir}/k", ("k", 32, 0o640),
        r"GWELB00022: GWELBCookieKey \S+/k can be read by its group"),
    "key file world-readable": (
        "GWELBRouteCookie R\n    GWELBCookieKey {dir}/k", ("k", 32, 0o604),
        r"GWELB00022: GWELBCookieKey \S+/k can be read by its group or by "
        r"everyone"),
    "key file of 31 bytes": (
        "GWELBRouteCookie R\n    GWELBCookieKey {dir}/k", ("k", 31, 0o600),
        r"GWELB00022: GWELBCookieKey \S+/k holds 31 bytes"),
    "key file of 4097 bytes": (
        "GWELBRouteCookie R\n    GWELBCookieKey {dir}/k", ("k", 4097, 0o600),
        r"GWELB00022: GWELBCookieKey \S+/k holds 4097 bytes"),
}

ACCEPTED = {
    "key file of 32 bytes": ("k", 32), "key file of 4096 bytes": ("k", 4096)}


def make_key(directory, spec):
    """The key file spec (name, size, mode) in directory, if any."""
    if spec:
        name, size, mode = spec
        signed.write_key(directory / name, b"k" * size).chmod(mode)


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_by_configtest_and_at_start(case):
    directives, key, regex = REFUSED[case]
    with HttpdEnv("cookie-keys") as e:
        (e.dir / "keys").mkdir()
        make_key(e.dir / "keys", key)
        body = proxy(directives.format(dir=e.dir / "keys"))
        assert_refused_by_configtest_and_start(e, body, [(regex, "b")])


@pytest.mark.parametrize("case", list(ACCEPTED))
def test_accepted_key_sizes(case):
    name, size = ACCEPTED[case]
    with HttpdEnv("cookie-keys") as e:
        make_key(e.dir, (name, size, 0o600))
        body = proxy("GWELBRouteCookie R\n    GWELBCookieKey %s"
                     % (e.dir / name))
        ok, out = e.configtest(body)
        assert ok, out
        e.start(body)
