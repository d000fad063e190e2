#!/usr/bin/env python3
"""The cost picture: instructions per request against Cookie-header size and
against query size, one line per variant (floor, stock, module).

    cost_svg.py COST.tsv OUT.svg [SUBTITLE]

COST.tsv (bench/instr.sh svg): axis, workload, bytes, floor, stock, module.
Plain SVG text, no plotting library.  Each panel's y axis starts near the
floor, not at zero: the variants differ by thousands on ~70,000.
"""
import csv
import sys
from xml.sax.saxutils import escape

W, H = 980, 460
PANEL_W, PANEL_H = 390, 300
LEFT, TOP = 90, 80
GAP = 110
COLORS = {"floor": "#777777", "stock": "#1f77b4", "module": "#d62728"}
NAMES = {
    "cookie": ("Cookie header size (bytes), route cookie last",
               {"stock": "stock: stickysession=ROUTEID + mod_headers",
                "module": "mod_gwe_lb: GWELBRouteCookie ROUTEID"}),
    "query": ("query size (bytes), alias=.node1 last",
              {"stock": "stock: stickysession=alias",
               "module": "mod_gwe_lb: GWELBStickyParam alias"}),
}


def nice_step(span, n=5):
    raw = span / n
    mag = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def panel(out, x0, y0, axis, rows):
    xlabel, names = NAMES[axis]
    xs = [r["bytes"] for r in rows]
    ys = [r[k] for r in rows for k in ("floor", "stock", "module")]
    xmax = max(xs) or 1
    xstep = nice_step(xmax)
    xmax = xstep * -(-xmax // xstep)
    ystep = nice_step(max(ys) - min(ys) or 1)
    ymin = ystep * (min(ys) // ystep)
    ymax = ystep * -(-max(ys) // ystep)
    if ymax == ymin:
        ymax = ymin + ystep

    def px(x):
        return x0 + PANEL_W * x / xmax

    def py(y):
        return y0 + PANEL_H * (1 - (y - ymin) / (ymax - ymin))

    out.append('<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>'
               % (x0, y0, PANEL_W, PANEL_H))
    y = ymin
    while y <= ymax + 1e-9:
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>'
                   % (x0, py(y), x0 + PANEL_W, py(y)))
        out.append('<text x="%d" y="%.1f" text-anchor="end" font-size="11">%s</text>'
                   % (x0 - 6, py(y) + 4, format(int(y), ",")))
        y += ystep
    x = 0
    while x <= xmax + 1e-9:
        out.append('<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>'
                   % (px(x), y0, px(x), y0 + PANEL_H))
        out.append('<text x="%.1f" y="%d" text-anchor="middle" font-size="11">%s</text>'
                   % (px(x), y0 + PANEL_H + 16, format(int(x), ",")))
        x += xstep
    out.append('<text x="%d" y="%d" text-anchor="middle" font-size="12">%s</text>'
               % (x0 + PANEL_W / 2, y0 + PANEL_H + 36, escape(xlabel)))
    out.append('<text x="%d" y="%d" text-anchor="middle" font-size="12" '
               'transform="rotate(-90 %d %d)">instructions per request</text>'
               % (x0 - 66, y0 + PANEL_H / 2, x0 - 66, y0 + PANEL_H / 2))
    for i, k in enumerate(("floor", "stock", "module")):
        pts = " ".join("%.1f,%.1f" % (px(r["bytes"]), py(r[k])) for r in rows)
        out.append('<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>'
                   % (pts, COLORS[k]))
        for r in rows:
            out.append('<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s %s: %s bytes, '
                       '%s instructions</title></circle>'
                       % (px(r["bytes"]), py(r[k]), COLORS[k], escape(r["workload"]), k,
                          r["bytes"], format(r[k], ",")))
        label = names.get(k, "floor: mod_proxy_balancer, no stickiness")
        ly = y0 + 14 + 16 * i
        out.append('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/>'
                   % (x0 + 8, ly - 4, x0 + 26, ly - 4, COLORS[k]))
        out.append('<text x="%d" y="%d" font-size="11">%s</text>'
                   % (x0 + 30, ly, escape(label)))


def main():
    tsv, svg = sys.argv[1], sys.argv[2]
    subtitle = sys.argv[3] if len(sys.argv) > 3 else ""
    rows = {"cookie": [], "query": []}
    with open(tsv) as f:
        for r in csv.DictReader(f, delimiter="\t"):
            for k in ("bytes", "floor", "stock", "module"):
                r[k] = int(r[k])
            rows[r["axis"]].append(r)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif">' % (W, H),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="28" text-anchor="middle" font-size="16">mod_gwe_lb: '
           'instructions per request (callgrind, apache2 -X) against input size</text>' % (W / 2),
           '<text x="%d" y="48" text-anchor="middle" font-size="11" fill="#555">%s</text>'
           % (W / 2, escape(subtitle))]
    for i, axis in enumerate(("cookie", "query")):
        if rows[axis]:
            rows[axis].sort(key=lambda r: r["bytes"])
            panel(out, LEFT + i * (PANEL_W + GAP), TOP, axis, rows[axis])
    out.append("</svg>")
    with open(svg, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
