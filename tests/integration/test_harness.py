# SPDX-License-Identifier: Apache-2.0
"""The harness's own guarantees, so a green suite means something: the
error_log guard sees errors, the MPM is the one asked for, members answer
as documented."""
import json
import os

import pytest

from gwetest import BACKEND_DOWN, HttpdEnv, Member, free_port, http_request


@pytest.fixture(scope="module")
def env():
    with HttpdEnv("harness") as e:
        e.dead = free_port()
        e.start("""
<Proxy "balancer://dead">
    BalancerMember "http://127.0.0.1:%d" route=D
</Proxy>
ProxyPass "/dead/" "balancer://dead/"
""" % e.dead)
        yield e


def test_error_log_guard_sees_errors(env):
    assert env.get("/dead/x").status == 503
    bad = env.check_log()
    assert any("AH00957" in line for line in bad), bad
    assert env.get("/dead/x").status == 503
    env.expect_log(*BACKEND_DOWN)
    assert env.check_log() == []


def test_runs_the_requested_mpm(env):
    mpm = os.environ.get("GWE_MPM", "event")
    assert env.mpm == mpm
    assert any("[mpm_%s:notice]" % mpm in line
               for line in env.log_lines(since=0))


def test_member_answers():
    m = Member("m", free_port()).start()
    try:
        r = http_request(m.port, "/a/status/404?q=1",
                         headers=[("Cookie", "a=1")])
        assert r.status == 404
        body = json.loads(r.body)
        assert (body["member"], body["cookie"], body["path"]) == (
            "m", "a=1", "/a/status/404?q=1")
        assert m.hits == 1
        m.stop()
        with pytest.raises(OSError):
            http_request(m.port, "/")
        m.start()
        assert http_request(m.port, "/").status == 200
    finally:
        m.stop()
