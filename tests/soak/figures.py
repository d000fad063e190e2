# SPDX-License-Identifier: Apache-2.0
"""Print the figures the soak tests recorded (soaklib.record), one line per
test run, then the totals: requests sent, failures, route changes,
crashes, leaks.

    python3 figures.py FIGURES.jsonl [SECONDS]
"""
import json
import sys


def main(path, seconds=None):
    try:
        lines = [json.loads(x) for x in open(path) if x.strip()]
    except OSError:
        lines = []
    tot = dict(requests=0, failures=0, route_changes=0, crashes=0)
    leaks = []
    print("%-18s %-8s %9s %8s %7s %7s  %s" % (
        "test", "mpm", "requests", "failures", "route-", "crashes",
        "more"))
    print("%-18s %-8s %9s %8s %7s %7s" % ("", "", "", "", "changes", ""))
    for f in lines:
        test = f.pop("test")
        mpm = f.pop("mpm", "")
        req = f.pop("requests", 0) or 0
        fail = (f.pop("failures", 0) or 0) + (f.pop("cookie_errors", 0) or 0)
        rc = f.pop("route_changes", 0) or 0
        cr = f.pop("crashes", 0) or 0
        if test == "memcheck":
            leaks.append("memcheck errors %s (in mod_gwe_lb: %s); lost "
                         "bytes %s after N, %s after 10N requests; heap in "
                         "use at exit %s / %s bytes" % (
                             f.get("errors"), f.get("module_errors"),
                             f.get("lost_bytes_N"), f.get("lost_bytes_10N"),
                             f.get("in_use_at_exit_N"),
                             f.get("in_use_at_exit_10N")))
            for tag, n in sorted(f.get("native", {}).items()):
                leaks.append("RSS (%s) every %d requests: %s KB; growth "
                             "over the second half %s bytes/request" % (
                                 tag, n["requests"] // 10, n["rss_kb"],
                                 n["rss_growth_bytes_per_request_5n_to_10n"]))
                req += n["requests"]
            fail += 0 if f.get("passed") else 1
        tot["requests"] += req
        tot["failures"] += fail
        tot["route_changes"] += rc
        tot["crashes"] += cr
        more = ", ".join("%s=%s" % (k, json.dumps(v)) for k, v in
                         sorted(f.items()))
        print("%-18s %-8s %9d %8d %7d %7d  %s" % (test, mpm, req, fail, rc,
                                                   cr, more))
    print("total: %d requests sent, %d failures, %d route changes, "
          "%d crashes%s" % (tot["requests"], tot["failures"],
                            tot["route_changes"], tot["crashes"],
                            ", time %s s" % seconds if seconds else ""))
    for line in leaks:
        print("leaks: " + line)
    if not leaks:
        print("leaks: not measured in this run (make soak runs memcheck)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
