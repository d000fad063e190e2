# SPDX-License-Identifier: Apache-2.0
"""A load generator that knows which member answered every request.

Load(...) runs `workers` threads, each with one keep-alive connection and
its own visitors.  A visitor is what a browser is to GWE:

- a cookie visitor starts without cookie, keeps the route cookie the
  load balancer sets, and sends it back (backend stickiness);
- a param visitor carries `?alias=<id>.<route>` in every URL, with a
  route fixed when it is born, and keeps the cookie as well (frontend
  stickiness).

Visitors are replaced by new ones now and then (churn), so new sessions
keep arriving while faults happen.  Every response is judged at once
against the visitor's member (the members answer with their name):

- served by the visitor's member: fine; a Set-Cookie is only allowed when
  the visitor's cookie named another member (param visitors);
- served by another member: allowed only while the visitor's member is in
  a fault window (killed and not yet seen back by the controller's probe),
  and then the response must carry the route cookie naming the member
  that served (the visitor moves); otherwise it is a route change, the
  thing this suite exists to catch;
- not a 200: allowed only for a request that was in flight to the
  visitor's member at the moment it was killed (the kill resets its
  connections: 502); otherwise a failure.

The controller calls fault_begin/killed/fault_end around each kill; the
clock is only used to order events, never as a threshold.
"""
import random
import re
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from soaklib import Conn


class Visitor:
    __slots__ = ("vid", "kind", "route", "cookie_route", "member", "fresh")

    def __init__(self, vid, kind, route=None):
        self.vid = vid
        self.kind = kind            # "cookie" | "param"
        self.route = route          # param visitors: the route asked for
        self.cookie_route = None    # route the visitor's cookie names
        self.member = None          # member the visitor is sticky to
        self.fresh = True


class Load:
    def __init__(self, port, prefix, routes, cookie=b"ROUTEID",
                 param=b"alias", workers=8, visitors=6, churn=0.03,
                 seed=1, max_reports=30):
        self.port = port
        self.prefix = prefix            # b"/k"
        self.routes = routes            # {route str: member name}
        self.route_of = {m: r for r, m in routes.items()}
        self.cookie = cookie
        self.param = param
        self.workers = workers
        self.visitors = visitors
        self.churn = churn
        self.seed = seed
        self.max_reports = max_reports
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.threads = []
        self.windows = {}   # member -> [[kill_start, kill_done, back]]
        self.c = Counter()  # the figures
        self.reports = []   # descriptions of failures and route changes
        self.first_member = []  # (t0, member) of every new cookie visitor
        self.param_hits = []    # (t0, requested route, member)
        self._next_vid = 0

    # ---- controller side ------------------------------------------------

    def start(self):
        for i in range(self.workers):
            t = threading.Thread(target=self._work, args=(i,), daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.stop_event.set()
        for t in self.threads:
            t.join(120)
        return self

    @property
    def sent(self):
        with self.lock:
            return self.c["requests"]

    def wait_requests(self, n, timeout=600):
        """Block until n more requests were answered (or raise)."""
        target = self.sent + n
        deadline = time.monotonic() + timeout
        while self.sent < target:
            if time.monotonic() > deadline or self.stop_event.is_set():
                raise AssertionError("load stalled at %d of %d requests"
                                     % (self.sent, target))
            if not any(t.is_alive() for t in self.threads):
                raise AssertionError("every load thread died")
            time.sleep(0.02)

    def fault_begin(self, member):
        with self.lock:
            self.windows.setdefault(member, []).append(
                [time.monotonic(), None, None])

    def killed(self, member):
        with self.lock:
            self.windows[member][-1][1] = time.monotonic()

    def fault_end(self, member):
        with self.lock:
            self.windows[member][-1][2] = time.monotonic()

    def back_time(self, member):
        with self.lock:
            w = self.windows.get(member)
            return w[-1][2] if w else None

    # ---- judging ---------------------------------------------------------

    def _in_fault(self, member, t0, t1):
        for start, _, back in self.windows.get(member, ()):
            if start <= t1 and (back is None or back >= t0):
                return True
        return False

    def _in_kill(self, member, t0, t1):
        for start, done, _ in self.windows.get(member, ()):
            if start <= t1 and (done is None or done >= t0):
                return True
        return False

    def _any_kill(self, t0, t1):
        return any(self._in_kill(m, t0, t1) for m in self.windows)

    def _report(self, what, v, resp, extra=""):
        self.c[what] += 1
        if len(self.reports) < self.max_reports:
            self.reports.append(
                "%s: visitor %d (%s%s) sticky to %s, got status %s from %s, "
                "Set-Cookie %s%s" % (
                    what, v.vid, v.kind,
                    " route %s" % v.route if v.route else "", v.member,
                    resp.status if resp else "-",
                    resp.member if resp else "-",
                    resp.set_cookies if resp else "-", extra))

    def _cookie_value(self, route):
        return "%s=.%s; Path=/; HttpOnly" % (self.cookie.decode(), route)

    def _judge(self, v, resp, t0, t1):
        """Judge one response; updates the visitor.  Runs under lock."""
        c = self.c
        c["requests"] += 1
        if resp is not None and resp.resent:
            c["resent"] += 1
        expected = v.member
        if v.kind == "param":
            expected = self.routes[v.route]
        if resp is None or resp.status != 200:
            # Only a request in flight to a member while it was killed may
            # fail (its connection is reset).  A new cookie visitor has no
            # member yet: any kill counts.
            if expected is not None and self._in_kill(expected, t0, t1) or \
                    expected is None and self._any_kill(t0, t1):
                c["failed_in_flight_at_kill"] += 1
            else:
                self._report("failures", v, resp)
            return
        got = resp.member
        cookies = resp.set_cookies
        if got not in self.route_of:
            self._report("failures", v, resp, " (unknown member)")
            return
        got_route = self.route_of[got]
        if expected is None:  # a new cookie visitor
            if cookies != [self._cookie_value(got_route)]:
                self._report("cookie_errors", v, resp)
            self.first_member.append((t0, got))
        elif got != expected:
            if not self._in_fault(expected, t0, t1):
                self._report("route_changes", v, resp)
            else:
                c["moved"] += 1
        if v.kind == "param":
            self.param_hits.append((t0, v.route, got))
        if got_route != v.cookie_route:
            want = [self._cookie_value(got_route)]
        else:
            want = []
        if expected is not None and cookies != want:
            self._report("cookie_errors", v, resp, ", expected %s" % want)
        if cookies:
            v.cookie_route = got_route
        if v.kind == "cookie":
            v.member = got
        v.fresh = False

    # ---- worker side -----------------------------------------------------

    def _new_visitor(self, rng):
        with self.lock:
            self._next_vid += 1
            vid = self._next_vid
        if rng.random() < 0.35:
            return Visitor(vid, "param", rng.choice(sorted(self.routes)))
        return Visitor(vid, "cookie")

    def _request(self, conn, v):
        target = self.prefix + b"/visit/%d" % v.vid
        if v.kind == "param":
            target += b"?%s=s%d.%s" % (self.param, v.vid, v.route.encode())
        headers = []
        if v.cookie_route is not None:
            headers.append((b"Cookie", b"_ga=GA1.2.%d; %s=.%s" % (
                v.vid, self.cookie, v.cookie_route.encode())))
        return conn.request(target, headers)

    def _work(self, i):
        rng = random.Random("%s:%d" % (self.seed, i))
        conn = Conn(self.port)
        visitors = [self._new_visitor(rng) for _ in range(self.visitors)]
        n = 0
        while not self.stop_event.is_set():
            k = n % len(visitors)
            n += 1
            if rng.random() < self.churn:
                visitors[k] = self._new_visitor(rng)
            v = visitors[k]
            t0 = time.monotonic()
            try:
                resp = self._request(conn, v)
            except Exception:  # noqa: BLE001 - judged as a failed request
                conn.close()
                resp = None
            t1 = time.monotonic()
            with self.lock:
                self._judge(v, resp, t0, t1)
        conn.close()

    # ---- results ---------------------------------------------------------

    def new_visitors_after(self, t):
        """Counter of first members of cookie visitors born after t."""
        return Counter(m for t0, m in self.first_member if t0 > t)

    def param_hits_after(self, t, route):
        return Counter(m for t0, r, m in self.param_hits
                       if t0 > t and r == route)


class WrkLoad:
    """wrk with wrk_sticky.lua: fast keep-alive load whose every response
    is checked for the member it must come from.  Runs until stop()
    (SIGINT makes wrk print its totals)."""

    def __init__(self, port, prefix, routes, threads=1, connections=2):
        self.cmd = ["wrk", "-t%d" % threads, "-c%d" % connections,
                    "-d3600s", "--timeout", "30s",
                    "-s", str(Path(__file__).resolve().parent /
                              "wrk_sticky.lua"),
                    "http://127.0.0.1:%d/" % port, "--", prefix,
                    ",".join(routes)]
        self.proc = None
        self.result = None

    @staticmethod
    def available():
        return shutil.which("wrk") is not None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        return self

    def stop(self):
        """Stop wrk; returns its counts (requests, ok, mismatched, non200,
        connect, read, write, timeout)."""
        if self.proc is None:
            return self.result
        self.proc.send_signal(signal.SIGINT)
        try:
            out, _ = self.proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        self.proc = None
        m = re.search(r"wrk-sticky: (.*)", out)
        if not m:
            raise AssertionError("wrk printed no totals:\n" + out[-2000:])
        words = m.group(1).split()
        self.result = {k: int(v) for k, v in zip(words[::2], words[1::2])}
        return self.result
