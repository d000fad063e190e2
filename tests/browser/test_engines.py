# SPDX-License-Identifier: Apache-2.0
"""Issue 14, README 8: the cookie matrix per browser engine, over HTTP/2.

For each engine and cookie policy, one fresh browser measures its cells
(engines.py): the stock recipe, the module, and the module with
GWELBFallback client-ip, in each setup of that policy.  make test runs
the smoke cells (engines.SMOKE); make soak (GWE_BROWSER_FULL=1) all of
them.  Every cell is asserted, sticky AND lost: a lost cell is exact
round-robin on a balancer of its own, so a browser that starts or stops
sending a cookie changes it.  The measured cells are left in
build/browser/engine-<engine>-<policy>.json.

With fallback, every call comes from 127.0.0.1: the visitor keeps its
member even when the browser keeps no cookie.  Every call of a cell
carries a marker in its query, and the load balancer's protocol log (%H)
shows each went over HTTP/2 (engines.PROTOCOL).
"""
import json
import os
import uuid

import pytest

import engines
from gwetest import REPO

OUT = REPO / "build" / "browser"
FULL = bool(os.environ.get("GWE_BROWSER_FULL"))


def distinct(answers):
    return len({a.get("member") for a in answers})


def measure_cell(site, b, engine, row, recipe):
    """The cell's answers and the protocols its calls used."""
    setup = engines.ROWS[row][0]
    if b.page.eval("location.href", await_promise=False) != site.page(setup):
        b.page.goto(site.page(setup))
    marker = uuid.uuid4().hex
    url = site.lb(setup, engines.balancer_name(engine, row, recipe),
                  query="?m=" + marker)
    answers = b.page.eval("gwe.calls(%s, %d)" % (json.dumps(url),
                                                 engines.CALLS), timeout=60)
    assert len(answers) == engines.CALLS
    bad = [a for a in answers if a.get("status") != 200]
    assert not bad, "%s %s/%s: calls failed: %s" % (engine, row, recipe,
                                                     answers)
    return answers, site.protocols(marker)


@pytest.mark.parametrize("engine,policy", [
    (e, p) for e in engines.ENGINES for p in engines.POLICIES
    if engines.cells_of(e, p, FULL)])
def test_engine_matrix(site, engine_browser, engine, policy):
    cells = engines.cells_of(engine, policy, FULL)
    first = site.page(engines.ROWS[cells[0][0]][0])
    b = engine_browser(engine, first, cookies=policy)
    measured, got, protocols = {}, {}, {}
    for row, recipe in cells:
        answers, protos = measure_cell(site, b, engine, row, recipe)
        measured["%s/%s" % (row, recipe)] = answers
        got[(row, recipe)] = distinct(answers)
        protocols["%s/%s" % (row, recipe)] = protos
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("engine-%s-%s.json" % (engine, policy))).write_text(json.dumps(
        {"version": b.version, "cells": {"%s/%s" % k: v
                                         for k, v in got.items()},
         "protocols": protocols, "answers": measured}, indent=1))
    want = {(row, recipe): engines.EXPECTED[engine][row][
        engines.RECIPES.index(recipe)] for row, recipe in cells}
    assert got == want, "%s (%s): distinct members measured %s, expected %s" \
        % (engine, b.version, got, want)
    # Every call of every cell used the engine's protocol: HTTP/2 for
    # every engine (engines.PROTOCOL).
    for cell, protos in protocols.items():
        assert protos and set(protos) == {engines.PROTOCOL[engine]}, \
            "%s %s: protocols %s" % (engine, cell, protos)


@pytest.mark.parametrize("engine", engines.ENGINES)
def test_engine_websocket_reaches_member_of_fetches(site, engine_browser,
                                                    engine):
    """A first-party page (every engine keeps that cookie): its fetches
    set the module's route cookie; each WebSocket the page opens then
    reaches the same member (upgrade=websocket)."""
    b = engine_browser(engine, site.page("first-party"))
    url = site.lb("first-party", "ws-" + engine)
    answers = b.page.eval("gwe.calls(%s, 4)" % json.dumps(url), timeout=60)
    member = answers[0]["member"]
    assert [a["member"] for a in answers] == [member] * 4, answers
    echoes = [b.page.eval("gwe.ws(%s, 'hello %d')" % (json.dumps(
        site.wss("first-party", "ws-" + engine)), i)) for i in range(4)]
    assert echoes == ["%s: hello %d" % (member, i) for i in range(4)]


def test_readme_tables_are_the_measured_cells():
    """README 8.1 shows engines.EXPECTED, the cells test_engine_matrix
    asserts on every run: the README cannot drift from what was measured."""
    readme = (REPO / "README").read_text()
    assert engines.render() in readme, \
        "README 8.1 differs from the measured cells; it should read:\n" + \
        engines.render()
