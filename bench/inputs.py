#!/usr/bin/env python3
"""Request inputs of the benchmark (issue 12's request shapes), deterministic.

    inputs.py DIR

Writes, per input NAME, DIR/NAME.path (request path with its query),
DIR/NAME.cookie (Cookie header value, only when the request has one) and
DIR/NAME.desc (one line for the reports); for every input that carries a
route (ROUTEID=.node1 or alias=.node1) also NAME-node2.* with the same bytes
but the other member's route (routing checks only).  Same bytes on every run:
values come from a fixed linear congruential generator, not from `random`.

Shapes (bench/README.md):
  cookie-new     no Cookie, no query (a cookie balancer issues Set-Cookie)
  cookie-only    Cookie: ROUTEID=.node1
  cookie-1k      ~1 KB Cookie of 40-char values, ROUTEID=.node1 last
  cookie-6k      ~6 KB Cookie of the same kind, route cookie last
  param-new      no Cookie, no query, on a parameter balancer
  query-200      ~200 B query p01=<24 letters+digits>&p02=..., alias=.node1
                 in the middle
  query-4k-mid   ~4 KB query of the same kind, parameter in the middle
  query-4k-last  ~4 KB query, parameter last
and, for the cost picture (bench/instr.sh svg), the same kinds at more sizes:
  cookie-2k cookie-4k (route cookie last), query-only (?alias=.node1),
  query-1k-last query-2k-last.
"""
import os
import sys

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
KB = 1024


class Lcg:
    def __init__(self, seed):
        self.x = seed

    def value(self, n):
        out = []
        for _ in range(n):
            self.x = (self.x * 16807) % 2147483647
            out.append(ALNUM[self.x % len(ALNUM)])
        return "".join(out)


def cookie(size, route, seed=20240601):
    """Cookie header of about SIZE bytes: ckNN=<40 chars>; ..., route cookie last."""
    rng, last, parts = Lcg(seed), "ROUTEID=." + route, []
    while len("; ".join(parts + ["ck%02d=%s" % (len(parts) + 1, "x" * 40), last])) <= size:
        parts.append("ck%02d=%s" % (len(parts) + 1, rng.value(40)))
    return "; ".join(parts + [last])


def query(size, route, where, seed=20240602):
    """Query of about SIZE bytes: pNN=<24 chars>&..., alias=.ROUTE in the
    middle or last."""
    rng, param, parts = Lcg(seed), "alias=." + route, []
    while len("&".join(parts + ["p%02d=%s" % (len(parts) + 1, "x" * 24), param])) <= size:
        parts.append("p%02d=%s" % (len(parts) + 1, rng.value(24)))
    at = len(parts) // 2 if where == "mid" else len(parts)
    return "&".join(parts[:at] + [param] + parts[at:])


def inputs(route):
    """name -> (path, cookie or None, description)"""
    d = {}

    def c(name, size):
        v = cookie(size, route)
        d[name] = ("/", v, "Cookie of %d bytes, %d cookies of 40-char values, ROUTEID=.%s last"
                   % (len(v), v.count(";") + 1, route) if size else "Cookie: " + v)

    def q(name, size, where):
        v = query(size, route, where)
        d[name] = ("/?" + v, None, "query of %d bytes, %d parameters, alias=.%s %s"
                   % (len(v), v.count("&") + 1, route,
                      "in the middle" if where == "mid" else "last")
                   if size else "query: " + v)

    c("cookie-only", 0)
    c("cookie-1k", 1 * KB)
    c("cookie-2k", 2 * KB)
    c("cookie-4k", 4 * KB)
    c("cookie-6k", 6 * KB)
    q("query-only", 0, "last")
    q("query-200", 200, "mid")
    q("query-1k-last", 1 * KB, "last")
    q("query-2k-last", 2 * KB, "last")
    q("query-4k-mid", 4 * KB, "mid")
    q("query-4k-last", 4 * KB, "last")
    return d


def write(dirname, name, path, ck, desc):
    with open(os.path.join(dirname, name + ".path"), "w") as f:
        f.write(path + "\n")
    if ck is not None:
        with open(os.path.join(dirname, name + ".cookie"), "w") as f:
            f.write(ck + "\n")
    with open(os.path.join(dirname, name + ".desc"), "w") as f:
        f.write(desc + "\n")


def main():
    dirname = sys.argv[1]
    write(dirname, "cookie-new", "/", None, "GET / without Cookie or query (cookie balancer: Set-Cookie)")
    write(dirname, "param-new", "/", None, "GET / without Cookie or query (parameter balancer)")
    for name, (path, ck, desc) in inputs("node1").items():
        write(dirname, name, path, ck, desc)
    for name, (path, ck, desc) in inputs("node2").items():
        write(dirname, name + "-node2", path, ck, desc)


if __name__ == "__main__":
    main()
