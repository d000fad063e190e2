# SPDX-License-Identifier: Apache-2.0
"""Send corpus cases through a real Apache and judge every response.

For each case (corpus.generate_case) the response must:
- never be a 500, and never carry a header outside corpus.ALLOWED_HEADERS
  (an injected header) or any header holding the marker bytes the case
  carries in its URL and cookies (corpus.MARK);
- when 200: come from exactly the member the oracle names (a routed case
  from its route's member, of the requested balancer; any other from the
  balancer's default member), with exactly the Set-Cookie the oracle
  names (NAME=<sep><configured route>; Path=/; HttpOnly) or none;
- when not 200: be what the stock balancer /st/ answers for the same
  bytes, i.e. httpd itself refused the request before any balancer ran.
"""
import threading
from collections import Counter

import corpus
from soaklib import Conn

MARK_LOWER = corpus.MARK.lower()
OWNER = {m: name for name, b in corpus.BALANCERS.items()
         for m in b.routes.values()}


def control_target(case):
    return case.target.replace(b"/%s/" % case.balancer.encode(),
                               b"/%s/" % corpus.CONTROL.encode(), 1)


def _request(conn, target, cookies):
    return conn.request(target, [(b"Cookie", c) for c in cookies])


def check_case(conn, control, case):
    """Send one case; returns (outcome, [problems])."""
    problems = []
    member, set_cookie, source = corpus.expectation(case)
    try:
        r = _request(conn, case.target, case.cookies)
    except Exception as e:  # noqa: BLE001 - any transport failure counts
        return "error", ["no response: %s: %s" % (type(e).__name__, e)]
    for k, v in r.headers:
        if k.lower() not in corpus.ALLOWED_HEADERS:
            problems.append("unexpected response header %r: %r" % (k, v))
        if MARK_LOWER in k.lower() or MARK_LOWER in v.lower():
            problems.append("client bytes reflected: %r: %r" % (k, v))
    if r.status == 500:
        problems.append("status 500")
    if r.status == 200:
        got = r.member
        if got != member:
            where = ""
            if got in OWNER and OWNER[got] != case.balancer:
                where = " (a member of balancer %s!)" % OWNER[got]
            problems.append("answered by %s%s, expected %s (source %s)"
                            % (got, where, member, source))
        want = [set_cookie] if set_cookie else []
        if r.set_cookies != want:
            problems.append("Set-Cookie %r, expected %r"
                            % (r.set_cookies, want))
        outcome = "routed" if source != "none" else "balanced"
    else:
        try:
            c = _request(control, control_target(case), case.cookies)
            cstatus = c.status
        except Exception as e:  # noqa: BLE001
            cstatus = "no response (%s)" % type(e).__name__
        if cstatus != r.status or r.status == 500:
            problems.append("status %s, but the stock balancer answers %s"
                            % (r.status, cstatus))
        outcome = "refused-%s" % r.status
    return outcome, problems


def run_corpus(port, cases, workers=6, max_reports=25):
    """Send every case (an iterable) with `workers` keep-alive
    connections.  Returns (outcomes Counter, failures [(case, problems)],
    requests sent)."""
    lock = threading.Lock()
    it = iter(cases)
    outcomes = Counter()
    failures = []
    sent = [0]

    def work():
        conn, control = Conn(port), Conn(port)
        while True:
            with lock:
                case = next(it, None)
            if case is None:
                break
            outcome, problems = check_case(conn, control, case)
            with lock:
                sent[0] += 1 + outcome.startswith("refused")
                outcomes[outcome] += 1
                if problems:
                    outcomes["failed"] += 1
                    if len(failures) < max_reports:
                        failures.append((case, problems))
        conn.close()
        control.close()

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes, failures, sent[0]


def report(failures):
    out = []
    for case, problems in failures:
        out.append(corpus.describe(case))
        out += ["    - " + p for p in problems]
        out.append("    reproduce: python3 tests/soak/corpus.py %s %d -v"
                   % (case.seed, case.index))
    return "\n".join(out)
