# SPDX-License-Identifier: Apache-2.0
"""Raw HTTP/1.1 and WebSocket clients for tests.

Raw on purpose: tests must send bytes that http.client refuses (control
characters, non-UTF-8, several Cookie lines) and must see every response
header line as sent, duplicates included (Set-Cookie counting).
"""
import base64
import hashlib
import json
import os
import socket
import ssl

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def _b(value):
    if isinstance(value, bytes):
        return value
    return str(value).encode("latin-1")


class Response:
    """One HTTP response: status, every header line in order, the body.

    headers   list of (name, value) str pairs, decoded as latin-1
    body      bytes, de-chunked
    id        the X-Gwetest-Id the request carried (for HttpdEnv.log_entry)
    """

    def __init__(self, status, reason, headers, body, raw_head=b""):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.raw_head = raw_head
        self.id = None

    def header(self, name):
        """First value of header `name` (case-insensitive), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def set_cookies(self):
        return self.header_all("Set-Cookie")

    def json(self):
        """The member's JSON answer, or None when the body is not JSON."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            return None

    @property
    def member(self):
        """Name of the member that answered, or None (no member answered)."""
        j = self.json()
        return j.get("member") if isinstance(j, dict) else None

    def __repr__(self):
        return "<Response %s member=%s headers=%r>" % (
            self.status, self.member, self.headers)


def parse_set_cookie(value):
    """Split a Set-Cookie value: (name, value, attrs).

    attrs maps lower-cased attribute names to their value, or True for a
    flag (Secure, HttpOnly, Partitioned).  A repeated attribute raises.
    """
    parts = [p.strip() for p in value.split(";")]
    name, _, val = parts[0].partition("=")
    attrs = {}
    for p in parts[1:]:
        if not p:
            continue
        k, eq, v = p.partition("=")
        key = k.strip().lower()
        if key in attrs:
            raise ValueError("attribute %s repeated in %r" % (key, value))
        attrs[key] = v.strip() if eq else True
    return name.strip(), val.strip(), attrs


def _connect(host, port, tls, timeout):
    sock = socket.create_connection((host, port), timeout=timeout)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        sock = ctx.wrap_socket(sock, server_hostname=None)
    return sock


def _read_head(sock, buf=b""):
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        raise ConnectionError("no complete response head: %r" % buf[:200])
    lines = head.split(b"\r\n")
    proto, _, rest_line = lines[0].partition(b" ")
    code, _, reason = rest_line.partition(b" ")
    headers = []
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers.append((k.decode("latin-1").strip(),
                        v.decode("latin-1").strip()))
    return int(code), reason.decode("latin-1"), headers, rest, head


def _dechunk(data):
    out = b""
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return out


def build_request(method, target, headers, body, host_header):
    """The request bytes: HTTP/1.1, Connection: close, headers as given."""
    lines = [_b(method) + b" " + _b(target) + b" HTTP/1.1"]
    names = {(_b(k).lower()) for k, _ in headers}
    if b"host" not in names:
        lines.append(b"Host: " + _b(host_header))
    for k, v in headers:
        lines.append(_b(k) + b": " + _b(v))
    if b"connection" not in names:
        lines.append(b"Connection: close")
    if body is not None:
        lines.append(b"Content-Length: %d" % len(_b(body)))
    data = b"\r\n".join(lines) + b"\r\n\r\n"
    if body is not None:
        data += _b(body)
    return data


def http_request(port, target="/", method="GET", headers=(), body=None,
                 host="127.0.0.1", tls=False, timeout=15.0,
                 host_header=None):
    """Send one request on a fresh connection and read the whole response.

    target and header values may be str (latin-1) or bytes, sent as is.
    headers is a list of (name, value); a name may repeat (two Cookie lines).
    """
    data = build_request(method, target, list(headers), body,
                         host_header or "%s:%d" % (host, port))
    sock = _connect(host, port, tls, timeout)
    try:
        sock.sendall(data)
        status, reason, hdrs, rest, head = _read_head(sock)
        chunks = [rest]
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        sock.close()
    body_bytes = b"".join(chunks)
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        body_bytes = b""
    elif any(k.lower() == "transfer-encoding" and "chunked" in v.lower()
             for k, v in hdrs):
        body_bytes = _dechunk(body_bytes)
    return Response(status, reason, hdrs, body_bytes, head)


class Connection:
    """A keep-alive HTTP/1.1 connection: several requests, one socket.

    request() sends one request and reads its response by Content-Length
    or chunked coding, leaving the connection open for the next one.
    """

    def __init__(self, port, host="127.0.0.1", tls=False, timeout=15.0):
        self.port, self.host = port, host
        self.sock = _connect(host, port, tls, timeout)
        self.buf = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed")
        self.buf += chunk

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def request(self, target, method="GET", headers=(), body=None):
        hdrs = list(headers) + [("Connection", "keep-alive")]
        self.sock.sendall(build_request(method, target, hdrs, body,
                                        "%s:%d" % (self.host, self.port)))
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        status, reason, rhdrs, self.buf, head = _read_head(_NoSock(),
                                                           self.buf)
        resp = Response(status, reason, rhdrs, b"", head)
        if method == "HEAD" or status in (204, 304) or status < 200:
            return resp
        if "chunked" in (resp.header("Transfer-Encoding") or "").lower():
            out = b""
            while True:
                size = int(self._line().split(b";")[0] or b"0", 16)
                if size == 0:
                    while self._line():
                        pass
                    break
                out += self._take(size)
                self._take(2)
            resp.body = out
        else:
            resp.body = self._take(int(resp.header("Content-Length") or 0))
        return resp

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _NoSock:
    """_read_head over bytes already received."""

    def recv(self, n):
        return b""


# ---- WebSocket (RFC 6455), just enough for one exchange ------------------

def ws_accept_key(key):
    return base64.b64encode(hashlib.sha1(_b(key) + WS_GUID).digest()).decode()


def ws_send_frame(write, opcode, payload, mask):
    head = bytes([0x80 | opcode])
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head += bytes([mbit | n])
    elif n < 65536:
        head += bytes([mbit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([mbit | 127]) + n.to_bytes(8, "big")
    if mask:
        key = os.urandom(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
        head += key
    write(head + payload)


def ws_read_frame(read):
    """Read one frame with read(n) -> bytes; returns (opcode, payload)."""
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = read(n - len(data))
            if not chunk:
                raise ConnectionError("connection closed inside a frame")
            data += chunk
        return data
    b0, b1 = exact(2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(exact(2), "big")
    elif n == 127:
        n = int.from_bytes(exact(8), "big")
    key = exact(4) if b1 & 0x80 else None
    payload = exact(n)
    if key:
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return b0 & 0x0F, payload


def websocket_exchange(port, target, text, headers=(), host="127.0.0.1",
                       tls=False, timeout=15.0):
    """Open a WebSocket, send one text frame, read one frame back, close.

    Returns (Response of the handshake, echoed text or None).  When the
    handshake is not answered with 101, the text is None.
    """
    key = base64.b64encode(os.urandom(16)).decode()
    hdrs = [("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")]
    hdrs += list(headers)
    data = build_request("GET", target, hdrs, None, "%s:%d" % (host, port))
    sock = _connect(host, port, tls, timeout)
    try:
        sock.sendall(data)
        status, reason, rhdrs, rest, head = _read_head(sock)
        resp = Response(status, reason, rhdrs, b"", head)
        if status != 101:
            return resp, None
        if resp.header("Sec-WebSocket-Accept") != ws_accept_key(key):
            raise ConnectionError("bad Sec-WebSocket-Accept: %r" % rhdrs)
        pending = [rest]

        def read(n):
            if pending and pending[0]:
                chunk, pending[0] = pending[0][:n], pending[0][n:]
                return chunk
            return sock.recv(n)
        ws_send_frame(sock.sendall, 1, text.encode("utf-8"), mask=True)
        op, payload = ws_read_frame(read)
        ws_send_frame(sock.sendall, 8, b"\x03\xe8", mask=True)
        try:
            ws_read_frame(read)
        except (ConnectionError, OSError):
            pass
        return resp, payload.decode("utf-8") if op == 1 else None
    finally:
        sock.close()
