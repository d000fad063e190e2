# SPDX-License-Identifier: Apache-2.0
"""Configuration snippets the start-up tests share: a balancer section whose
members need not exist (start-up checks never contact them), and the
checks of a refusal message: it names the file and a line of the section."""
import re

MEMBERS = """
    BalancerMember "http://127.0.0.1:9" route=A
    BalancerMember "http://127.0.0.1:10" route=B
"""


def proxy(directives, name="b"):
    """<Proxy "balancer://NAME"> with MEMBERS and directives, and its
    ProxyPass /NAME/."""
    return '<Proxy "balancer://%s">%s    %s\n</Proxy>\nProxyPass "/%s/" ' \
        '"balancer://%s/"\n' % (name, MEMBERS, directives.strip(), name, name)


def section_lines(conf_text, names):
    """1-based line numbers of the <Proxy "balancer://NAME"> sections of
    the balancers named by the characters of `names`."""
    out = set()
    inside = False
    for n, line in enumerate(conf_text.splitlines(), 1):
        m = re.match(r'\s*<Proxy "?balancer://(\w+)"?>', line)
        if m:
            inside = m.group(1) in names
        if inside:
            out.add(n)
        if line.strip() == "</Proxy>":
            inside = False
    return out


def message_line(output, regex):
    """The one line of Apache's output that matches regex."""
    found = [l for l in output.splitlines() if re.search(regex, l)]
    assert found, "no message matching %r in:\n%s" % (regex, output)
    return found[0]


def assert_names_file_and_line(env, line, names):
    """The message names the configuration file and a line of the
    offending balancer's section."""
    assert str(env.conf) in line, "file not named: %s" % line
    m = re.search(r"line (\d+)", line)
    assert m, "line not named: %s" % line
    lines = section_lines(env.conf.read_text(), names)
    assert int(m.group(1)) in lines, \
        "line %s is not in the <Proxy> section (%s): %s" % (
            m.group(1), sorted(lines), line)


def message_text(line):
    """A message without the error_log prefix ("[...] [...] ")."""
    return line.split("] ")[-1].strip()


def assert_refused_by_configtest_and_start(env, body, expected):
    """README 7.1: `apache2 -t` refuses body with, for each (regex, names)
    of expected, a message matching regex that names the file and a line
    of the sections of the balancers named by the characters of names;
    `apache2 -k start` refuses it with the same messages."""
    ok, out = env.configtest(body)
    assert not ok, "apache2 -t accepted it:\n" + out
    messages = []
    for regex, names in expected:
        line = message_line(out, regex)
        assert_names_file_and_line(env, line, names)
        messages.append(message_text(line))
    started = env.start(body, expect_fail=True)
    assert not started.ok
    for text in messages:
        assert text in started.output, \
            "start-up did not say %r:\n%s" % (text, started.output)
