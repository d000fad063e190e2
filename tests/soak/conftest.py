# SPDX-License-Identifier: Apache-2.0
"""Fault, restart and hostile-input tests (issue #5): a real Apache with
mod_gwe_lb, members in processes of their own.  Run by quick.sh (bounded,
part of `make test`) and run.sh (`make soak`, longer)."""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "lib"))
sys.path.insert(0, str(HERE))

pytest_plugins = ["gwetest.pytest_plugin"]

