# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the fault and hostile-input suite (tests/soak).

- MemberProcess: gwetest members in a process of their own (member_proc.py),
  so a test can SIGKILL one and start it again on the same port.
- Conn: a raw HTTP/1.1 keep-alive connection that sends bytes as given and
  reads every response header line (gwetest's client opens one connection
  per request; load needs many requests per connection).
- figures: every test appends what it measured (requests sent, failures,
  route changes, crashes, ...) to one JSON-lines file, which quick.sh and
  run.sh print as a table.
- crash_lines: the error_log lines that mean a child crashed.

Sizes come from the environment so `make soak` can run the same tests
longer (see run.sh); the defaults are the bounded `make test` sizes.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))

from gwetest import REPO, free_port  # noqa: E402

PYTHON = os.environ.get("GWE_PYTHON", "/usr/bin/python3")
if not os.path.exists(PYTHON):
    PYTHON = sys.executable
FIGURES = Path(os.environ.get("GWE_SOAK_FIGURES",
                              str(REPO / "build" / "soak" / "figures.jsonl")))

# What a crashed or aborted httpd child leaves in error_log.
CRASH_RE = re.compile(r"AH00052|AH00051|exit signal|Segmentation fault"
                      r"|AddressSanitizer|runtime error:|double free"
                      r"|malloc\(\)|stack smashing")


def size(name, default):
    """An integer size from the environment (GWE_SOAK_<NAME>)."""
    return int(os.environ.get("GWE_SOAK_" + name, default))


def record(test, **figures):
    """Append one test's figures to the figures file (and print them)."""
    FIGURES.parent.mkdir(parents=True, exist_ok=True)
    line = dict(test=test, **figures)
    with open(FIGURES, "a") as f:
        f.write(json.dumps(line, sort_keys=True) + "\n")
    print("figures %s: %s" % (test, json.dumps(figures, sort_keys=True)))


def crash_lines(env):
    """error_log lines of `env` that report a crashed child."""
    return [line for line in env.log_lines(since=0) if CRASH_RE.search(line)]


# ---- members in their own processes -----------------------------------------

class MemberProcess:
    """gwetest members NAME -> port served by one child process."""

    def __init__(self, names):
        self.ports = {n: free_port() for n in names}
        self.proc = None

    def url(self, name):
        return "http://127.0.0.1:%d" % self.ports[name]

    def start(self):
        args = ["%s:%d" % (n, p) for n, p in self.ports.items()]
        for _ in range(50):  # the port may still be in TIME_WAIT/closing
            self.proc = subprocess.Popen(
                [PYTHON, str(HERE / "member_proc.py")] + args,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = self.proc.stdout.readline()
            if line.strip() == "ready":
                return self
            self.proc.wait()
            time.sleep(0.1)
        raise RuntimeError("members %s did not start: %s"
                           % (args, self.proc.stderr.read()))

    def kill(self):
        """SIGKILL: open connections are reset, the ports refuse."""
        if self.proc:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
            self.proc = None

    def stop(self):
        if self.proc:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None


def start_members(groups):
    """groups: list of name lists, one process each.  Returns
    ({name: url}, {name: MemberProcess}, [processes])."""
    procs = [MemberProcess(g).start() for g in groups]
    urls, by_name = {}, {}
    for p in procs:
        for n in p.ports:
            urls[n] = p.url(n)
            by_name[n] = p
    return urls, by_name, procs


# ---- a keep-alive HTTP/1.1 client ---------------------------------------------

class Resp:
    __slots__ = ("status", "headers", "body", "resent", "raw_head")

    def __init__(self, status, headers, body, raw_head):
        self.status = status
        self.headers = headers  # [(name bytes, value bytes)]
        self.body = body
        self.raw_head = raw_head
        self.resent = False

    def header_all(self, name):
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def set_cookies(self):
        return [v.decode("latin-1") for v in self.header_all(b"set-cookie")]

    @property
    def member(self):
        """The member that answered (from its JSON body), or None."""
        try:
            j = json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None
        return j.get("member") if isinstance(j, dict) else None


class ConnectionLost(Exception):
    """The server closed the connection before any byte of a response."""


class Conn:
    """One keep-alive connection to 127.0.0.1:port, reopened as needed.

    request() sends the request bytes as given (target and header values
    may hold any byte).  When a reused connection turns out to be closed
    by the server before any byte of the response arrived (keep-alive
    timeout, graceful restart), the request is sent once more on a fresh
    connection, as browsers do; Resp.resent tells.
    """

    def __init__(self, port, timeout=60.0):
        self.port = port
        self.timeout = timeout
        self.sock = None
        self.buf = b""
        self.reused = False

    def close(self):
        if self.sock:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    def _open(self):
        self.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port),
                                             timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reused = False

    @staticmethod
    def build(target, headers=(), method=b"GET"):
        lines = [method + b" " + target + b" HTTP/1.1",
                 b"Host: 127.0.0.1"]
        for k, v in headers:
            lines.append(k + b": " + v)
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def request(self, target, headers=(), method=b"GET"):
        data = self.build(target, headers, method)
        if self.sock is None:
            self._open()
        was_reused = self.reused
        try:
            resp = self._exchange(data, method)
        except ConnectionLost:
            if not was_reused:
                raise
            self._open()
            resp = self._exchange(data, method)
            resp.resent = True
        return resp

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        self.buf += chunk

    def _exchange(self, data, method):
        try:
            try:
                self.sock.sendall(data)
            except (BrokenPipeError, ConnectionResetError):
                raise ConnectionLost()
            while b"\r\n\r\n" not in self.buf:
                try:
                    self._recv()
                except (EOFError, ConnectionResetError):
                    if not self.buf:
                        raise ConnectionLost()
                    raise
            head, _, self.buf = self.buf.partition(b"\r\n\r\n")
            lines = head.split(b"\r\n")
            proto, _, rest = lines[0].partition(b" ")
            status = int(rest[:3])
            headers = []
            for line in lines[1:]:
                k, _, v = line.partition(b":")
                headers.append((k.strip(), v.strip()))
            hmap = {k.lower(): v for k, v in headers}
            body = self._body(status, method, hmap)
            close = (b"close" in hmap.get(b"connection", b"").lower()
                     or proto == b"HTTP/1.0")
        except BaseException:
            self.close()
            raise
        if close:
            self.close()
        else:
            self.reused = True
        return Resp(status, headers, body, head)

    def _body(self, status, method, hmap):
        if method == b"HEAD" or status in (204, 304) or status < 200:
            return b""
        if b"chunked" in hmap.get(b"transfer-encoding", b"").lower():
            out = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._recv()
                line, _, self.buf = self.buf.partition(b"\r\n")
                n = int(line.split(b";")[0].strip() or b"0", 16)
                while len(self.buf) < n + 2:
                    self._recv()
                out += self.buf[:n]
                self.buf = self.buf[n + 2:]
                if n == 0:
                    return out
        if b"content-length" in hmap:
            n = int(hmap[b"content-length"])
            while len(self.buf) < n:
                self._recv()
            body, self.buf = self.buf[:n], self.buf[n:]
            return body
        try:
            while True:
                self._recv()
        except EOFError:
            pass
        body, self.buf = self.buf, b""
        self.close()
        return body
