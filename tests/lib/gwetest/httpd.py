# SPDX-License-Identifier: Apache-2.0
"""HttpdEnv: one real Apache httpd, configured and run by a test.

The configuration is self-contained (ServerRoot, PidFile, logs, runtime
directory and mutexes all live in a private temporary directory), so no
Debian envvars or /etc/apache2 file is read and several instances can run
side by side.  See the package docstring for the API.
"""
import atexit
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .client import Connection, http_request
from .members import Member

REPO = Path(__file__).resolve().parents[3]
APACHE = os.environ.get("GWE_APACHE", "/usr/sbin/apache2")
MODULES_DIR = os.environ.get("GWE_MODULES_DIR", "/usr/lib/apache2/modules")
MODULE = os.environ.get("GWE_MODULE", str(REPO / "build" / "mod_gwe_lb.so"))
MPMS = ("event", "worker", "prefork")

# Modules every instance loads, in this order; mod_gwe_lb comes after them
# (it links against mod_proxy's hooks, like mod_proxy_balancer).
BASE_MODULES = (
    "authz_core", "proxy", "proxy_http", "proxy_wstunnel", "proxy_balancer",
    "slotmem_shm", "lbmethod_byrequests", "lbmethod_bytraffic",
    "lbmethod_bybusyness",
)

# The access log: one tab-separated line per request, keyed by the
# X-Gwetest-Id header every HttpdEnv request carries.
ACCESS_FIELDS = (
    ("id", "%{X-Gwetest-Id}i"), ("status", "%>s"), ("uri", "%U"),
    ("GWELB_ROUTE", "%{GWELB_ROUTE}e"),
    ("GWELB_ROUTE_SOURCE", "%{GWELB_ROUTE_SOURCE}e"),
    ("GWELB_REQUESTED_ROUTE", "%{GWELB_REQUESTED_ROUTE}e"),
    ("GWELB_ROUTE_CHANGED", "%{GWELB_ROUTE_CHANGED}e"),
    ("BALANCER_ROUTE_CHANGED", "%{BALANCER_ROUTE_CHANGED}e"),
    ("BALANCER_NAME", "%{BALANCER_NAME}e"),
    ("BALANCER_WORKER_NAME", "%{BALANCER_WORKER_NAME}e"),
    ("BALANCER_WORKER_ROUTE", "%{BALANCER_WORKER_ROUTE}e"),
    ("BALANCER_SESSION_ROUTE", "%{BALANCER_SESSION_ROUTE}e"),
    ("GWELB_FALLBACK", "%{GWELB_FALLBACK}e"),
    ("GWELB_COOKIE_STATUS", "%{GWELB_COOKIE_STATUS}e"),
    ("time", "%{sec}t"),  # the request's second, the module's "now"
)

# error_log lines that fail a test unless it declared them expected.
BAD_LINE_RE = re.compile(
    r"\[(?:[\w.-]+:)?(?:emerg|alert|crit|error|warn)\]"
    r"|AH00052|AH00051|exit signal|Segmentation fault|AddressSanitizer"
    r"|runtime error:")

# error_log lines about this machine, not about the module: they fail no
# test, and each is reported once per run (ENVIRONMENT_NOTICES, printed by
# the pytest plugin's summary, or at exit without pytest) with the command
# that fixes it.  Every other line BAD_LINE_RE matches stays a failure.
ENVIRONMENT_LINES = (
    # Debian upgraded apache2 (mod_ssl built against a newer OpenSSL) but
    # not libssl3: mod_ssl warns at every start.
    (re.compile(r"AH01882"),
     "mod_ssl was built against a newer OpenSSL than the one installed "
     "(AH01882 at every start); fix it with: apt-get install "
     "--only-upgrade libssl3 openssl libssl-dev   (or: make deps)"),
)
ENVIRONMENT_NOTICES = []  # the notices this run has seen, in order

# What mod_proxy logs when a member is down or a balancer has no usable
# member; tests that stop members declare these expected.
BACKEND_DOWN = (
    r"AH00957", r"AH00959", r"AH01114", r"AH01170", r"AH01167", r"AH00940",
    r"AH01102", r"AH02454", r"AH10191", r"AH00898",
)

_used_ports = set()


def free_port():
    """A free TCP port on 127.0.0.1, outside the kernel's ephemeral range
    (so Apache's outgoing connections never take it), never handed out
    twice by this process."""
    for _ in range(1000):
        port = random.randint(20000, 32000)
        if port in _used_ports:
            continue
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _used_ports.add(port)
        return port
    raise RuntimeError("no free port")


def _wait(predicate, timeout, step=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie counts as gone
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def _children(pid):
    """PIDs of the child processes of pid (Apache's workers)."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def environment_line(line):
    """True when an error_log line is an ENVIRONMENT_LINES warning; records
    its notice (once) in ENVIRONMENT_NOTICES."""
    for pattern, notice in ENVIRONMENT_LINES:
        if pattern.search(line):
            if notice not in ENVIRONMENT_NOTICES:
                ENVIRONMENT_NOTICES.append(notice)
            return True
    return False


class StartError(AssertionError):
    """Apache did not start, or logged unexpected lines while starting."""


class Started:
    """Outcome of HttpdEnv.start(): ok, rc and everything Apache said."""

    def __init__(self, ok, rc, output):
        self.ok = ok
        self.rc = rc
        self.output = output

    def __repr__(self):
        return "<Started ok=%s rc=%s output=%r>" % (self.ok, self.rc,
                                                   self.output[-2000:])


class HttpdEnv:
    """One Apache instance.  Use as a context manager, or call cleanup()."""

    running = []  # instances currently started (for the error_log check)

    def __init__(self, name, mpm=None, module=None, log_level=None,
                 extra_modules=(), user=None, base_modules=BASE_MODULES):
        self.name = name
        self.mpm = mpm or os.environ.get("GWE_MPM", "event")
        if self.mpm not in MPMS:
            raise ValueError("GWE_MPM must be one of %s" % (MPMS,))
        self.module = MODULE if module is None else module
        self.log_level = log_level or "warn gwe_lb:debug"
        self.extra_modules = tuple(extra_modules)
        self.base_modules = tuple(base_modules)
        self.user = user
        self.dir = Path(tempfile.mkdtemp(prefix="gwetest-%s-" % name))
        os.chmod(self.dir, 0o755)
        (self.dir / "run").mkdir()
        self.conf = self.dir / "httpd.conf"
        self.error_log = self.dir / "error_log"
        self.access_log = self.dir / "access_log"
        self.pidfile = self.dir / "httpd.pid"
        self.port = free_port()
        self.members = {}
        self.pid = None
        self._log_pos = 0
        self._expected = []
        self._restarts = 0

    # ---- configuration ---------------------------------------------------

    def base_config(self, listen=()):
        """The fixed part of every configuration (before the test's body)."""
        d = self.dir
        out = [
            '# written by gwetest for "%s", MPM %s' % (self.name, self.mpm),
            'ServerRoot "%s"' % d,
            "ServerName 127.0.0.1",
            'PidFile "%s"' % self.pidfile,
            'DefaultRuntimeDir "%s"' % (d / "run"),
            'Mutex file:%s default' % (d / "run"),
            'ErrorLog "%s"' % self.error_log,
            "LogLevel %s" % self.log_level,
            "Timeout 30",
            "Listen 127.0.0.1:%d" % self.port,
        ]
        out += ["Listen %s" % addr for addr in listen]
        if os.geteuid() == 0:
            user = self.user or "www-data"
            out += ["User %s" % user, "Group %s" % user]
        out.append("LoadModule mpm_%s_module %s/mod_mpm_%s.so"
                   % (self.mpm, MODULES_DIR, self.mpm))
        if self.mpm == "prefork":
            out += ["StartServers 2", "MinSpareServers 2",
                    "MaxSpareServers 4", "ServerLimit 16",
                    "MaxRequestWorkers 16"]
        else:
            out += ["StartServers 1", "ServerLimit 2", "ThreadLimit 16",
                    "ThreadsPerChild 16", "MinSpareThreads 8",
                    "MaxSpareThreads 32", "MaxRequestWorkers 32"]
        for mod in self.base_modules + self.extra_modules:
            out.append("LoadModule %s_module %s/mod_%s.so"
                       % (mod, MODULES_DIR, mod))
        if self.module:
            out.append('LoadModule gwe_lb_module "%s"' % self.module)
        fmt = "\\t".join(f for _, f in ACCESS_FIELDS)
        out += ['LogFormat "%s" gwetest' % fmt,
                'CustomLog "%s" gwetest' % self.access_log,
                "", "# ---- test configuration ----"]
        return "\n".join(out) + "\n"

    def write_config(self, body="", listen=()):
        """Write base_config() + body to httpd.conf; returns its path."""
        self.conf.write_text(self.base_config(listen) + body + "\n")
        return self.conf

    def apachectl(self, *args, timeout=60):
        """Run the apache2 binary on this configuration; CompletedProcess."""
        env = dict(os.environ, LANG="C")
        return subprocess.run([APACHE, "-f", str(self.conf)] + list(args),
                              capture_output=True, text=True, env=env,
                              timeout=timeout)

    def configtest(self, body=None, listen=()):
        """`apache2 -t`: returns (ok, output)."""
        if body is not None:
            self.write_config(body, listen)
        r = self.apachectl("-t")
        return r.returncode == 0 and "Syntax OK" in (r.stdout + r.stderr), \
            r.stdout + r.stderr

    # ---- lifecycle ---------------------------------------------------------

    def start(self, body=None, listen=(), expect_fail=False, expect_log=()):
        """Start Apache (`-k start`) and wait until it accepts connections.

        With expect_fail, returns a Started whose ok is False when Apache
        refused to start (and stops it and raises if it did start).
        Otherwise raises StartError when Apache does not start or logs an
        unexpected [warn]/[error]/... line while starting.
        """
        if body is not None:
            self.write_config(body, listen)
        if self.pid:
            raise RuntimeError("already started")
        log_start = self._log_size()
        r = self.apachectl("-k", "start")
        output = r.stdout + r.stderr
        ok = r.returncode == 0 and self._wait_started()
        output += self._log_text(log_start)
        if not ok:
            self.pid = None
            self._kill_leftover()
            if expect_fail:
                return Started(False, r.returncode, output)
            raise StartError("apache2 did not start (rc %s):\n%s"
                             % (r.returncode, output))
        HttpdEnv.running.append(self)
        self._log_pos = log_start
        if expect_fail:
            self.stop()
            raise StartError("apache2 started although the configuration "
                             "should be refused:\n%s" % output)
        self.expect_log(*expect_log)
        bad = self.check_log()
        if bad:
            self.stop()
            raise StartError("unexpected error_log lines at start-up:\n"
                             + "\n".join(bad))
        return Started(True, 0, output)

    def _wait_started(self):
        def pid_ready():
            try:
                self.pid = int(self.pidfile.read_text().strip())
                return True
            except (OSError, ValueError):
                return False
        if not _wait(pid_ready, 15) or not _alive(self.pid):
            return False

        def accepts():
            try:
                with socket.create_connection(("127.0.0.1", self.port), 1):
                    return True
            except OSError:
                return False
        return _wait(accepts, 15) and _alive(self.pid)

    def _kill_leftover(self):
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        if _alive(pid):
            self.apachectl("-k", "stop")
            if not _wait(lambda: not _alive(pid), 15):
                os.kill(pid, 9)

    def stop(self, graceful=False):
        """Stop Apache (`-k stop`, or `-k graceful-stop`) and wait for the
        parent process to exit."""
        if not self.pid:
            return
        pid, self.pid = self.pid, None
        self.apachectl("-k", "graceful-stop" if graceful else "stop")
        if not _wait(lambda: not _alive(pid), 30):
            os.kill(pid, 9)
            _wait(lambda: not _alive(pid), 5)
        if self in HttpdEnv.running:
            HttpdEnv.running.remove(self)

    def restart(self, body=None, graceful=True, listen=()):
        """Rewrite the configuration (if body is given) and restart
        (`-k graceful` or `-k restart`); waits for the new generation."""
        if body is not None:
            self.write_config(body, listen)
        before = self._log_text(0).count("resuming normal operations")
        old_children = _children(self.pid)
        self.apachectl("-k", "graceful" if graceful else "restart")
        ok = _wait(lambda: self._log_text(0).count(
            "resuming normal operations") > before, 30)
        # A graceful restart lets the old generation finish; until its
        # children are gone they may still answer with the old config.
        ok = ok and _wait(lambda: not any(map(_alive, old_children)), 30)
        if not ok or not _alive(self.pid):
            raise StartError("restart failed:\n" + self._log_text(0)[-3000:])

    def cleanup(self):
        """Stop Apache and every member; remove the directory unless the
        GWE_KEEP environment variable is set."""
        self.stop()
        for m in self.members.values():
            m.stop()
        if not os.environ.get("GWE_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    # ---- members -----------------------------------------------------------

    def member(self, name):
        """A started Member called `name` on a free port (created once)."""
        if name not in self.members:
            self.members[name] = Member(name, free_port()).start()
        return self.members[name]

    # ---- requests ----------------------------------------------------------

    def url(self, path="/", port=None, tls=False):
        return "%s://127.0.0.1:%d%s" % ("https" if tls else "http",
                                        port or self.port, path)

    def get(self, target="/", headers=(), cookies=(), method="GET",
            body=None, port=None, tls=False, timeout=15.0):
        """Send one request to this Apache (fresh connection).

        headers: list of (name, value) or a dict; cookies: Cookie header
        values, one header line each.  The response's .id names its access
        log line (see log_entry).
        """
        if isinstance(headers, dict):
            headers = list(headers.items())
        rid = uuid.uuid4().hex
        hdrs = [("X-Gwetest-Id", rid)] + list(headers)
        hdrs += [("Cookie", c) for c in cookies]
        resp = http_request(port or self.port, target, method=method,
                            headers=hdrs, body=body, tls=tls,
                            timeout=timeout)
        resp.id = rid
        return resp

    request = get

    def connection(self, port=None, tls=False):
        """A keep-alive Connection to this Apache; its request(target,
        headers=..., cookies=...) tags requests like get() does."""
        conn = Connection(port or self.port, tls=tls)
        plain = conn.request

        def request(target, method="GET", headers=(), cookies=(), body=None):
            rid = uuid.uuid4().hex
            hdrs = [("X-Gwetest-Id", rid)] + list(headers)
            hdrs += [("Cookie", c) for c in cookies]
            resp = plain(target, method, hdrs, body)
            resp.id = rid
            return resp
        conn.request = request
        return conn

    def served(self, target, n=4, **kw):
        """Send n identical requests; the list of members that answered
        (None for a response that no member produced)."""
        return [self.get(target, **kw).member for _ in range(n)]

    def log_entry(self, resp, timeout=10.0):
        """The access log fields of a response (dict keyed like
        ACCESS_FIELDS; an unset variable reads "-").  Waits for the line,
        which Apache writes after sending the response."""
        rid = resp if isinstance(resp, str) else resp.id
        found = {}

        def look():
            try:
                text = self.access_log.read_text("latin-1")
            except OSError:
                return False
            for line in text.splitlines():
                cols = line.split("\t")
                if cols[0] == rid:
                    found.update(zip((k for k, _ in ACCESS_FIELDS), cols))
                    return True
            return False
        if not _wait(look, timeout):
            raise AssertionError("no access log line for request %s" % rid)
        return found

    # ---- error_log ---------------------------------------------------------

    def _log_size(self):
        try:
            return self.error_log.stat().st_size
        except OSError:
            return 0

    def _log_text(self, start):
        try:
            with open(self.error_log, "rb") as f:
                f.seek(start)
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def log_lines(self, since=None):
        """error_log lines written since offset `since` (default: since
        the last check_log())."""
        return self._log_text(self._log_pos if since is None else since) \
            .splitlines()

    def log_mark(self):
        """The current end of error_log, for log_lines(since=...)."""
        return self._log_size()

    def expect_log(self, *patterns):
        """Declare error_log lines matching these regexes expected until
        the next check_log()."""
        self._expected.extend(patterns)

    def check_log(self):
        """Unexpected [warn]/[error]/[crit]/[alert]/[emerg] or crash lines
        since the last check; forgets the declared expectations."""
        end = self._log_size()
        lines = self._log_text(self._log_pos).splitlines()
        self._log_pos = end
        expected, self._expected = self._expected, []
        return [line for line in lines if BAD_LINE_RE.search(line)
                and not any(re.search(p, line) for p in expected)
                and not environment_line(line)]


@atexit.register
def _stop_leftovers():
    """An interrupted run must not leave Apache instances behind."""
    for env in list(HttpdEnv.running):
        env.stop()


_reported = set()


def report_environment(write):
    """Hand each recorded environment notice to write(text), once per run.
    Returns how many it handed over."""
    new = [n for n in ENVIRONMENT_NOTICES if n not in _reported]
    for notice in new:
        _reported.add(notice)
        write("gwetest: not the module, this machine: " + notice)
    return len(new)


@atexit.register
def _report_environment_at_exit():
    """Without the pytest plugin (scripts/demo.py, ...), say it at exit."""
    report_environment(lambda text: print(text, file=sys.stderr))
