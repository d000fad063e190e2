"""Fault, restart and hostile-input tests (issue #5): a real Apache with
mod_gwe_lb, members in processes of their own.  Run by quick.sh (bounded,
part of `make test`) and run.sh (`make soak`, longer)."""
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE))

from gwetest import MODULE  # noqa: E402

pytest_plugins = ["gwetest.pytest_plugin"]


def pytest_sessionstart(session):
    if MODULE and not os.path.exists(MODULE):
        raise pytest.UsageError(
            "module %s is missing: run `make all` first" % MODULE)
