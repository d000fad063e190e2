# SPDX-License-Identifier: Apache-2.0
"""The mod_gwe_lb lines of server-status?auto (README 7.13), read into
dicts: status(env) -> {balancer name: {"members": {route: {counter: n}},
counter: n}}, and delta(before, after) between two readings.  The
instance needs mod_status and /server-status mapped."""
import re


def status(env, headers=()):
    """The GWELB lines of server-status?auto as {balancer name: {"members":
    {route: {counter: n}}, counter: n}}, checking the numbering."""
    listed = status_list(env, headers)
    out = dict(listed)
    assert len(out) == len(listed), "names repeat"
    return out


def status_list(env, headers=()):
    """The same as a list of (balancer name, its dict), in ?auto order."""
    r = env.get("/server-status?auto", headers=headers)
    assert r.status == 200, r
    names, routes, out = {}, {}, {}
    for line in r.body.decode().splitlines():
        m = re.match(r"GWELBBalancer\[(\d+)\](?:Member\[(\d+)\])?(\w+): (.*)$",
                     line)
        if not m:
            continue
        i, j, key, val = int(m[1]), m[2], m[3], m[4]
        if j is None and key == "Name":
            assert i == len(names), "balancers numbered from 0: %s" % line
            names[i] = val
            out[i] = {"members": {}}
        elif j is None:
            out[i][key] = int(val)
        elif key == "Route":
            routes[i, int(j)] = val
            members = out[i]["members"]
            assert int(j) == len(members), "members numbered from 0: " + line
            members[val] = {}
        else:
            out[i]["members"][routes[i, int(j)]][key] = int(val)
    return [(names[i], out[i]) for i in sorted(names)]


def delta(before, after):
    """after - before, per balancer, member and counter."""
    out = {}
    for b, a in after.items():
        old = before.get(b, {"members": {}})
        d = {"members": {}}
        for k, v in a.items():
            if k != "members":
                d[k] = v - old.get(k, 0)
        for route, counters in a["members"].items():
            o = old["members"].get(route, {})
            d["members"][route] = {k: v - o.get(k, 0)
                                   for k, v in counters.items()}
        out[b] = d
    return out
