# SPDX-License-Identifier: Apache-2.0
"""conf-samples/: every sample passes `apache2 -t` and starts; the main,
TLS, cross-site and WebSocket samples route real requests; the Debian
.load file loads the module after mod_proxy from a mods-enabled glob."""
import os
import re

import pytest

from gwetest import (MODULE, HttpdEnv, free_port, make_cert, signed,
                     websocket_exchange)
from gwetest.checks import assert_all, no_route_cookie, one_route_cookie
from gwetest.samples import SAMPLES_DIR, placeholders, render

CONF_SAMPLES = sorted(p.name for p in SAMPLES_DIR.glob("*.conf"))
TLS_MODULES = ("socache_shmcb", "ssl")
MEMBERS = ("FRONTEND_1", "FRONTEND_2", "BACKEND_1", "BACKEND_2")


def sample_env(name, files):
    """An HttpdEnv whose configuration includes the rendered samples."""
    tls = any("@TLS_" in (SAMPLES_DIR / f).read_text() for f in files)
    e = HttpdEnv(name, extra_modules=TLS_MODULES if tls else ())
    values = {}
    for key in MEMBERS:
        values[key] = "127.0.0.1:%d" % e.member(key.lower()).port
    listen = []
    if tls:
        cert, key = make_cert(e.dir)
        e.tls_port = free_port()
        listen.append("127.0.0.1:%d" % e.tls_port)
        values.update(TLS_VHOST="127.0.0.1:%d" % e.tls_port,
                      TLS_SERVER_NAME="localhost", TLS_CERT=cert, TLS_KEY=key)
    values["COOKIE_KEY"] = str(signed.write_key(e.dir / "gwelb.key"))
    body = ""
    if tls:
        body += 'SSLSessionCache "shmcb:%s/ssl_scache(512000)"\n' % e.dir
    for f in files:
        (e.dir / f).write_text(render(f, values))
        body += 'Include "%s"\n' % (e.dir / f)
    e.write_config(body, listen)
    e.listen = listen
    return e


def test_samples_exist():
    assert {"gwe-main.conf", "gwe-tls.conf", "gwe-websocket.conf",
            "gwe-cross-site.conf"} <= set(CONF_SAMPLES)
    assert (SAMPLES_DIR / "proxy_gwe_lb.load").exists()


@pytest.mark.parametrize("name", CONF_SAMPLES)
def test_sample_documents_its_placeholders(name):
    text = (SAMPLES_DIR / name).read_text()
    header = "".join(line for line in text.splitlines(True)
                     if line.startswith("#"))
    assert "@NAME@" in header or "placeholder" in header.lower()
    for p in placeholders(text):
        assert "@%s@" % p in header, "@%s@ is not explained" % p


@pytest.mark.parametrize("name", CONF_SAMPLES)
def test_sample_passes_configtest_and_starts(name):
    with sample_env("sample", [name]) as e:
        ok, output = e.configtest()
        assert ok, output
        e.start()


def test_all_samples_together():
    files = ["gwe-websocket.conf", "gwe-main.conf", "gwe-tls.conf"]
    with sample_env("samples", files) as e:
        ok, output = e.configtest()
        assert ok, output
        e.start()


@pytest.fixture(scope="module")
def main_env():
    with sample_env("main", ["gwe-websocket.conf", "gwe-main.conf"]) as e:
        e.start()
        yield e


def test_main_sample_frontend_param(main_env):
    for n in ("1", "2"):
        assert_all(main_env.served(
            "/frontend/resources/js/gwe.js?alias=3f2a.GWE_Frontend_" + n,
            n=3), "frontend_" + n)
    r = main_env.get("/frontend/x?alias=3f2a.GWE_Frontend_2")
    assert r.json()["path"] == "/frontend/x?alias=3f2a.GWE_Frontend_2"
    assert r.set_cookies == []


def test_main_sample_backend_cookie(main_env):
    r = main_env.get("/backend/data/events")
    assert r.status == 200 and r.member in ("backend_1", "backend_2")
    route = "GWE_Backend_" + r.member[-1]
    attrs = one_route_cookie(r, "ROUTEID", "." + route)
    assert attrs == {"path": "/", "httponly": True}
    assert_all(main_env.served("/backend/data/events", n=4,
                               cookies=["ROUTEID=." + route]), r.member)
    no_route_cookie(main_env.get("/backend/x", cookies=["ROUTEID=." + route]),
                    "ROUTEID")


def test_websocket_sample_follows_backend_cookie(main_env):
    for n in ("1", "2"):
        resp, echo = websocket_exchange(
            main_env.port, "/backend/cometd", "hi",
            headers=[("Cookie", "ROUTEID=.GWE_Backend_" + n)])
        assert resp.status == 101
        assert echo == "backend_%s: hi" % n


@pytest.mark.parametrize("name,extra", [
    ("gwe-tls.conf", {}), ("gwe-cross-site.conf", {"partitioned": True})])
def test_tls_samples_cookie(name, extra):
    with sample_env("tls-sample", [name]) as e:
        e.start()
        r = e.get("/backend/x", port=e.tls_port, tls=True)
        assert r.status == 200 and r.member in ("backend_1", "backend_2")
        attrs = one_route_cookie(r, "ROUTEID",
                                 ".GWE_Backend_" + r.member[-1])
        assert attrs == dict({"path": "/", "httponly": True, "secure": True,
                              "samesite": "None"}, **extra)
        assert_all(e.served("/frontend/x?alias=a.GWE_Frontend_2", n=3,
                            port=e.tls_port, tls=True), "frontend_2")


def test_signed_sample_cookie():
    """gwe-signed.conf: a signed cookie that routes back, and nothing that
    a visitor edits (README 4.8)."""
    with sample_env("signed-sample", ["gwe-signed.conf"]) as e:
        e.start()
        r = e.get("/signed/x")
        assert r.status == 200
        c = [v for v in r.set_cookies if v.startswith("GWESIGNED=")]
        assert len(c) == 1 and c[0].startswith("GWESIGNED=g1")
        assert "private" in (r.header("Cache-Control") or "")
        value = c[0].split(";")[0]
        assert_all(e.served("/signed/x", n=4,
                            cookies=[value]), r.member)
        flipped = value[:-1] + ("A" if value[-1] != "A" else "B")
        f = e.get("/signed/x", cookies=[flipped])
        assert any(v.startswith("GWESIGNED=g1") and v != c[0]
                   for v in f.set_cookies)


def test_debian_load_file():
    text = (SAMPLES_DIR / "proxy_gwe_lb.load").read_text()
    depends = re.search(r"^# Depends:(.*)$", text, re.M)
    assert depends and set(depends.group(1).split()) >= {
        "proxy", "proxy_http", "proxy_balancer"}
    assert re.search(r"^LoadModule gwe_lb_module "
                     r"/usr/lib/apache2/modules/mod_gwe_lb\.so$", text, re.M)
    with HttpdEnv("load", module="", base_modules=("authz_core",)) as e:
        enabled = e.dir / "mods-enabled"
        enabled.mkdir()
        for mod in ("alias", "proxy", "proxy_http", "proxy_balancer",
                    "slotmem_shm", "lbmethod_byrequests"):
            os.symlink("/etc/apache2/mods-available/%s.load" % mod,
                       enabled / ("%s.load" % mod))
        (enabled / "proxy_gwe_lb.load").write_text(text.replace(
            "/usr/lib/apache2/modules/mod_gwe_lb.so", MODULE))
        be = e.member("be")
        e.start("""
IncludeOptional "%s/*.load"
<Proxy "balancer://b">
    BalancerMember "%s" route=B_1
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/b/" "balancer://b/"
""" % (enabled, be.url))
        r = e.get("/b/x")
        assert r.member == "be"
        one_route_cookie(r, "ROUTEID", ".B_1")
