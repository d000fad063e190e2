# SPDX-License-Identifier: Apache-2.0
"""A changed GWELB configuration takes effect on graceful and full
restarts (post_config runs again and binds the new settings)."""
import pytest

from gwetest import HttpdEnv
from gwetest.checks import assert_all, one_route_cookie

CONF = """
<Proxy "balancer://rs">
    BalancerMember "{rs_default}" route=RS_DEFAULT
    BalancerMember "{rs1}" route=RS_1 lbset=1
    GWELBStickyParam {param}
    GWELBRouteCookie {cookie}
</Proxy>
ProxyPass "/rs/" "balancer://rs/"
"""


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("restart") as e:
        e.urls = {n: e.member(n).url for n in ("rs_default", "rs1")}
        e.start(CONF.format(param="alias", cookie="ROUTEID", **e.urls))
        yield e
        e.stop(graceful=True)


@pytest.mark.parametrize("graceful", [True, False], ids=["graceful", "full"])
def test_restart_applies_new_configuration(env, graceful):
    param, cookie = ("p_g", "C_G") if graceful else ("p_f", "C_F")
    env.restart(CONF.format(param=param, cookie=cookie, **env.urls),
                graceful=graceful)
    assert_all(env.served("/rs/x?%s=.RS_1" % param, n=3), "rs1")
    assert_all(env.served("/rs/x?alias=.RS_1", n=3), "rs_default")
    r = env.get("/rs/x")
    one_route_cookie(r, cookie, ".RS_DEFAULT")
    assert_all(env.served("/rs/x", n=3, cookies=["%s=.RS_1" % cookie]),
               "rs1")
