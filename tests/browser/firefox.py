# SPDX-License-Identifier: Apache-2.0
"""Headless Firefox ESR driven over WebDriver BiDi, with python3-websockets.

Firefox has a WebDriver BiDi server built in (--remote-debugging-port);
Debian has no geckodriver package, and selenium 4.8 (Debian 12) cannot
speak BiDi, so the client is the `websockets` library (Debian's
python3-websockets, 10.4: asyncio only) run on an event loop of its own
in a thread; the commands are the few the tests need.

    with Firefox(url="https://shop.test:PORT/page/index.html") as b:
        names = b.page.eval("gwe.calls('https://gwe.test:PORT/x', 8)")

Every Firefox gets a fresh profile whose user.js maps every test host to
127.0.0.1 (network.dns.localDomains), sets the cookie policy
(network.cookie.cookieBehavior) and turns off the background traffic;
the session trusts the site's self-signed certificate through the
acceptInsecureCerts capability of session.new.  Like Chromium, the
browser is a process group of its own, killed at close().
"""
import asyncio
import json
import os
import re
import subprocess
import tempfile
import threading
import time

import websockets

from chromium import discard_profile, kill_group

FIREFOX = os.environ.get("GWE_FIREFOX", "/usr/bin/firefox-esr")

# network.cookie.cookieBehavior per cookie policy: 0 accept all, 1 reject
# third-party, 2 reject all, 5 Firefox's default (total cookie protection:
# third-party cookies kept in a partition of the top-level site).
COOKIE_BEHAVIOR = {"allow-all": 0, "block-third-party": 1, "block-all": 2,
                   "default": 5}

# Prefs for a closed network: no updates, telemetry, remote settings or
# captive-portal probes (each would fail and slow the browser down).
BASE_PREFS = {
    "network.proxy.type": 0,
    "app.update.enabled": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "datareporting.policy.dataSubmissionEnabled": False,
    "toolkit.telemetry.enabled": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "extensions.update.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "network.http.http3.enable": False,
}

LISTENING = re.compile(rb"WebDriver BiDi listening on (ws://[0-9.:]+)")


class BiDiError(RuntimeError):
    """A BiDi command failed, or the page threw."""


class Firefox:
    """One headless Firefox ESR with a fresh profile.

    cookies  the cookie policy, a key of COOKIE_BEHAVIOR
    hosts    host names resolved to 127.0.0.1
    url      the first page; start() waits until it has loaded (.page)
    """

    def __init__(self, url="about:blank", cookies="default", hosts=()):
        self.profile = tempfile.mkdtemp(prefix="gwetest-firefox-")
        prefs = dict(BASE_PREFS)
        prefs["network.cookie.cookieBehavior"] = COOKIE_BEHAVIOR[cookies]
        if hosts:
            prefs["network.dns.localDomains"] = ",".join(hosts)
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for k, v in prefs.items():
                f.write("user_pref(%s, %s);\n" % (json.dumps(k),
                                                  json.dumps(v)))
        self.url = url
        self.proc = None
        self.page = None
        self.version = None
        self._loop = None
        self._ws = None
        self._next_id = 0
        self._waiting = {}

    # ---- lifecycle -----------------------------------------------------

    def start(self, timeout=60.0):
        self.log = open(os.path.join(self.profile, "firefox.log"), "w+b")
        self.proc = subprocess.Popen(
            [FIREFOX, "--headless", "--no-remote", "--remote-debugging-port",
             "0", "--profile", self.profile, "about:blank"],
            start_new_session=True, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=self.log)
        try:
            address = self._wait_listening(timeout)
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, daemon=True,
                             name="firefox-bidi").start()
            self._run(self._connect(address + "/session"), timeout)
            caps = self.call("session.new", {"capabilities": {"alwaysMatch": {
                "acceptInsecureCerts": True}}}, timeout)["capabilities"]
            self.version = "Firefox %s" % caps["browserVersion"]
            tree = self.call("browsingContext.getTree", {})
            self.page = Page(self, tree["contexts"][0]["context"])
            self.page.goto(self.url, timeout)
        except BaseException:
            self.close()
            raise
        return self

    def _wait_listening(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log.name, "rb") as f:
                m = LISTENING.search(f.read())
            if m:
                return m.group(1).decode()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise BiDiError("firefox did not open its BiDi port (see %s)"
                        % self.log.name)

    def close(self):
        if self._ws is not None and self._loop is not None:
            try:
                self._run(self._ws.close(), 5)
            except Exception:  # the browser is killed below anyway
                pass
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._loop = None
        if self.proc:
            kill_group(self.proc)
            self.log.close()
            self.proc = None
        discard_profile(self.profile)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ---- the protocol ---------------------------------------------------

    def _run(self, coro, timeout):
        fut = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout)
        except TimeoutError:
            fut.cancel()
            raise BiDiError("no answer in %d s" % timeout)

    async def _connect(self, address):
        self._ws = await websockets.connect(address, max_size=None)
        self._loop.create_task(self._reader())

    async def _reader(self):
        try:
            async for raw in self._ws:
                msg = json.loads(raw)
                fut = self._waiting.pop(msg.get("id"), None)
                if fut is not None and not fut.done():
                    fut.set_result(msg)
        except websockets.ConnectionClosed:
            pass
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_exception(BiDiError("browser gone"))

    async def _call(self, method, params):
        self._next_id += 1
        mid = self._next_id
        fut = self._loop.create_future()
        self._waiting[mid] = fut
        await self._ws.send(json.dumps({"id": mid, "method": method,
                                        "params": params}))
        return await fut

    def call(self, method, params, timeout=60.0):
        """One BiDi command; its result, or BiDiError."""
        msg = self._run(self._call(method, params), timeout)
        if msg.get("type") != "success":
            raise BiDiError("%s: %s %s" % (method, msg.get("error"),
                                           msg.get("message")))
        return msg["result"]

    # ---- what tests use -------------------------------------------------

    def cookies(self):
        """The cookies storage.getCookies answers, in the shape Chromium's
        cookies() has (name, value, domain, path, secure, httpOnly,
        sameSite)."""
        out = []
        for c in self.call("storage.getCookies", {})["cookies"]:
            c = dict(c, value=c["value"].get("value"))
            c["sameSite"] = c.get("sameSite", "").capitalize()
            out.append(c)
        return out


class Page:
    """One browsing context (tab)."""

    def __init__(self, browser, context):
        self.browser = browser
        self.context = context

    def goto(self, url, timeout=60.0):
        self.browser.call("browsingContext.navigate", {
            "context": self.context, "url": url, "wait": "complete"},
            timeout)

    def eval(self, expression, await_promise=True, timeout=60.0):
        """Evaluate JavaScript in the page; its value as JSON turns it
        into Python, or BiDiError with what the page threw."""
        wrapped = "(async () => JSON.stringify(await (%s)))()" % expression
        r = self.browser.call("script.evaluate", {
            "expression": wrapped, "target": {"context": self.context},
            "awaitPromise": True, "userActivation": True}, timeout)
        if r.get("type") == "exception":
            raise BiDiError("page threw: %s" % r["exceptionDetails"].get(
                "text"))
        value = r["result"].get("value")
        return None if value is None else json.loads(value)
