# SPDX-License-Identifier: Apache-2.0
"""balancer-manager, driven the way a browser drives it.

The page's links carry the balancer's nonce; the edit form is fetched by
following a member's link and submitted by POST with every field the form
holds, and a Referer naming this server (mod_proxy_balancer ignores
parameters without one).
"""
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links = []        # href of every <a>
        self.rows = []         # [cells text] per <tr> with <td>s
        self.forms = []        # {"action":..., "fields": [(type, name, value, checked)]}
        self._row = None
        self._cell = None
        self._form = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
            if self._row is not None:
                self._row_links.append(a["href"])
        elif tag == "tr":
            self._row, self._row_links = [], []
        elif tag == "td" and self._row is not None:
            self._cell = ""
        elif tag == "form":
            self._form = {"action": a.get("action", ""), "fields": []}
        elif tag in ("input", "select") and self._form is not None:
            self._form["fields"].append(
                (a.get("type", tag), a.get("name"), a.get("value", ""),
                 "checked" in a))
        elif tag == "option" and self._form is not None and "selected" in a:
            self._form["fields"].append(("option", None, a.get("value"), True))

    def handle_endtag(self, tag):
        if tag == "td" and self._row is not None and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.rows.append((self._row, self._row_links))
            self._row = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


class BalancerManager:
    """Client of a `SetHandler balancer-manager` location of an HttpdEnv."""

    COLUMNS = ("url", "route", "redirect", "factor", "set", "status",
               "elected", "busy", "load", "to", "from")

    def __init__(self, env, path="/balancer-manager", port=None):
        self.env = env
        self.path = path
        self.port = port

    def _get(self, target, referer):
        r = self.env.get(target, port=self.port,
                         headers=[("Referer", self.env.url(referer, self.port))])
        assert r.status == 200, "balancer-manager answered %s" % r.status
        return r

    def page(self):
        p = _Page()
        p.feed(self._get(self.path, self.path).body.decode("latin-1"))
        return p

    def members(self, balancer):
        """Rows of the member table of balancer://NAME, as dicts."""
        out = []
        for cells, links in self.page().rows:
            for href in links:
                q = parse_qs(urlsplit(href).query)
                if q.get("b") == [balancer] and "w" in q:
                    out.append(dict(zip(self.COLUMNS, cells)))
        return out

    def member(self, balancer, url):
        for row in self.members(balancer):
            if row["url"] == url:
                return row
        raise AssertionError("no member %s in balancer %s" % (url, balancer))

    def edit_balancer(self, balancer, **changes):
        """Open the balancer's own edit form (b_lbm lbmethod, b_tmo, ...),
        change fields, submit it.  Returns the POST's Response."""
        return self._submit(balancer, None, changes)

    def edit(self, balancer, member_url, **changes):
        """Open the member's edit form, change fields, submit it.

        Field names are the form's: w_status_D="1" disables, w_status_N
        drains, w_status_H hot standby, w_wr the route, w_rr redirect,
        w_lf load factor.  Returns the POST's Response.
        """
        return self._submit(balancer, member_url, changes)

    def _submit(self, balancer, member_url, changes):
        """The edit form behind the page's link for the member (or, with
        member_url None, for the balancer itself), changed and POSTed."""
        page = self.page()
        link = None
        for href in page.links:
            q = parse_qs(urlsplit(href).query)
            if q.get("b") == [balancer] and (
                    q.get("w") == [member_url] if member_url
                    else "w" not in q):
                link = href
        assert link, "no link for %s in balancer %s" % (member_url, balancer)
        form_page = _Page()
        form_page.feed(self._get(link, self.path).body.decode("latin-1"))
        assert form_page.forms, "no edit form behind %s" % link
        form = form_page.forms[0]
        fields = {}
        for ftype, name, value, checked in form["fields"]:
            if not name or ftype == "submit":
                continue
            if ftype == "radio" and not checked:
                continue
            fields[name] = value
        for name, value in changes.items():
            assert name in fields, "form has no field %s: %s" % (
                name, sorted(fields))
            fields[name] = str(value)
        action = urlsplit(form["action"]).path or self.path
        r = self.env.get(
            action, method="POST", port=self.port, body=urlencode(fields),
            headers=[("Content-Type", "application/x-www-form-urlencoded"),
                     ("Referer", self.env.url(link, self.port))])
        assert r.status == 200, "balancer-manager POST answered %s" % r.status
        return r
