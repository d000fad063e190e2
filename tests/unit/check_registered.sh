#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Every Check suite defined in tests/unit/ must be run by main.c.  (A
# START_TEST that no tcase adds already fails the build: Check makes it a
# static symbol, and -Werror refuses unused ones.)
cd "$(dirname "$0")" || exit 1
status=0
for s in $(sed -n 's/^Suite \*\(suite_[a-z0-9_]*\)(void)$/\1/p' test_*.c); do
    grep -q "\\b$s\\b" main.c || {
        echo "tests/unit: $s is defined but main.c does not run it" >&2
        status=1
    }
done
exit $status
