# SPDX-License-Identifier: Apache-2.0
"""Headless Chromium driven over the DevTools protocol, stdlib only.

Chromium is started with --remote-debugging-pipe: it reads DevTools
commands from file descriptor 3 and writes answers and events to file
descriptor 4, one JSON message per NUL-terminated record.  No port, no
WebSocket client and no chromedriver are needed.

    with Chromium(url="https://shop.test:PORT/page.html") as b:
        names = b.page.eval("gwe.calls('https://gwe.test:PORT/x', 8)")
        jar = b.cookies()

Every Chromium gets a new, empty --user-data-dir (a fresh profile), maps
every *.test host name to 127.0.0.1 (--host-resolver-rules) and trusts one
certificate by the SHA-256 of its public key (--ignore-certificate-errors-
spki-list), so TLS works as with a certificate from a real CA.  The
browser and every process it starts form a process group of their own,
killed at close(): the profile is thrown away, so nothing needs a clean
shutdown.
"""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

CHROMIUM = os.environ.get("GWE_CHROMIUM", "/usr/bin/chromium")

# The flags this machine needs: root (no sandbox), no GPU, and no background
# traffic (the network is closed; Chromium's own connections would fail and
# slow it down).
BASE_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--no-default-browser-check",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-extensions", "--disable-dev-shm-usage",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--mute-audio", "--password-store=basic", "--use-mock-keychain",
)

# Chromium's content-setting value that blocks a kind of storage.
CONTENT_SETTING_BLOCK = 2


def kill_group(proc):
    """Kill the process group a browser started with start_new_session
    forms (the browser and every process it started), and reap it."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(10)


def discard_profile(profile):
    """Remove a browser's profile directory, unless GWE_KEEP is set."""
    if not os.environ.get("GWE_KEEP"):
        shutil.rmtree(profile, ignore_errors=True)


class CDPError(RuntimeError):
    """A DevTools command failed, or the page threw."""


class Chromium:
    """One headless Chromium with a fresh profile.

    block_third_party_cookies  start with --test-third-party-cookie-phaseout,
                               Chromium's switch that blocks third-party
                               cookies
    block_all_cookies          the profile's default cookie setting is
                               "block": no site may store a cookie
    spki                       base64 SHA-256 of the public key to trust
    host_rules                 --host-resolver-rules value
    prefs                      more profile preferences (Preferences file)
    url                        the first tab's page; start() waits until
                               it has loaded and attaches to it (.page)
    """

    def __init__(self, url="about:blank", spki=None,
                 block_third_party_cookies=False,
                 block_all_cookies=False, prefs=None,
                 host_rules="MAP *.test 127.0.0.1", extra_flags=()):
        self.profile = tempfile.mkdtemp(prefix="gwetest-chromium-")
        flags = list(BASE_FLAGS) + [
            "--user-data-dir=%s" % self.profile,
            "--host-resolver-rules=%s" % host_rules,
            "--remote-debugging-pipe",
        ]
        if spki:
            flags.append("--ignore-certificate-errors-spki-list=%s" % spki)
        if block_third_party_cookies:
            flags.append("--test-third-party-cookie-phaseout")
        prefs = dict(prefs or {})
        if block_all_cookies:
            prefs.setdefault("profile", {}).setdefault(
                "default_content_setting_values", {})["cookies"] = \
                CONTENT_SETTING_BLOCK
        if prefs:
            self._write_preferences(prefs)
        self.flags = flags + list(extra_flags)
        self.url = url
        self.page = None
        self.proc = None
        self._next_id = 0
        self._lock = threading.Lock()
        self._answers = {}
        self._cond = threading.Condition(self._lock)
        self._closed = False

    def _write_preferences(self, prefs):
        d = os.path.join(self.profile, "Default")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "Preferences"), "w") as f:
            json.dump(prefs, f)

    # ---- lifecycle -----------------------------------------------------

    def start(self):
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def child_fds():  # runs in the child, before exec
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.stderr = open(os.path.join(self.profile, "chromium.log"), "wb")
        self.proc = subprocess.Popen(
            [CHROMIUM] + self.flags + [self.url], pass_fds=(3, 4),
            preexec_fn=child_fds, start_new_session=True,
            stdin=subprocess.DEVNULL, stdout=self.stderr, stderr=self.stderr)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        threading.Thread(target=self._reader, daemon=True,
                         name="chromium-pipe").start()
        try:
            self.version = self.call("Browser.getVersion", timeout=60)[
                "product"]
            self.page = self._first_page()
        except BaseException:
            self.close()
            raise
        return self

    def _first_page(self):
        """Attach to the tab opened with self.url; wait for its load."""
        deadline = time.monotonic() + 60
        while True:
            pages = [t for t in self.call("Target.getTargets")["targetInfos"]
                     if t["type"] == "page"]
            if pages or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        if not pages:
            raise CDPError("no tab for %s" % self.url)
        page = self._attach(pages[0]["targetId"])
        page.wait_loaded(self.url)
        return page

    def _attach(self, target):
        session = self.call("Target.attachToTarget",
                            {"targetId": target, "flatten": True})["sessionId"]
        return Page(self, target, session)

    def close(self):
        """Kill the browser's process group and remove the profile."""
        if self.proc:
            kill_group(self.proc)
            self.stderr.close()
            self.proc = None
        if getattr(self, "_to_chrome", None) is not None:
            try:
                os.close(self._to_chrome)
            except OSError:
                pass
            self._to_chrome = None
        discard_profile(self.profile)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ---- the protocol ---------------------------------------------------

    def _reader(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                break
            buf += chunk
            while b"\0" in buf:
                raw, _, buf = buf.partition(b"\0")
                msg = json.loads(raw)
                if "id" not in msg:  # an event: no test waits for one
                    continue
                with self._cond:
                    self._answers[msg["id"]] = msg
                    self._cond.notify_all()
        os.close(self._from_chrome)
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def call(self, method, params=None, session=None, timeout=60.0):
        """Send one DevTools command; its result, or CDPError."""
        with self._lock:
            self._next_id += 1
            mid = self._next_id
        msg = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        try:
            os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        except (OSError, TypeError) as e:  # closed pipe, or close() ran
            raise CDPError("%s: browser gone (%s)" % (method, e))
        deadline = time.monotonic() + timeout
        with self._cond:
            while mid not in self._answers:
                left = deadline - time.monotonic()
                if self._closed or left <= 0:
                    raise CDPError("%s: no answer (%s)" % (
                        method, "browser gone" if self._closed else "timeout"))
                self._cond.wait(left)
            answer = self._answers.pop(mid)
        if "error" in answer:
            raise CDPError("%s: %s" % (method, answer["error"]))
        return answer.get("result", {})

    # ---- what tests use -------------------------------------------------

    def new_page(self, url=None):
        """A new tab, attached; navigated to url if given."""
        target = self.call("Target.createTarget",
                           {"url": "about:blank"})["targetId"]
        page = self._attach(target)
        if url:
            page.goto(url)
        return page

    def cookies(self):
        """Every cookie in the profile (Storage.getCookies): dicts with
        name, value, domain, path, secure, httpOnly, sameSite,
        partitionKey (absent for unpartitioned cookies), ..."""
        return self.call("Storage.getCookies")["cookies"]


class Page:
    """One tab."""

    def __init__(self, browser, target, session):
        self.browser = browser
        self.target = target
        self.session = session

    def call(self, method, params=None, timeout=60.0):
        return self.browser.call(method, params, self.session, timeout)

    def goto(self, url, timeout=60.0):
        """Navigate and wait until the new document has loaded."""
        nav = self.call("Page.navigate", {"url": url})
        if nav.get("errorText"):
            raise CDPError("navigate %s: %s" % (url, nav["errorText"]))
        self.wait_loaded(url, timeout)

    def wait_loaded(self, url, timeout=60.0):
        """Wait until the tab shows url, loaded."""
        deadline = time.monotonic() + timeout
        state = (None, None, None)
        while time.monotonic() < deadline:
            try:
                state = self.eval(
                    "[document.readyState, location.href, document.body ?"
                    " document.body.innerText.slice(0, 300) : '']",
                    await_promise=False)
            except CDPError:  # the context went away mid-navigation
                state = (None, None, None)
            if state[0] == "complete" and state[1] == url:
                return
            time.sleep(0.02)
        raise CDPError("%s: page did not load in %d s (readyState, href, "
                       "text: %s)" % (url, timeout, state))

    def eval(self, expression, await_promise=True, timeout=60.0):
        """Evaluate JavaScript in the page; its value (JSON-able), or
        CDPError with the exception the page threw."""
        r = self.call("Runtime.evaluate", {
            "expression": expression, "awaitPromise": await_promise,
            "returnByValue": True, "userGesture": True}, timeout=timeout)
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            raise CDPError("page threw: %s" % text)
        return r["result"].get("value")
