# SPDX-License-Identifier: Apache-2.0
"""README 3 (cross-site rules) and 8, "Which cookie attributes your
deployment needs": the measured table, stock recipe vs mod_gwe_lb.

Each mode runs every row (see cookietable.py) in one fresh Chromium and
asserts the whole table, sticky rows AND lost rows: a lost row is exact
round-robin between two members (a balancer of its own, sequential calls),
so a row whose cookie the browser starts or stops sending, or a module
that writes other attributes than configured, changes a cell.
"""
import json

import pytest

import cookietable
from gwetest import REPO

OUT = REPO / "build" / "browser"


@pytest.mark.parametrize("mode", list(cookietable.MODES))
def test_measured_table(site, browser, mode):
    b = browser(site.page(cookietable.ROWS[0][1]),
                **cookietable.MODES[mode][1])
    measured = cookietable.measure(site, b, mode)
    for row, recipes in measured.items():
        for recipe, answers in recipes.items():
            bad = [a for a in answers if a.get("status") != 200]
            assert not bad, "%s/%s: calls failed: %s" % (row, recipe, answers)
    cells = cookietable.cells(measured)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("table-%s.json" % mode)).write_text(json.dumps(
        {"chromium": b.version, "cells": cells, "answers": measured},
        indent=1))
    table = cookietable.render({mode: cells})
    assert cells == cookietable.EXPECTED[mode], \
        "measured (distinct members: stock, gwe):\n%s\nexpected %s" % (
            table, cookietable.EXPECTED[mode])
