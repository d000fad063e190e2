# SPDX-License-Identifier: Apache-2.0
"""Integration tests: a real Apache with mod_gwe_lb against real members.

Each test module starts one Apache (fixture `env`, scope module) whose
configuration holds every balancer the module's tests need, so a run starts
few servers.  Tests that break a member use members of their own.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))

pytest_plugins = ["gwetest.pytest_plugin"]


