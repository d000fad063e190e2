# SPDX-License-Identifier: Apache-2.0
"""Balancer members for tests: small threaded HTTP servers on 127.0.0.1.

Every member answers every request (any method) with JSON:

    {"member": NAME, "cookie": <Cookie header received, or null>,
     "cookies": [...every Cookie line...], "path": <request target>,
     "method": ..., "headers": {...}, "body": ...}

A path containing "/status/NNN" is answered with status NNN (same JSON).
A path containing "/sleep/N" waits N seconds (at most 10) before answering.
A path containing "/set-cookie/" adds the member's own
"Set-Cookie: app=NAME; Path=/" header.
A request header X-Gwetest-Answer holding a JSON list of [name, value]
pairs adds those header lines to the answer, in order (one request header,
since httpd joins repeated ones).
A request with "Upgrade: websocket" gets a hand-rolled RFC 6455 handshake,
then the member reads one text frame and answers "NAME: <text>".

Members answer HTTP/1.0 style (connection closed after each response), so a
stopped member is really gone: Apache has no pooled connection to it.
"""
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from .client import ws_accept_key, ws_read_frame, ws_send_frame

_STATUS_RE = re.compile(r"/status/([1-5][0-9][0-9])(?=[/?;]|$)")
_SLEEP_RE = re.compile(r"/sleep/([0-9]+)(?=[/?;]|$)")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, member):
        self.member = member
        self.open_sockets = set()
        self.lock = threading.Lock()
        super().__init__(addr, _Handler)

    def process_request_thread(self, request, client_address):
        with self.lock:
            self.open_sockets.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self.lock:
                self.open_sockets.discard(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_version = "gwetest-member"

    def log_message(self, fmt, *args):  # quiet: pytest shows failures
        pass

    def _answer(self):
        member = self.server.member
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        cookies = self.headers.get_all("Cookie") or []
        info = {
            "member": member.name,
            "method": self.command,
            "path": self.path,
            "cookie": ", ".join(cookies) if cookies else None,
            "cookies": cookies,
            "headers": dict(self.headers.items()),
            "body": body.decode("latin-1"),
        }
        member._record(info)
        if self.headers.get("Upgrade", "").lower() == "websocket":
            self._websocket(member)
            return
        m = _SLEEP_RE.search(self.path)
        if m:
            time.sleep(min(int(m.group(1)), 10))
        m = _STATUS_RE.search(self.path)
        status = int(m.group(1)) if m else 200
        payload = json.dumps(info).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Member", member.name)
        if "/cacheable/" in self.path:
            self.send_header("Cache-Control", "public, max-age=60")
        if "/set-cookie/" in self.path:
            self.send_header("Set-Cookie", "app=%s; Path=/" % member.name)
        for name, value in json.loads(self.headers.get("X-Gwetest-Answer")
                                      or "[]"):
            self.send_header(name, value)
        has_body = status not in (204, 304) and status >= 200
        if has_body:
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if has_body and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = _answer
    do_PATCH = _answer

    def _websocket(self, member):
        self.close_connection = True
        key = self.headers.get("Sec-WebSocket-Key", "")
        self.wfile.write(
            b"HTTP/1.1 101 Switching Protocols\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + ws_accept_key(key).encode() + b"\r\n"
            b"X-Member: " + member.name.encode() + b"\r\n\r\n")
        self.wfile.flush()
        try:
            op, payload = ws_read_frame(self.rfile.read)
            if op == 1:
                text = "%s: %s" % (member.name, payload.decode("utf-8"))
                ws_send_frame(self._write, 1, text.encode("utf-8"), False)
            op, _ = ws_read_frame(self.rfile.read)
            if op == 8:
                ws_send_frame(self._write, 8, b"\x03\xe8", False)
        except (ConnectionError, OSError, ValueError):
            pass

    def _write(self, data):
        self.wfile.write(data)
        self.wfile.flush()


class Member:
    """One member server.  start() and stop() may be called repeatedly;
    the port stays the same, so Apache's BalancerMember line stays valid."""

    def __init__(self, name, port):
        self.name = name
        self.port = port
        self.requests = []
        self._lock = threading.Lock()
        self._server = None
        self._thread = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def running(self):
        return self._server is not None

    @property
    def hits(self):
        with self._lock:
            return len(self.requests)

    def _record(self, info):
        with self._lock:
            self.requests.append(info)

    def start(self):
        if self._server:
            return self
        self._server = _Server(("127.0.0.1", self.port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
            name="member-%s" % self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Close the listening socket and every open connection: from now
        on Apache gets "connection refused" from this member."""
        server, self._server = self._server, None
        if not server:
            return
        server.shutdown()
        server.server_close()
        with server.lock:
            for sock in list(server.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._thread.join(5)

    def __repr__(self):
        return "<Member %s :%d %s>" % (
            self.name, self.port, "up" if self.running else "down")


def answer_header(*pairs):
    """The request header that makes a member add these (name, value)
    header lines to its answer."""
    return ("X-Gwetest-Answer", json.dumps([list(p) for p in pairs]))
