#!/bin/sh
# make run: see scripts/demo.py.
cd "$(dirname "$0")/.." && exec /usr/bin/python3 scripts/demo.py
