# SPDX-License-Identifier: Apache-2.0
"""conf-samples/ with their @NAME@ placeholders filled in.

Placeholder convention (stated at the top of every sample): @NAME@, upper
case letters, digits and underscores, stands for one deployment value
(host:port of a member, a virtual host address, a certificate file).
"""
import re

from .httpd import REPO

SAMPLES_DIR = REPO / "conf-samples"
PLACEHOLDER_RE = re.compile(r"@([A-Z][A-Z0-9_]*)@")


def _is_comment(line):
    return line.lstrip().startswith("#")


def placeholders(text):
    """The placeholder names the directives of text use (comments, which
    document them, are not counted), sorted."""
    return sorted({name for line in text.splitlines() if not _is_comment(line)
                   for name in PLACEHOLDER_RE.findall(line)})


def render(name, values):
    """conf-samples/NAME with every placeholder outside comments replaced
    from values (a dict keyed by placeholder name); KeyError names a
    missing value."""
    text = (SAMPLES_DIR / name).read_text()

    def sub(m):
        if m.group(1) not in values:
            raise KeyError("no value for @%s@ in %s" % (m.group(1), name))
        return str(values[m.group(1)])
    return "".join(line if _is_comment(line) else PLACEHOLDER_RE.sub(sub, line)
                   for line in text.splitlines(True))
