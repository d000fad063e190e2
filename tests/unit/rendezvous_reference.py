#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""README 4.7's hash written a second time, in Python integers and
floating point, apart from sticky/rendezvous.c: the pinned hash and draw
rows of test_rendezvous.c must be its values (draws within 4 units of
-log2(u) * 2^32).  Run by make unit; exits 1 on a row it disagrees with.
"""
import math
import re
import sys
from pathlib import Path

M = (1 << 64) - 1
ROUTE_SEED, ADDR_SEED = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f


def mix(x):
    x = ((x ^ (x >> 30)) * 0xbf58476d1ce4e5b9) & M
    x = ((x ^ (x >> 27)) * 0x94d049bb133111eb) & M
    return x ^ (x >> 31)


def half(seed, text):
    b = text.encode()
    h = seed ^ len(b)
    for i in range(0, len(b), 8):
        h = mix(h ^ int.from_bytes(b[i:i + 8], "little"))
    return h


def draw(route, addr):
    return mix(half(ROUTE_SEED, route) ^ half(ADDR_SEED, addr))


ROW = re.compile(r'\{"([^"]*)",\s*L\("([^"]*)"\),\s*L\("([^"]*)"\),\s*'
                 r'(0x[0-9a-f]+)u\}', re.S)


def table(src, name):
    start = src.index("} %s[] = {" % name)
    return ROW.findall(src[start:src.index("};", start)])


def main():
    src = (Path(__file__).parent / "test_rendezvous.c").read_text()
    bad = 0
    hashes, draws = table(src, "hash_rows"), table(src, "draw_rows")
    for name, route, addr, want in hashes:
        if draw(route, addr) != int(want, 16):
            print("hash row %r: reference %016x" % (name, draw(route, addr)))
            bad += 1
    for name, route, addr, want in draws:
        ref = -math.log2((draw(route, addr) | 1) / 2.0 ** 64) * 2.0 ** 32
        if abs(ref - int(want, 16)) > 4:
            print("draw row %r: reference %.1f" % (name, ref))
            bad += 1
    if len(hashes) < 8 or len(draws) < 6:
        print("rows not found: %d hash, %d draw" % (len(hashes), len(draws)))
        bad += 1
    print("rendezvous reference: %d hash and %d draw rows checked, %d differ"
          % (len(hashes), len(draws), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
