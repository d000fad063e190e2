# SPDX-License-Identifier: Apache-2.0
"""The deployment the browser tests put Chromium in front of.

One real Apache (gwetest.HttpdEnv, with mod_ssl, mod_headers, mod_setenvif,
mod_alias) serves, on one TLS port, every host name below.  Chromium maps
them all to 127.0.0.1 and trusts the certificate made here, whose names are
exactly these hosts:

    gwe.shop.test   the load balancer, same-site deployment; a page on this
                    host is a first-party page
    www.shop.test   the customer's pages, sibling host of the same
                    registrable domain (shop.test) as gwe.shop.test
    shop.test       the customer's pages, other site than gwe.test
    gwe.test        the load balancer, cross-site deployment

Sites follow the registrable domain (".test" is not on the public suffix
list, so Chromium takes "shop.test" and "gwe.test" as the registrable
domains).  The page, /page/index.html with /page/gwe-calls.js, is served
on every host.  Balancers are mounted by path (/<name>/).  Members are
named servers (gwetest.Member: be1, be2, ...); one server may sit behind
several balancers, as a GWE server does, and every answer names the
member that served it.

The load balancer answers credentialed CORS requests of any https://*.test
origin (mod_headers, for the test only: in production the GWE servers do
this).
"""
import base64
import shutil
import subprocess
from pathlib import Path

from gwetest import HttpdEnv, free_port, signed

HERE = Path(__file__).resolve().parent
LB_HOST = "gwe.shop.test"
SIBLING_HOST = "www.shop.test"
SHOP_HOST = "shop.test"
XS_LB_HOST = "gwe.test"
HOSTS = (LB_HOST, SIBLING_HOST, SHOP_HOST, XS_LB_HOST)

# Setups: where the page is, where the load balancer is.
SETUPS = {
    "first-party": (LB_HOST, LB_HOST),
    "same-site": (SIBLING_HOST, LB_HOST),
    "cross-site": (SHOP_HOST, XS_LB_HOST),
}

EXTRA_MODULES = ("socache_shmcb", "ssl", "headers", "setenvif", "alias",
                 "mime", "http2")

# The stock recipe: mod_proxy_balancer's stickysession= plus mod_headers.
STOCK_COOKIE = ("Header add Set-Cookie \"{name}=.%{{BALANCER_WORKER_ROUTE}}e;"
                " path=/{attrs}\" env=BALANCER_ROUTE_CHANGED")


def make_host_cert(directory, hosts=HOSTS):
    """A self-signed P-256 certificate for `hosts`; returns (cert, key,
    spki), spki being the base64 SHA-256 of its public key, the value
    Chromium's --ignore-certificate-errors-spki-list takes."""
    d = Path(directory)
    cert, key = d / "shop.crt", d / "shop.key"
    san = ",".join("DNS:%s" % h for h in hosts)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-subj", "/CN=%s" % hosts[0], "-addext", "subjectAltName=" + san,
         "-addext", "basicConstraints=critical,CA:FALSE",
         "-addext", "extendedKeyUsage=serverAuth",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)
    key.chmod(0o644)
    pub = subprocess.run(["openssl", "x509", "-in", str(cert), "-pubkey",
                          "-noout"], check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"],
                         input=pub, check=True, capture_output=True).stdout
    digest = subprocess.run(["openssl", "dgst", "-sha256", "-binary"],
                            input=der, check=True, capture_output=True).stdout
    return cert, key, base64.b64encode(digest).decode()


class Balancer:
    """One balancer of the shop site, mounted at /<name>/.

    gwe      the GWELB directive lines (GWELBRouteCookie ..., ...), or None
    stock    (cookie name, extra Set-Cookie attributes) for the stock
             recipe, e.g. ("RID", "; SameSite=None; Secure")
    member   extra BalancerMember parameters (upgrade=websocket, ...)
    routes   the members' routes
    members  the members' names (default "<name>-1", "<name>-2", ...); a
             name used by several balancers is one member server behind
             all of them, as one GWE server behind several balancers
    signed   the route cookie is signed (README 4.8): a 32-byte key file
             of this balancer's own, mode 0600, made when the
             configuration is written, and a GWELBCookieKey line for it
    """

    def __init__(self, name, gwe=None, stock=None, member="",
                 routes=("R1", "R2"), members=None, signed=False):
        self.name = name
        self.names = members or ["%s-%d" % (name, i + 1)
                                 for i in range(len(routes))]
        self.gwe = gwe
        self.stock = stock
        self.member_params = member
        self.routes = routes
        self.signed = signed

    @property
    def path(self):
        return "/%s/" % self.name

    def config(self, env):
        lines = ['<Proxy "balancer://%s">' % self.name]
        for mname, route in zip(self.names, self.routes):
            m = env.member(mname)
            lines.append('    BalancerMember "%s" route=%s %s'
                         % (m.url, route, self.member_params))
        lines.append("    ProxySet lbmethod=byrequests")
        if self.stock:
            lines.append("    ProxySet stickysession=%s" % self.stock[0])
        for g in ([self.gwe] if isinstance(self.gwe, str) else
                  (self.gwe or [])):
            # Balancers of one host need cookies of their own paths
            # (README 7.8): each cookie is scoped to its mount.
            if g.startswith("GWELBRouteCookie") and "path=" not in g:
                g += " path=" + self.path
            lines.append("    " + g)
        if self.signed:
            key = signed.write_key(env.dir / ("gwelb-%s.key" % self.name))
            lines.append('    GWELBCookieKey "%s"' % key)
        lines.append("</Proxy>")
        return "\n".join(lines) + "\n"

    def mount(self):
        """The vhost lines that send /<name>/ to this balancer."""
        out = 'ProxyPass "%s" "balancer://%s/"\n' % (self.path, self.name)
        if self.stock:
            name, attrs = self.stock
            out += '<Location "%s">\n    %s\n</Location>\n' % (
                self.path, STOCK_COOKIE.format(name=name, attrs=attrs))
        return out


class ShopSite:
    """An HttpdEnv serving the shop and load-balancer hosts over TLS.

    site.url(host, path) -> "https://host:port/path"
    site.page(setup)     -> URL of the page for that setup
    site.lb(setup, balancer, query="") -> URL of a balancer as the page
                            of that setup calls it
    site.balancers[name], site.env, site.spki
    """

    def __init__(self, name, balancers, mpm=None):
        self.env = HttpdEnv(name, mpm=mpm, extra_modules=EXTRA_MODULES)
        self.balancers = {b.name: b for b in balancers}
        self.tls_port = free_port()
        self.proto_log = self.env.dir / "protocols.log"

    def start(self):
        e = self.env
        cert, key, self.spki = make_host_cert(e.dir)
        page_dir = e.dir / "page"
        shutil.copytree(HERE / "page", page_dir)
        body = ['SSLSessionCache "shmcb:%s/ssl_scache(512000)"' % e.dir,
                "TypesConfig /etc/mime.types", ""]
        body += [b.config(e) for b in self.balancers.values()]
        body.append("""
<VirtualHost 127.0.0.1:{port}>
    ServerName {lb}
    ServerAlias *.test
    SSLEngine on
    # HTTP/2 as a production load balancer offers it (issue 14): every
    # engine's calls go over h2; site.protocols() reads what they used.
    Protocols h2 http/1.1
    LogFormat "%H\\t%U%q" gwetest-proto
    CustomLog "{proto_log}" gwetest-proto
    SSLCertificateFile "{cert}"
    SSLCertificateKeyFile "{key}"
    DocumentRoot "{page}"
    Alias "/page/" "{page}/"
    <Directory "{page}">
        Require all granted
    </Directory>

    # Test only: credentialed CORS for the customer's pages (in production
    # the GWE servers answer it).
    SetEnvIf Origin "^(https://[a-z0-9.-]+\\.test:[0-9]+)$" GWETEST_ORIGIN=$1
    Header always set Access-Control-Allow-Origin "%{{GWETEST_ORIGIN}}e" env=GWETEST_ORIGIN
    Header always set Access-Control-Allow-Credentials "true" env=GWETEST_ORIGIN
    Header always merge Vary "Origin"
""".format(port=self.tls_port, lb=LB_HOST, cert=cert, key=key,
           page=page_dir, proto_log=self.proto_log))
        body += ["    " + line for b in self.balancers.values()
                 for line in b.mount().splitlines()]
        body.append("</VirtualHost>")
        e.start("\n".join(body) + "\n",
                listen=["127.0.0.1:%d" % self.tls_port])
        return self

    def cleanup(self):
        self.env.cleanup()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def url(self, host, path):
        return "https://%s:%d%s" % (host, self.tls_port, path)

    def protocols(self, marker):
        """The protocols (%H) of the requests whose URL holds marker."""
        try:
            text = self.proto_log.read_text("latin-1")
        except OSError:
            return []
        return [line.split("\t")[0] for line in text.splitlines()
                if marker in line]

    def page(self, setup):
        return self.url(SETUPS[setup][0], "/page/index.html")

    def lb(self, setup, balancer, rest="x", query=""):
        b = self.balancers[balancer]
        return self.url(SETUPS[setup][1], b.path + rest + query)

    def wss(self, setup, balancer, rest="cometd"):
        return self.lb(setup, balancer, rest).replace("https://", "wss://", 1)


# ---- the balancers of the browser suite -----------------------------------
# Each is used by one test only (see conftest.py).

# The GWE Backend Servers and Frontend Servers behind the test balancers:
# member name -> route (its CME application name).
BACKENDS = {"be1": "GWE_Backend_1", "be2": "GWE_Backend_2"}
FRONTENDS = {"fe1": "GWE_Frontend_1", "fe2": "GWE_Frontend_2"}
FAILOVER = {"fo1": "GWE_Backend_1", "fo2": "GWE_Backend_2"}
ROUTES = dict(BACKENDS, **FRONTENDS)
ROUTES.update(FAILOVER)

XS_ATTRS = "secure=on samesite=None partitioned=on"

# Third-party-cookie modes of the cross-site tests: Chromium keyword args.
TPC_MODES = {
    "default-profile": {},
    "3pc-blocked": {"block_third_party_cookies": True},
}


# The signed cookie's balancers (issue 13, README 4.8): name -> (setup,
# extra GWELBRouteCookie attributes).
SIGNED = {
    "sig-ss": ("same-site", ""),
    "sig-xs": ("cross-site", " " + XS_ATTRS),
    "sigo-ss": ("same-site", " opaque=on"),
    "sigo-xs": ("cross-site", " %s opaque=on" % XS_ATTRS),
}


def backend(name, cookie_line="GWELBRouteCookie ROUTEID", members=BACKENDS,
            member="", signed=False):
    return Balancer(name, gwe=cookie_line, members=list(members),
                    routes=list(members.values()), member=member,
                    signed=signed)


def suite_balancers():
    """Every balancer the suite mounts; the comments name the issue's
    test (#7) that uses it."""
    out = [
        backend("fp"),                       # 1. first-party page
        backend("ss"),                       # 2. same-site sibling page
        backend("ws", member="upgrade=websocket"),            # 4.
        backend("wsxs", "GWELBRouteCookie ROUTEID " + XS_ATTRS,
                member="upgrade=websocket"),                   # 4. cross
        Balancer("fe", gwe=["GWELBStickyParam alias",         # 5.
                            "GWELBRouteCookie ROUTEID"],
                 members=list(FRONTENDS), routes=list(FRONTENDS.values())),
        backend("fo", "GWELBRouteCookie ROUTEID " + XS_ATTRS,
                members=FAILOVER),                             # 6.
    ]
    out += [backend(name, "GWELBRouteCookie ROUTEID" + attrs, signed=True)
            for name, (_, attrs) in SIGNED.items()]            # #13
    for mode in TPC_MODES:                                     # 3.
        out += [
            backend("xs-" + mode, "GWELBRouteCookie ROUTEID " + XS_ATTRS),
            backend("xs-lax-" + mode, "GWELBRouteCookie ROUTEID"),
            backend("xs-none-" + mode,
                    "GWELBRouteCookie ROUTEID secure=on samesite=None"),
        ]
    import cookietable
    import engines
    return out + cookietable.balancers() + engines.balancers()
