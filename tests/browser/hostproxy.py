# SPDX-License-Identifier: Apache-2.0
"""A CONNECT proxy on 127.0.0.1 that sends every tunnel to 127.0.0.1.

WebKitGTK has no switch that maps host names to an address (Chromium has
--host-resolver-rules, Firefox network.dns.localDomains), but MiniBrowser
takes --proxy: through this proxy, https://gwe.test:PORT/ reaches the
shop site's port on 127.0.0.1 with its real name in TLS SNI and Host, as
from a DNS answer.  Only CONNECT to a host of `hosts` is served.

    with HostProxy(HOSTS) as p:
        ... --proxy=http://127.0.0.1:%d % p.port
"""
import socket
import threading


class HostProxy:
    def __init__(self, hosts):
        self.hosts = set(hosts)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.tunnels = 0

    def start(self):
        threading.Thread(target=self._accept, daemon=True,
                         name="hostproxy").start()
        return self

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:  # closed
                return
            threading.Thread(target=self._tunnel, args=(client,),
                             daemon=True).start()

    def _tunnel(self, client):
        with client:
            client.settimeout(30)
            head = b""
            while b"\r\n\r\n" not in head and len(head) < 8192:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            words = head.split(b"\r\n", 1)[0].split()
            host, _, port = (words[1].decode("latin-1").rpartition(":")
                             if len(words) == 3 else ("", "", ""))
            if words[:1] != [b"CONNECT"] or host not in self.hosts \
                    or not port.isdigit():
                client.sendall(b"HTTP/1.1 403 Forbidden\r\n"
                               b"Content-Length: 0\r\n\r\n")
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", int(port)),
                                                    timeout=30)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\n"
                               b"Content-Length: 0\r\n\r\n")
                return
            self.tunnels += 1
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            with upstream:
                upstream.settimeout(None)
                client.settimeout(None)
                rest = head.split(b"\r\n\r\n", 1)[1]
                if rest:
                    upstream.sendall(rest)
                t = threading.Thread(target=_pump, args=(upstream, client),
                                     daemon=True)
                t.start()
                _pump(client, upstream)
                t.join(30)


def _pump(src, dst):
    """Copy src to dst until src ends; then end dst's sending side."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass
