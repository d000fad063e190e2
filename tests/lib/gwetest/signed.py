# SPDX-License-Identifier: Apache-2.0
"""The signed route cookie of README 4.8, built and read in Python: the
tests' own oracle (hmac, hashlib), so a test can date a value in the past
or the future without waiting.

    write_key(path, data=None)           a key file, 32 random bytes, mode 600
    key_id(key)                          the 2 characters naming a key
    build(key, cookie, balancer, route, issued, refreshed=None) -> value
    decode(value) -> Signed(key_id, issued, refreshed, route)
    start_with_key(env, conf)            start on conf with a new key, env.key
"""
import base64
import collections
import hashlib
import hmac
import os
import re

# The constants README 4.8 and sticky.h state for version 1 values.
_LABEL = b"mod_gwe_lb route cookie\0"
_KEY_ID_LABEL = b"mod_gwe_lb key id\0"
_B64 = ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        "0123456789-_")
_VALUE_RE = re.compile(r"^g1([\w-]{2})([\w-]{6})([\w-]{6})\.(.+)\.[\w-]{22}$")

Signed = collections.namedtuple("Signed", "key_id issued refreshed route")


def write_key(path, data=None):
    """A key file at path (os.urandom(32) unless data), readable by its
    owner only; returns the path."""
    path.write_bytes(os.urandom(32) if data is None else data)
    path.chmod(0o600)
    return path


def _b64(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def key_id(key):
    """The id a value signed by key carries: the first 12 bits of
    HMAC-SHA256 of a fixed label under the key."""
    return _b64(hmac.new(key, _KEY_ID_LABEL, hashlib.sha256).digest()[:3])[:2]


def _time(t):
    return "".join(_B64[(t >> s) & 63] for s in range(30, -1, -6))


def build(key, cookie, balancer, route, issued, refreshed=None):
    """The value the module would write for route (plain cookie-octets
    only), signed with key for that cookie name and balancer."""
    assert re.match(r"^[\w-]+$", route), "only plain routes: %r" % route
    signed = "g1%s%s%s.%s" % (key_id(key), _time(issued),
                              _time(issued if refreshed is None
                                    else refreshed), route)
    scope = _LABEL
    for name in (cookie, balancer):
        scope += len(name).to_bytes(8, "big") + name.encode()
    # the balancer's key: derived from the key for the two names
    derived = hmac.new(key, scope, hashlib.sha256).digest()
    mac = hmac.new(derived, signed.encode(), hashlib.sha256).digest()
    return "%s.%s" % (signed, _b64(mac[:16]))


def decode(value):
    """The fields of a signed value (the MAC is not checked)."""
    m = _VALUE_RE.match(value)
    assert m, "not a signed value: %r" % value

    def t(s):
        n = 0
        for c in s:
            n = n << 6 | _B64.index(c)
        return n
    return Signed(m[1], t(m[2]), t(m[3]), m[4])


def start_with_key(env, conf):
    """Start env on conf, a configuration with {a} and {b} (members a and
    b) and {key} (a new key file, whose bytes become env.key)."""
    path = write_key(env.dir / "gwelb.key")
    env.key = path.read_bytes()
    env.start(conf.format(a=env.member("a").url, b=env.member("b").url,
                          key=path))
