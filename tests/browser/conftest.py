# SPDX-License-Identifier: Apache-2.0
"""Browser tests: headless Chromium, Firefox ESR and WebKitGTK against a
real Apache with mod_gwe_lb.

One Apache (fixture `site`, scope session) serves the shop pages and every
balancer of the suite on one TLS port (see shopsite.py); each test drives
a Chromium of its own, with a fresh profile (fixture `browser`).  Every
balancer is used by one test only: mod_proxy_balancer's byrequests counts
sticky requests too, so a balancer that served other tests could send a
run of unrouted requests to one member and pass for sticky.
"""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE))

from chromium import CHROMIUM, Chromium  # noqa: E402
from shopsite import ShopSite, suite_balancers  # noqa: E402

pytest_plugins = ["gwetest.pytest_plugin"]


def pytest_sessionstart(session):
    from firefox import FIREFOX
    from webkit import DRIVER, MINIBROWSER, NSS_WRAPPER
    for path, package in ((CHROMIUM, "chromium"), (FIREFOX, "firefox-esr"),
                          (DRIVER, "webkit2gtk-driver"),
                          (MINIBROWSER, "webkit2gtk-driver"),
                          ("/usr/bin/xvfb-run", "xvfb"),
                          (NSS_WRAPPER, "libnss-wrapper")):
        if not os.access(path, os.R_OK if path == NSS_WRAPPER else os.X_OK):
            raise pytest.UsageError(
                "%s is missing: run scripts/deps.sh (Debian package %s)"
                % (path, package))


@pytest.fixture(scope="session")
def site():
    with ShopSite("browser", suite_balancers()) as s:
        yield s


@pytest.fixture
def browser(site):
    """browser(url, **kw) -> a started Chromium with a fresh profile that
    trusts the site's certificate, its tab (.page) on url; closed after
    the test."""
    started = []

    def make(url, **kw):
        b = Chromium(url=url, spki=site.spki, **kw)
        b.start()
        started.append(b)
        return b
    yield make
    for b in started:
        b.close()


@pytest.fixture
def engine_browser(site):
    """engine_browser(engine, url, cookies=policy) -> a started browser of
    that engine (engines.open_browser); closed after the test."""
    from engines import open_browser
    started = []

    def make(engine, url, cookies="default"):
        b = open_browser(engine, site, url, cookies)
        started.append(b)
        return b
    yield make
    for b in started:
        b.close()
