# SPDX-License-Identifier: Apache-2.0
"""Run gwetest members in a process of their own.

    python3 member_proc.py NAME:PORT [NAME:PORT ...]

Starts one gwetest.Member per argument (the same JSON-answering server the
integration suite uses), prints "ready" once every listening socket is
bound, and serves until killed.  A process of its own lets the fault tests
kill a member the hard way (SIGKILL: its connections are reset, its port
refuses) and keeps the members off the load generator's GIL.

Members here do not keep the answered requests in memory (the soak runs
send hundreds of thousands of them); `hits` still counts them.
"""
import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

from gwetest.members import Member  # noqa: E402


class CountingMember(Member):
    """A Member that counts requests instead of recording them."""

    def _record(self, info):
        with self._lock:
            self.count = getattr(self, "count", 0) + 1


def main(argv):
    members = []
    for arg in argv:
        name, _, port = arg.rpartition(":")
        members.append(CountingMember(name, int(port)).start())
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    stop.wait()
    for m in members:
        m.stop()
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
