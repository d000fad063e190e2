# SPDX-License-Identifier: Apache-2.0
"""gwetest - run a real Apache httpd with mod_gwe_lb against real members.

Stdlib only (pytest is optional: see gwetest.pytest_plugin).  Put
tests/lib on sys.path and import from here; the integration, browser and
fault/soak suites share this API, so keep it small.

Environment
    GWE_MPM      event (default) | worker | prefork
    GWE_MODULE   module to load (default build/mod_gwe_lb.so; "" loads none)
    GWE_APACHE   the httpd binary (default /usr/sbin/apache2)
    GWE_KEEP     set: keep each instance's temporary directory

HttpdEnv(name, mpm=None, module=None, log_level=None, extra_modules=(),
         user=None, base_modules=BASE_MODULES)  one Apache instance
    .port, .dir, .conf, .error_log, .access_log
    .member(name) -> Member                 started member on a free port
    .base_config(listen=()) -> str          fixed part of every config
    .write_config(body, listen=())          base + body -> httpd.conf
    .configtest(body=None) -> (ok, output)  apache2 -t
    .start(body=None, listen=(), expect_fail=False, expect_log=())
        -> Started(ok, rc, output)          apache2 -k start, wait for port;
                                            raises StartError on failure or on
                                            unexpected error_log lines
    .stop(graceful=False), .restart(body=None, graceful=True), .cleanup()
    .get(target, headers=(), cookies=(), method="GET", body=None, port=None,
         tls=False) -> Response             one request, fresh connection
    .served(target, n=4, **get_kw) -> [member names]
    .connection(port=None, tls=False) -> Connection   keep-alive; its
        .request(target, method, headers, cookies, body) -> Response
    .log_entry(resp) -> dict                access log line of a response:
                                            GWELB_ROUTE, GWELB_ROUTE_SOURCE,
                                            GWELB_REQUESTED_ROUTE,
                                            GWELB_ROUTE_CHANGED,
                                            BALANCER_ROUTE_CHANGED, ... ("-" unset)
    .expect_log(*regex)                     lines allowed until next check_log
    .check_log() -> [unexpected lines]      [warn]..[emerg], AH00052, crashes
                                            (not ENVIRONMENT_LINES: machine
                                            warnings, reported once per run)
    .log_lines(since=None), .log_mark()
    HttpdEnv.running                        started instances (plugin checks)

Member(name, port).start()/.stop()          JSON-answering member; "/status/NNN"
    .url, .requests, .hits, .running        in the path answers NNN;
                                            WebSocket upgrade echoes one frame
                                            as "NAME: text"
Response: .status, .headers [(k, v)], .header(k), .header_all(k),
          .set_cookies, .body, .json(), .member, .id
http_request(port, target, method, headers, body, tls=False) -> Response
websocket_exchange(port, target, text, headers=()) -> (Response, echo|None)
parse_set_cookie(value) -> (name, value, {attr: value|True})
BalancerManager(env, path="/balancer-manager"): .members(balancer),
    .member(balancer, url), .edit(balancer, member_url, w_status_D="1", ...)
make_cert(dir, names=("localhost",)) -> (cert, key)  self-signed, 127.0.0.1
free_port(), BACKEND_DOWN (error_log ids of a dead member), MPMS
"""
from .client import (Connection, Response, http_request,
                     parse_set_cookie, websocket_exchange)
from .httpd import (BACKEND_DOWN, BASE_MODULES, MODULE, MODULES_DIR, MPMS,
                    REPO, HttpdEnv, Started, StartError, free_port)
from .manager import BalancerManager
from .members import Member
from .tls import make_cert

__all__ = [
    "BACKEND_DOWN", "BASE_MODULES", "BalancerManager", "Connection",
    "HttpdEnv", "MODULE", "MODULES_DIR", "MPMS", "Member", "REPO", "Response",
    "StartError", "Started", "free_port", "http_request", "make_cert",
    "parse_set_cookie", "websocket_exchange",
]
