# SPDX-License-Identifier: Apache-2.0
"""make run: a real Apache on 127.0.0.1 with conf-samples/gwe-main.conf.

Starts two frontend and two backend members (each answers with its name),
loads the sample with its placeholders pointed at them, shows one request
routed by the URL parameter and one by the route cookie, then keeps Apache
running for you to try (curl lines are printed) until Ctrl-C.
"""
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "lib"))
from gwetest import HttpdEnv  # noqa: E402
from gwetest.samples import render  # noqa: E402

ROUTES = ("GWE_Frontend_1", "GWE_Frontend_2", "GWE_Backend_1",
          "GWE_Backend_2")


def show(env, title, target, cookies=()):
    resp = env.get(target, cookies=cookies)
    cookie = "".join(" -H 'Cookie: %s'" % c for c in cookies)
    print("\n%s\n  $ curl -si%s 'http://127.0.0.1:%d%s'"
          % (title, cookie, env.port, target))
    print("  -> %d from member %s" % (resp.status, resp.member))
    for line in resp.set_cookies:
        print("     Set-Cookie: %s" % line)
    return resp


def main():
    env = HttpdEnv("demo", log_level="warn gwe_lb:debug")
    members = {name: env.member(name) for name in ROUTES}
    values = {"FRONTEND_1": "127.0.0.1:%d" % members[ROUTES[0]].port,
              "FRONTEND_2": "127.0.0.1:%d" % members[ROUTES[1]].port,
              "BACKEND_1": "127.0.0.1:%d" % members[ROUTES[2]].port,
              "BACKEND_2": "127.0.0.1:%d" % members[ROUTES[3]].port}
    env.start(render("gwe-main.conf", values))
    print("Apache %s is up on http://127.0.0.1:%d (config %s)"
          % (env.mpm, env.port, env.conf))
    try:
        show(env, "Frontend stickiness: the parameter names GWE_Frontend_2",
             "/frontend/chat?alias=3f2a91.GWE_Frontend_2")
        first = show(env, "Backend stickiness, a new visitor: the balancer "
                          "picks a member and sets the route cookie",
                     "/backend/cometd")
        cookie = first.set_cookies[0].split(";")[0]
        for _ in range(2):
            show(env, "The same visitor again: the cookie routes it",
                 "/backend/cometd", cookies=(cookie,))
        print("\nerror_log with the routing decisions: %s" % env.error_log)
        print("Apache keeps running; press Ctrl-C to stop.")
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping Apache and the members")
        env.stop()
        env.cleanup()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


if __name__ == "__main__":
    # Not a blocked signal mask: Apache would inherit it and ignore -k stop.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, _interrupt)
    main()
