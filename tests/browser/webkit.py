# SPDX-License-Identifier: Apache-2.0
"""WebKitGTK (MiniBrowser) driven by WebKitWebDriver, with selenium.

WebKitWebDriver (Debian's webkit2gtk-driver) speaks W3C WebDriver
classic; selenium's webdriver.Remote (python3-selenium 4.8) is the
client.  MiniBrowser needs a display: the driver runs under `xvfb-run -a`,
and the driver, Xvfb and the browser form one process group killed at
close().  MiniBrowser's own switches set what the tests need:
--cookies-policy (always, no-third-party - its default - or never),
--enable-itp for Intelligent Tracking Prevention (off by default), and
--ignore-tls-errors for the self-signed certificate (with the
acceptInsecureCerts capability).

WebKitGTK has no host-mapping switch (Chromium has --host-resolver-rules,
Firefox network.dns.localDomains): the driver and every process it starts
(MiniBrowser, its network process) run with nss_wrapper preloaded
(Debian's libnss-wrapper), whose hosts file of this profile sends the
test hosts to 127.0.0.1; every other name resolves as usual.  The
connections then go straight to the load balancer, and libsoup offers h2
in ALPN, which it never does through an HTTP proxy (README 8.1).
"""
import json
import os
import subprocess
import tempfile
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.webkitgtk.options import Options

from chromium import discard_profile, kill_group
from gwetest import free_port

DRIVER = os.environ.get("GWE_WEBKITDRIVER", "/usr/bin/WebKitWebDriver")
MINIBROWSER = os.environ.get(
    "GWE_MINIBROWSER", "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")
NSS_WRAPPER = "/usr/lib/x86_64-linux-gnu/libnss_wrapper.so"

# MiniBrowser's --cookies-policy per cookie policy (None: its default);
# the itp policies also turn Intelligent Tracking Prevention on.
COOKIES_POLICY = {"default": None, "allow-all": "always",
                  "block-third-party": "no-third-party", "block-all": "never",
                  "itp": None, "itp-allow-all": "always"}
ITP = ("itp", "itp-allow-all")


class WebKitError(RuntimeError):
    """The driver did not start, or the page threw."""


class WebKit:
    def __init__(self, url="about:blank", cookies="default", hosts=()):
        self.profile = tempfile.mkdtemp(prefix="gwetest-webkit-")
        self.url = url
        self.cookie_policy = COOKIES_POLICY[cookies]
        self.itp = cookies in ITP
        self.hosts = hosts
        self.proc = None
        self.driver = None
        self.page = None
        self.version = None

    def start(self, timeout=60.0):
        """Starts the driver and MiniBrowser and opens the first page.  A
        fresh MiniBrowser's first navigation now and then fails with an
        empty WebDriverException (about once in 40 starts, with this
        module and with earlier ones alike): that start is retried once
        from a fresh profile; a second failure is the test's."""
        try:
            return self._start(timeout)
        except WebDriverException:
            self._stop()
            discard_profile(self.profile)
            self.profile = tempfile.mkdtemp(prefix="gwetest-webkit-")
        try:
            return self._start(timeout)
        except BaseException:
            self.close()
            raise

    def _start(self, timeout):
        port = free_port()
        self.log = open(os.path.join(self.profile, "webkit.log"), "wb")
        self.proc = subprocess.Popen(
            ["xvfb-run", "-a", DRIVER, "--port=%d" % port],
            start_new_session=True, stdin=subprocess.DEVNULL,
            env=self._resolving_env(), stdout=self.log, stderr=self.log)
        try:
            self._wait_driver(port, timeout)
            opts = Options()
            opts.binary_location = MINIBROWSER
            opts.add_argument("--automation")
            opts.add_argument("--ignore-tls-errors")
            if self.itp:
                opts.add_argument("--enable-itp")
            if self.cookie_policy:
                opts.add_argument("--cookies-policy=" + self.cookie_policy)
            opts.set_capability("acceptInsecureCerts", True)
            self.driver = webdriver.Remote(
                command_executor="http://127.0.0.1:%d" % port, options=opts)
            self.driver.set_script_timeout(timeout)
            self.driver.set_page_load_timeout(timeout)
            self.version = "WebKitGTK %s" % self.driver.capabilities.get(
                "browserVersion")
            self.page = Page(self.driver)
            self.page.goto(self.url)
        except WebDriverException:
            raise  # start() retries once, then closes
        except BaseException:
            self.close()
            raise
        return self

    def _resolving_env(self):
        """The environment in which the test hosts are 127.0.0.1."""
        hosts = os.path.join(self.profile, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 %s\n" % " ".join(self.hosts))
        env = dict(os.environ, NSS_WRAPPER_HOSTS=hosts)
        env["LD_PRELOAD"] = " ".join(
            filter(None, (NSS_WRAPPER, os.environ.get("LD_PRELOAD"))))
        return env

    def _wait_driver(self, port, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                        "http://127.0.0.1:%d/status" % port, timeout=5):
                    return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.1)
        raise WebKitError("WebKitWebDriver did not answer (see %s)"
                          % self.log.name)

    def _stop(self):
        """Ends the driver, Xvfb and the browser; the profile stays."""
        if self.driver is not None:
            try:
                self.driver.quit()
            except Exception:  # the group is killed below anyway
                pass
            self.driver = None
        if self.proc:
            kill_group(self.proc)
            self.log.close()
            self.proc = None

    def close(self):
        self._stop()
        discard_profile(self.profile)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def cookies(self):
        """The cookies of the current document (WebDriver classic shows no
        other): name, value, domain, path, secure, httpOnly, sameSite."""
        return self.driver.get_cookies()


class Page:
    def __init__(self, driver):
        self.driver = driver

    def goto(self, url, timeout=60.0):
        self.driver.get(url)

    def eval(self, expression, await_promise=True, timeout=60.0):
        """Evaluate JavaScript (awaited); its value through JSON, or
        WebKitError with what the page threw."""
        r = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.resolve().then(() => (%s)).then("
            "v => done(JSON.stringify({value: v === undefined ? null : v})),"
            " e => done(JSON.stringify({error: String(e)})));" % expression)
        r = json.loads(r)
        if "error" in r:
            raise WebKitError("page threw: %s" % r["error"])
        return r["value"]
