# SPDX-License-Identifier: Apache-2.0
"""Configuration snippets the start-up tests share: a balancer section whose
members need not exist (start-up checks never contact them)."""

MEMBERS = """
    BalancerMember "http://127.0.0.1:9" route=A
    BalancerMember "http://127.0.0.1:10" route=B
"""


def proxy(directives, name="b"):
    """<Proxy "balancer://NAME"> with MEMBERS and directives, and its
    ProxyPass /NAME/."""
    return '<Proxy "balancer://%s">%s    %s\n</Proxy>\nProxyPass "/%s/" ' \
        '"balancer://%s/"\n' % (name, MEMBERS, directives.strip(), name, name)
