#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Where the extra instructions of one callgrind run go, against another.

    cg_diff.py BASE.out BASE_REQUESTS OTHER.out OTHER_REQUESTS [TOP]
    cg_diff.py --steady DIR BASE_VARIANT OTHER_VARIANT WORKLOAD [N [TOP]]

Runs callgrind_annotate (own costs of every function) on both files,
divides by the number of requests each served and prints the functions
whose cost per request grew or shrank the most, then the inclusive cost of
mod_gwe_lb.so's functions in the second run.  Used by bench/profile.sh instr.

--steady reads the files bench/instr.sh keeps (BENCH_KEEP_TMP=1, DIR its
temporary directory) and counts as instr.sh does: per variant, the
WARM+N-request run minus the WARM-request run, / N (400), so start-up and
warm-up are out of every function's figure.
"""
import re
import subprocess
import sys

LINE = re.compile(r"^\s*([\d,]+)\s+(?:\(\s*[\d.]+%\)\s+)?(\S.*?)\s*$")


def costs(path, inclusive):
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=" + ("yes" if inclusive else "no"),
         "--threshold=100", "--auto=no", path],
        capture_output=True, text=True, check=True).stdout
    rows, started = [], False
    for line in out.splitlines():
        if not started:
            started = line.strip().startswith("Ir") and "file:function" in line
            continue
        if line.startswith("----") and rows:
            break                       # end of the function table
        m = LINE.match(line)
        if not m or "PROGRAM TOTALS" in line:
            continue
        rows.append((int(m.group(1).replace(",", "")), m.group(2)))
    # The same function appears as "file:fn [obj]" and, for its parts
    # without debug information, "???:fn [obj]" or "file:fn": count it once.
    table, objs = {}, {}
    for _, name in rows:
        fn, obj = split(name)
        if obj:
            objs.setdefault(fn, obj)
    for val, name in rows:
        fn, obj = split(name)
        key = "%s (%s)" % (fn, obj or objs.get(fn, "?"))
        if inclusive:
            table[key] = max(table.get(key, 0), val)
        else:
            table[key] = table.get(key, 0) + val
    return table


def split(name):
    """"file:fn [obj]" -> (fn, object basename or None)"""
    m = re.match(r"^(?:.*?):(.*?)(?: \[(.*)\])?$", name)
    if not m:
        return name, None
    obj = m.group(2)
    return m.group(1), obj.rsplit("/", 1)[-1] if obj else None


def steady(argv):
    d, vb, vo, w = argv[:4]
    n = int(argv[4]) if len(argv) > 4 else 400
    top = int(argv[5]) if len(argv) > 5 else 20

    def per_request(v):
        path = "%s/callgrind/v%s-%s" % (d, v, w)
        a, b = costs(path + ".all.out", False), costs(path + ".warm.out", False)
        return {k: (a.get(k, 0) - b.get(k, 0)) / n for k in set(a) | set(b)}

    a, b = per_request(vb), per_request(vo)
    rows = sorted(((b.get(k, 0) - a.get(k, 0), k) for k in set(a) | set(b)),
                  key=lambda r: -abs(r[0]))
    print("    own instructions per request, variant %s minus %s, %s "
          "(total %+.1f)" % (vo, vb, w, sum(b.values()) - sum(a.values())))
    for diff, k in rows[:top]:
        if abs(diff) >= 0.5:
            print("      %+8.1f  %s" % (diff, k))


def main():
    if sys.argv[1] == "--steady":
        return steady(sys.argv[2:])
    base, nb, other, no = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    top = int(sys.argv[5]) if len(sys.argv) > 5 else 12
    a, b = costs(base, False), costs(other, False)
    rows = []
    for k in set(a) | set(b):
        d = b.get(k, 0) / no - a.get(k, 0) / nb
        if abs(d) >= 1:
            rows.append((d, b.get(k, 0) / no, k))
    rows.sort(key=lambda r: -abs(r[0]))
    total = sum(b.values()) / no - sum(a.values()) / nb
    print("    own (exclusive) instructions per request: change, then cost in the"
          " second run (total change %+.0f)" % total)
    for d, v, k in rows[:top]:
        print("      %+8.0f %8.0f  %s" % (d, v, k))
    inc = costs(other, True)
    mod = sorted(((v / no, k) for k, v in inc.items() if "mod_gwe_lb.so" in k),
                 reverse=True)
    if mod:
        print("    mod_gwe_lb.so functions, inclusive instructions per request"
              " (a filter's includes the filters after it):")
        for v, k in mod[:top]:
            if v >= 1:
                print("      %8.0f  %s" % (v, k))


if __name__ == "__main__":
    main()
