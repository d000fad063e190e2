# SPDX-License-Identifier: Apache-2.0
"""README 3: secure=auto follows the request's scheme; over TLS the cookie
gets Secure, SameSite=None and Partitioned (certificate made by the test
with the openssl CLI)."""
import pytest

from gwetest import HttpdEnv, free_port, make_cert
from gwetest.checks import no_route_cookie, one_route_cookie


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("tls", extra_modules=("socache_shmcb", "ssl")) as e:
        cert, key = make_cert(e.dir)
        e.tls_port = free_port()
        m = {n: e.member(n).url for n in ("xs", "lax", "off", "tl1")}
        m.update(tls=e.tls_port, cert=cert, key=key, dir=e.dir)
        e.start("""
SSLSessionCache "shmcb:{dir}/ssl_scache(512000)"

<Proxy "balancer://xs">
    BalancerMember "{xs}" route=XS_1
    BalancerMember "{tl1}" route=TL_1 lbset=1
    GWELBRouteCookie XS secure=auto samesite=None partitioned=on
</Proxy>
ProxyPass "/xs/" "balancer://xs/"

<Proxy "balancer://lax">
    BalancerMember "{lax}" route=LAX_1
    GWELBRouteCookie LX samesite=Lax
</Proxy>
ProxyPass "/lax/" "balancer://lax/"

<Proxy "balancer://off">
    BalancerMember "{off}" route=OFF_1
    GWELBRouteCookie OFFC secure=off samesite=Strict
</Proxy>
ProxyPass "/off/" "balancer://off/"

<VirtualHost 127.0.0.1:{tls}>
    ServerName 127.0.0.1
    SSLEngine on
    SSLCertificateFile "{cert}"
    SSLCertificateKeyFile "{key}"
</VirtualHost>
""".format(**m), listen=["127.0.0.1:%d" % e.tls_port])
        yield e


def test_auto_over_tls_keeps_samesite_none_and_partitioned(env):
    r = env.get("/xs/x", port=env.tls_port, tls=True)
    assert r.status == 200 and r.member == "xs"
    attrs = one_route_cookie(r, "XS", ".XS_1")
    assert attrs == {"path": "/", "httponly": True, "secure": True,
                     "samesite": "None", "partitioned": True}


def test_auto_over_plain_http_drops_them(env):
    attrs = one_route_cookie(env.get("/xs/x"), "XS", ".XS_1")
    assert attrs == {"path": "/", "httponly": True}


def test_auto_over_tls_with_lax(env):
    attrs = one_route_cookie(env.get("/lax/x", port=env.tls_port, tls=True),
                             "LX", ".LAX_1")
    assert attrs == {"path": "/", "httponly": True, "secure": True,
                     "samesite": "Lax"}


def test_secure_off_over_tls(env):
    attrs = one_route_cookie(env.get("/off/x", port=env.tls_port, tls=True),
                             "OFFC", ".OFF_1")
    assert attrs == {"path": "/", "httponly": True, "samesite": "Strict"}


def test_cookie_routing_over_tls(env):
    r = env.get("/xs/x", port=env.tls_port, tls=True, cookies=["XS=.TL_1"])
    assert r.member == "tl1"
    no_route_cookie(r, "XS")
