#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Where mod_gwe_lb.so's own instructions go, per function, source line or
instruction, per request after warm-up.

    BENCH_CG_EXTRA=--dump-instr=yes BENCH_KEEP_TMP=1 \\
        BENCH_WORKLOADS=param-new bench/instr.sh table
    cg_lines.py DIR VARIANT WORKLOAD [FUNCTION [--asm]]

DIR is the directory bench/instr.sh kept.  Counts as instr.sh does: the
WARM+N-request run minus the WARM-request run, / N (400, or $BENCH_N).
Without FUNCTION: the module's functions by own cost.  With it: that
function's cost by source line (inlined code counts where it was written,
sticky/chars.h included), or with --asm every instruction of it
(objdump -dl of build/mod_gwe_lb.so, the build the run copied).  Needs
callgrind files written with --dump-instr=yes; link-time optimisation
inlines small functions into their callers, so look for them there.
"""
import collections
import os
import re
import subprocess
import sys

MODULE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                      "build", "mod_gwe_lb.so")


def parse(path):
    """Own cost per instruction address of mod_gwe_lb.so, and its function."""
    costs, fn_of = collections.Counter(), {}
    names = {"ob": {}, "fn": {}}
    ob = fn = None
    last = [0, 0]
    skip = False

    def name(kind, rest):
        m = re.match(r"\((\d+)\)(?: (.*))?", rest)
        if not m:
            return rest
        table = names[kind]
        if m.group(2) is not None:
            table[m.group(1)] = m.group(2)
        return table.get(m.group(1))

    def position(tok, i):
        if tok != "*":
            last[i] = last[i] + int(tok, 0) if tok[0] in "+-" else int(tok, 0)
        return last[i]

    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            continue
        if line[0].isdigit() or line[0] in "+-*":
            parts = line.split()
            addr = position(parts[0], 0)
            position(parts[1], 1)
            if skip:  # the inclusive cost of a call: not this line's own
                skip = False
            elif ob and ob.endswith("mod_gwe_lb.so") and len(parts) > 2:
                costs[addr] += int(parts[2])
                fn_of[addr] = fn
            continue
        key, _, rest = line.partition("=")
        if key in ("ob", "cob"):
            value = name("ob", rest)
            if key == "ob":
                ob = value
        elif key in ("fn", "cfn"):
            value = name("fn", rest)
            if key == "fn":
                fn = value
        elif key == "calls":
            skip = True
    return costs, fn_of


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    d, v, w = sys.argv[1:4]
    want = sys.argv[4] if len(sys.argv) > 4 else None
    n = int(os.environ.get("BENCH_N", "400"))
    base = os.path.join(d, "callgrind", "v%s-%s" % (v, w))
    all_, fn_of = parse(base + ".all.out")
    warm, _ = parse(base + ".warm.out")
    per = {a: (all_[a] - warm.get(a, 0)) / n for a in all_}
    if not want:
        by_fn = collections.Counter()
        for a, c in per.items():
            by_fn[fn_of[a]] += c
        for f, c in by_fn.most_common():
            if abs(c) >= 0.5:
                print("%8.1f  %s" % (c, f))
        return
    dis = subprocess.run(["objdump", "-dl", "--no-show-raw-insn", MODULE],
                         capture_output=True, text=True, check=True)
    inside, where = False, None
    by_line = collections.Counter()
    for line in dis.stdout.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:", line)
        if m:
            inside = m.group(1) == want
        if not inside:
            continue
        m = re.match(r"^\s+([0-9a-f]+):", line)
        if not m:
            src = re.match(r"^(/\S+:\d+)", line)
            if src:
                where = src.group(1)
            if "--asm" in sys.argv:
                print("        " + line)
            continue
        c = per.get(int(m.group(1), 16), 0)
        by_line[where] += c
        if "--asm" in sys.argv:
            print(("%6.1f  " % c if c else "        ") + line)
    if "--asm" not in sys.argv:
        print("%8.1f  %s (total)" % (sum(by_line.values()), want))
        for where, c in by_line.most_common():
            if c >= 0.5:
                print("%8.1f  %s" % (c, where))


if __name__ == "__main__":
    main()
