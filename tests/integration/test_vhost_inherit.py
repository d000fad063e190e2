"""README 7.2: name-based virtual hosts (one port, Host headers) and the
main server's GWELB balancer - inherited with its GWELB configuration, a
vhost <Proxy> section that changes only what it sets, a vhost's own stock
balancer of the same name, and BalancerInherit Off / ProxyPassInherit Off.
"""
import pytest

from gwetest import HttpdEnv, free_port
from gwetest.checks import no_route_cookie, one_route_cookie, unset


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("vhost-inherit") as e:
        m = {n: e.member(n).url for n in ("m1", "m2")}
        m["port"] = e.port
        e.start("""
<Proxy "balancer://s">
    BalancerMember "{m1}" route=R1
    BalancerMember "{m2}" route=R2
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID
    ProxySet lbmethod=byrequests
</Proxy>

<VirtualHost 127.0.0.1:{port}>
    ServerName a.test
    ProxyPass "/a/" "balancer://s/"
</VirtualHost>

<VirtualHost 127.0.0.1:{port}>
    ServerName b.test
    <Proxy "balancer://s">
        GWELBRouteCookie VR path=/b/
    </Proxy>
    ProxyPass "/b/" "balancer://s/"
</VirtualHost>

""".format(**m))
        yield e


def host(name):
    return [("Host", name)]


def test_vhost_inherits_the_main_server_balancer_with_its_gwelb_configuration(env):  # noqa: E501
    """README 7.2: BalancerInherit On (the default): the vhost's ProxyPass
    to the main server's balancer routes by its parameter and cookie and
    sets its cookie."""
    r = env.get("/a/x?alias=.R2", headers=host("a.test"))
    assert r.status == 200 and r.member == "m2"
    one_route_cookie(r, "ROUTEID", ".R2")
    assert env.log_entry(r)["GWELB_ROUTE_SOURCE"] == "param"
    for route, member in (("R1", "m1"), ("R2", "m2")):
        for _ in range(2):
            r = env.get("/a/x", headers=host("a.test"),
                        cookies=["ROUTEID=." + route])
            assert r.member == member
            no_route_cookie(r, "ROUTEID")
    r = env.get("/a/x", headers=host("a.test"))
    one_route_cookie(r, "ROUTEID", ".R" + r.member[1])


def test_vhost_proxy_section_changes_only_the_fields_it_sets(env):
    """README 7.2: the vhost's section sets only GWELBRouteCookie; the
    inherited GWELBStickyParam keeps routing by parameter there."""
    r = env.get("/b/x?alias=.R2", headers=host("b.test"))
    assert r.status == 200 and r.member == "m2"
    one_route_cookie(r, "VR", ".R2")
    no_route_cookie(r, "ROUTEID")
    assert env.get("/b/x;alias=x.R1",
                   headers=host("b.test")).member == "m1"
    for _ in range(2):
        r = env.get("/b/x", headers=host("b.test"), cookies=["VR=.R1"])
        assert r.member == "m1"
        no_route_cookie(r, "VR")


@pytest.mark.parametrize("where,stock", [
    ("same port", ""), ("same port", "ProxySet stickysession=ROUTEID"),
    ("own port", "")],
    ids=["name-based", "name-based, stock stickysession", "own port"])
def test_vhost_own_balancer_without_gwelb_directives_behaves_as_stock(
        where, stock):
    """README 7.2: the vhost defines balancer://s itself (BalancerInherit
    Off, ProxyPassInherit Off), without GWELB directives, while the main server's balancer://s
    is GWELB: the vhost's balancer routes by no GWELB parameter or cookie,
    sets no route cookie and no GWELB variable; with stock
    stickysession=ROUTEID (valid on a stock balancer) stock stickiness
    routes ROUTEID=.R4.

    ProxyPassInherit Off too: with it On, stock httpd itself hands the
    vhost's ProxyPass the main server's balancer of that name."""
    with HttpdEnv("vhost-own-stock") as e:
        m = {n: e.member(n).url for n in ("m1", "m2", "m3", "m4")}
        vport = e.port if where == "same port" else free_port()
        m.update(port=e.port, vport=vport, stock=stock)
        e.start("""
<Proxy "balancer://s">
    BalancerMember "{m1}" route=R1
    BalancerMember "{m2}" route=R2
    GWELBStickyParam alias
    GWELBRouteCookie ROUTEID
</Proxy>

<VirtualHost 127.0.0.1:{port}>
    ServerName a.test
    ProxyPass "/s/" "balancer://s/"
</VirtualHost>

<VirtualHost 127.0.0.1:{vport}>
    ServerName c.test
    BalancerInherit Off
    ProxyPassInherit Off
    <Proxy "balancer://s">
        BalancerMember "{m3}" route=R3
        BalancerMember "{m4}" route=R4
        {stock}
    </Proxy>
    ProxyPass "/s/" "balancer://s/"
</VirtualHost>
""".format(**m), listen=[] if vport == e.port else
                ["127.0.0.1:%d" % vport])
        served = []
        for _ in range(4):
            r = e.get("/s/x?alias=.R1", headers=host("c.test"), port=vport,
                      cookies=["ROUTEID=.R2"])
            assert r.status == 200, r
            assert r.set_cookies == []
            log = e.log_entry(r)
            assert unset(log["GWELB_ROUTE"]) and \
                unset(log["GWELB_ROUTE_SOURCE"]), log
            served.append(r.member)
        assert set(served) <= {"m3", "m4"}, served
        if stock:
            for _ in range(3):
                r = e.get("/s/x", headers=host("c.test"), port=vport,
                          cookies=["ROUTEID=.R4"])
                assert r.member == "m4" and r.set_cookies == []
                log = e.log_entry(r)
                assert log["BALANCER_SESSION_ROUTE"] == "R4", log
                assert unset(log["GWELB_ROUTE"]), log
        # the main server's GWELB balancer of the same name is untouched
        r = e.get("/s/x?alias=.R2", headers=host("a.test"))
        assert r.member == "m2"
        one_route_cookie(r, "ROUTEID", ".R2")


def test_vhost_same_named_balancer_merged_by_proxypassinherit_is_refused():
    """README 7.2: with ProxyPassInherit On (the default) mod_proxy merges
    a virtual host's balancer with the main server's balancer of the same
    name even under BalancerInherit Off: the vhost's copy takes the main
    server's members and keeps its own stickysession=.  That is the GWELB
    balancer with stickysession=, refused by -t (GWELB00004)."""
    with HttpdEnv("vhost-own-sticky") as e:
        body = """
<Proxy "balancer://s">
    BalancerMember "http://127.0.0.1:9" route=R1
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/main/" "balancer://s/"

<VirtualHost 127.0.0.1:%d>
    ServerName c.test
    BalancerInherit Off
    <Proxy "balancer://s">
        BalancerMember "http://127.0.0.1:10" route=R3
        ProxySet stickysession=JSESSIONID
    </Proxy>
    ProxyPass "/s/" "balancer://s/"
</VirtualHost>
""" % e.port
        ok, out = e.configtest(body)
        assert not ok and "GWELB00004" in out, out


def test_balancer_inherit_off_and_proxypass_inherit_off_are_valid():
    """README 7.2: BalancerInherit Off and ProxyPassInherit Off in a vhost
    without balancers, the GWELB balancer in the main server: -t accepts
    it, Apache starts, the main server's balancer routes and sets its
    cookie, the vhost proxies nothing."""
    with HttpdEnv("vhost-inherit-off") as e:
        m1 = e.member("m1").url
        body = """
<Proxy "balancer://s">
    BalancerMember "{m1}" route=R1
    GWELBRouteCookie ROUTEID
</Proxy>
ProxyPass "/s/" "balancer://s/"

<VirtualHost 127.0.0.1:{port}>
    ServerName 127.0.0.1
</VirtualHost>

<VirtualHost 127.0.0.1:{port}>
    ServerName d.test
    BalancerInherit Off
    ProxyPassInherit Off
</VirtualHost>
""".format(m1=m1, port=e.port)
        ok, out = e.configtest(body)
        assert ok, out
        e.start(body)
        r = e.get("/s/x")
        assert r.status == 200 and r.member == "m1"
        one_route_cookie(r, "ROUTEID", ".R1")
        # d.test has no balancer: no member answers there (stock mod_proxy
        # still maps the main server's ProxyPass and finds no balancer:
        # AH01144), and no route cookie is made up
        e.expect_log(r"AH01144")
        r = e.get("/s/x", headers=host("d.test"))
        assert r.member is None and r.set_cookies == [], r
