# SPDX-License-Identifier: Apache-2.0
"""pytest glue for gwetest: `pytest_plugins = ["gwetest.pytest_plugin"]`.

- After each test, every running HttpdEnv's error_log is checked: a line at
  [warn] or worse, or a crashed child, that the test did not declare with
  env.expect_log(...) or @pytest.mark.expect_log("regex", ...) fails it.
- Fixture `mpm`: the MPM of this run (GWE_MPM).
- A warning about the machine rather than the module (httpd.py's
  ENVIRONMENT_LINES, e.g. mod_ssl's AH01882) fails no test; the summary
  says it once, with the command that fixes it.
"""
import os

import pytest

from .httpd import MODULE, HttpdEnv, report_environment


def pytest_sessionstart(session):
    """Every suite needs the built module (GWE_MODULE="" loads none)."""
    if MODULE and not os.path.exists(MODULE):
        raise pytest.UsageError(
            "module %s is missing: run `make all` first" % MODULE)


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "expect_log(*regex): error_log lines this test may cause")


@pytest.fixture(scope="session")
def mpm():
    return os.environ.get("GWE_MPM", "event")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    # Lines logged between tests (a child crash is reported by the parent a
    # moment later) are not dropped: they fail the next test, marked so.
    bad = []
    for env in HttpdEnv.running:
        bad += ["%s (before this test): %s" % (env.name, line)
                for line in env.check_log()]
    patterns = [p for m in item.iter_markers("expect_log") for p in m.args]
    for env in HttpdEnv.running:
        env.expect_log(*patterns)
    outcome = yield
    for env in list(HttpdEnv.running):
        bad += ["%s: %s" % (env.name, line) for line in env.check_log()]
    if bad and outcome.excinfo is None:
        raise AssertionError("unexpected error_log lines:\n" + "\n".join(bad))


def pytest_terminal_summary(terminalreporter):
    notices = []
    if report_environment(notices.append):
        terminalreporter.section("environment")
        for text in notices:
            terminalreporter.write_line(text)
