# SPDX-License-Identifier: Apache-2.0
"""A throw-away TLS certificate for 127.0.0.1, made with the openssl CLI."""
import subprocess
from pathlib import Path


def make_cert(directory, names=("localhost",)):
    """Write a self-signed P-256 certificate and key for 127.0.0.1 and the
    DNS names into directory; returns (cert_path, key_path)."""
    d = Path(directory)
    san = ",".join(["IP:127.0.0.1"] + ["DNS:" + n for n in names])
    cert, key = d / "server.crt", d / "server.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=" + san,
         "-addext", "basicConstraints=critical,CA:FALSE",
         "-addext", "extendedKeyUsage=serverAuth",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    key.chmod(0o644)
    return cert, key
