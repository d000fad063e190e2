#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# make run: see scripts/demo.py.
cd "$(dirname "$0")/.." && exec /usr/bin/python3 scripts/demo.py
