# SPDX-License-Identifier: Apache-2.0
"""README 3 (GWELBRouteCookie attributes, GWELBCookieFromParam) and 4.5 (the
route cookie a response carries)."""
import pytest

from gwetest import BACKEND_DOWN, HttpdEnv, free_port
from gwetest.checks import no_route_cookie, one_route_cookie


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("setcookie") as e:
        m = {n: e.member(n).url for n in (
            "sc_default", "sc1", "full", "ck", "xs", "lax", "son", "enc",
            "fp_default", "fp1", "fp2", "fpo_default", "fpo1", "sep")}
        m["dead1"] = "http://127.0.0.1:%d" % free_port()
        m["dead2"] = "http://127.0.0.1:%d" % free_port()
        m["off"] = "http://127.0.0.1:%d" % free_port()
        e.start("""
<Proxy "balancer://sc">
    BalancerMember "{sc_default}" route=SC_DEFAULT
    BalancerMember "{sc1}" route=SC_1 lbset=1
    BalancerMember "{off}" route=SC_OFF lbset=1 status=+D
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/sc/" "balancer://sc/"

<Proxy "balancer://full">
    BalancerMember "{full}" route=FULL_1
    GWELBRouteCookie GWESESS path=/full domain=example.test secure=on httponly=off samesite=Strict max-age=3600
</Proxy>
ProxyPass "/full/" "balancer://full/"

<Proxy "balancer://ck">
    BalancerMember "{ck}" route=CK_1
    GWELBRouteCookie RC PATH=/ck SameSite=lax SECURE=On HttpOnly=ON Max-Age=60
</Proxy>
ProxyPass "/ck/" "balancer://ck/"

<Proxy "balancer://xs">
    BalancerMember "{xs}" route=XS_1
    GWELBRouteCookie XS secure=auto samesite=None partitioned=on
</Proxy>
ProxyPass "/xs/" "balancer://xs/"

<Proxy "balancer://lax">
    BalancerMember "{lax}" route=LAX_1
    GWELBRouteCookie LX samesite=Lax
</Proxy>
ProxyPass "/lax/" "balancer://lax/"

<Proxy "balancer://son">
    BalancerMember "{son}" route=SON_1
    GWELBRouteCookie SO secure=on samesite=None partitioned=on
</Proxy>
ProxyPass "/son/" "balancer://son/"

<Proxy "balancer://enc">
    BalancerMember "{enc}" "route=B;E,3"
    GWELBRouteCookie ENC
</Proxy>
ProxyPass "/enc/" "balancer://enc/"

<Proxy "balancer://fp">
    BalancerMember "{fp_default}" route=FP_DEFAULT
    BalancerMember "{fp1}" route=FP_1 lbset=1
    BalancerMember "{fp2}" route=FP_2 lbset=1
    GWELBStickyParam alias
    GWELBRouteCookie GWELB path=/fp/
</Proxy>
ProxyPass "/fp/" "balancer://fp/"

<Proxy "balancer://fpo">
    BalancerMember "{fpo_default}" route=FPO_DEFAULT
    BalancerMember "{fpo1}" route=FPO_1 lbset=1
    GWELBStickyParam alias
    GWELBRouteCookie GWELB path=/fpo/
    GWELBCookieFromParam Off
</Proxy>
ProxyPass "/fpo/" "balancer://fpo/"

<Proxy "balancer://sep">
    BalancerMember "{sep}" route=SEP_1
    GWELBRouteCookie SEPC
    GWELBRouteSeparator ~
</Proxy>
ProxyPass "/sep/" "balancer://sep/"

<Proxy "balancer://dead">
    BalancerMember "{dead1}" route=DEAD_1
    BalancerMember "{dead2}" route=DEAD_2
    GWELBRouteCookie DEADC
    GWELBStickyParam alias
</Proxy>
ProxyPass "/dead/" "balancer://dead/"
""".format(**m))
        yield e


def test_new_session_gets_cookie_with_default_attributes(env):
    r = env.get("/sc/x")
    assert r.status == 200 and r.member == "sc_default"
    attrs = one_route_cookie(r, "ROUTEID", ".SC_DEFAULT")
    assert attrs == {"path": "/", "httponly": True}


@pytest.mark.parametrize("status", [404, 500, 503])
def test_cookie_also_on_error_status_from_member(env, status):
    r = env.get("/sc/status/%d" % status)
    assert r.status == status and r.member == "sc_default"
    one_route_cookie(r, "ROUTEID", ".SC_DEFAULT")


@pytest.mark.parametrize("method,status", [("HEAD", 200), ("GET", 204),
                                           ("GET", 302), ("POST", 200)])
def test_cookie_on_responses_without_body_or_other_methods(env, method,
                                                           status):
    r = env.get("/sc/status/%d" % status, method=method,
                body="a=1" if method == "POST" else None)
    assert r.status == status
    one_route_cookie(r, "ROUTEID", ".SC_DEFAULT")


def test_cookie_once_per_response_on_keep_alive_connection(env):
    with env.connection() as conn:
        for _ in range(3):
            r = conn.request("/sc/x")
            assert r.member == "sc_default"
            one_route_cookie(r, "ROUTEID", ".SC_DEFAULT")
            r = conn.request("/sc/x", cookies=["ROUTEID=.SC_1"])
            assert r.member == "sc1"
            no_route_cookie(r, "ROUTEID")


def test_no_cookie_when_cookie_names_serving_member(env):
    for cookie in ("ROUTEID=.SC_1", "ROUTEID=abc.SC_1", 'ROUTEID=".SC_1"'):
        r = env.get("/sc/x", cookies=[cookie])
        assert r.member == "sc1"
        no_route_cookie(r, "ROUTEID")


def test_no_cookie_on_error_status_when_cookie_names_serving_member(env):
    r = env.get("/sc/status/500", cookies=["ROUTEID=.SC_DEFAULT"])
    assert r.status == 500 and r.member == "sc_default"
    no_route_cookie(r, "ROUTEID")


def test_cookie_replaced_when_it_names_unusable_member(env):
    r = env.get("/sc/x", cookies=["ROUTEID=.SC_OFF"])
    assert r.member == "sc_default"
    one_route_cookie(r, "ROUTEID", ".SC_DEFAULT")


def test_cookie_replaced_when_it_names_no_member(env):
    r = env.get("/sc/x", cookies=["ROUTEID=zzMARKERzz.nope"])
    assert r.member == "sc_default"
    one_route_cookie(r, "ROUTEID", ".SC_DEFAULT")


def test_member_set_cookie_is_kept(env):
    r = env.get("/sc/set-cookie/x")
    assert "app=sc_default; Path=/" in r.set_cookies
    one_route_cookie(r, "ROUTEID", ".SC_DEFAULT")


def test_every_attribute(env):
    r = env.get("/full/x")
    attrs = one_route_cookie(r, "GWESESS", ".FULL_1")
    assert attrs == {"path": "/full", "domain": "example.test",
                     "secure": True, "samesite": "Strict", "max-age": "3600"}


def test_attribute_keys_are_case_insensitive(env):
    attrs = one_route_cookie(env.get("/ck/x"), "RC", ".CK_1")
    assert attrs.get("samesite", "").lower() == "lax"
    attrs.pop("samesite")
    assert attrs == {"path": "/ck", "secure": True, "httponly": True,
                     "max-age": "60"}


def test_secure_auto_over_http_drops_samesite_none_and_partitioned(env):
    attrs = one_route_cookie(env.get("/xs/x"), "XS", ".XS_1")
    assert attrs == {"path": "/", "httponly": True}


def test_secure_auto_over_http_keeps_samesite_lax(env):
    attrs = one_route_cookie(env.get("/lax/x"), "LX", ".LAX_1")
    assert attrs == {"path": "/", "httponly": True, "samesite": "Lax"}


def test_secure_on_over_http_keeps_everything(env):
    attrs = one_route_cookie(env.get("/son/x"), "SO", ".SON_1")
    assert attrs == {"path": "/", "httponly": True, "secure": True,
                     "samesite": "None", "partitioned": True}


def test_route_is_percent_encoded_and_round_trips(env):
    r = env.get("/enc/x")
    assert r.member == "enc"
    one_route_cookie(r, "ENC", ".B%3BE%2C3")
    again = env.get("/enc/x", cookies=["ENC=.B%3BE%2C3"])
    assert again.member == "enc"
    no_route_cookie(again, "ENC")
    assert env.log_entry(again)["GWELB_ROUTE_SOURCE"] == "cookie"


def test_separator_starts_cookie_value(env):
    one_route_cookie(env.get("/sep/x"), "SEPC", "~SEP_1")


def test_cookie_from_param_on_stores_param_route(env):
    r = env.get("/fp/p?alias=.FP_1")
    assert r.member == "fp1"
    one_route_cookie(r, "GWELB", ".FP_1")
    r = env.get("/fp/p?alias=.FP_1", cookies=["GWELB=.FP_2"])
    assert r.member == "fp1"
    one_route_cookie(r, "GWELB", ".FP_1")
    r = env.get("/fp/p?alias=.FP_1", cookies=["GWELB=.FP_1"])
    assert r.member == "fp1"
    no_route_cookie(r, "GWELB")


def test_cookie_from_param_off_leaves_cookie_alone(env):
    r = env.get("/fpo/p?alias=.FPO_1")
    assert r.member == "fpo1"
    no_route_cookie(r, "GWELB")
    r = env.get("/fpo/p")
    assert r.member == "fpo_default"
    one_route_cookie(r, "GWELB", ".FPO_DEFAULT")


def test_no_cookie_when_no_member_served(env):
    env.expect_log(*BACKEND_DOWN)
    for cookies in ([], ["DEADC=.DEAD_1"]):
        r = env.get("/dead/x", cookies=cookies)
        assert r.status == 503 and r.member is None
        no_route_cookie(r, "DEADC")
    r = env.get("/dead/x?alias=.DEAD_2")
    assert r.status == 503
    no_route_cookie(r, "DEADC")
