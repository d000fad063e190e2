/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * extract.c - the requested route of one request (README 4.1 - 4.3): URL
 * parameter first, then the route cookie.
 */
#include "sticky.h"

#include <string.h>

/* What the values are matched against: the live member routes, and how
 * many decoded bytes at the end of a value can matter (the separator and
 * the longest route). */
typedef struct members {
    const gwe_slice *routes;
    size_t n;
    size_t tail; /* <= GWE_ROUTE_MAX + 1 */
    char sep;
} members;

static void members_init(members *m, const gwe_slice *routes, size_t n,
                         char sep)
{
    size_t i, longest = 0;

    for (i = 0; i < n; i++) {
        if (routes[i].len > longest)
            longest = routes[i].len;
    }
    m->routes = routes;
    m->n = n;
    m->tail = longest < GWE_ROUTE_MAX ? longest + 1 : GWE_ROUTE_MAX + 1;
    m->sep = sep;
}

/* The member a raw (still percent-encoded) value names, or -1.  Only the
 * decoded tail can hold "separator + route", so a fixed buffer holds it
 * whatever the value's length; a malformed escape anywhere spoils the
 * whole value. */
static int resolve(const gwe_slice *raw, const members *m)
{
    char tail[GWE_ROUTE_MAX + 1];
    size_t tlen;

    if (m->n == 0)
        return -1;
    /* without a '%' a value is its own decoding (the common case: routes
     * are plain words), so its tail is matched where it stands */
    if (raw->len == 0 || !memchr(raw->ptr, '%', raw->len)) {
        tlen = raw->len < m->tail ? raw->len : m->tail;
        return gwe_route_match(raw->ptr + raw->len - tlen, tlen, m->sep,
                               m->routes, m->n);
    }
    if (gwe_pct_decode_tail(raw->ptr, raw->len, tail, m->tail, &tlen) < 0)
        return -1;
    return gwe_route_match(tail, tlen, m->sep, m->routes, m->n);
}

/* The first value of the route cookie, over every Cookie header in order,
 * that names a member; -1 if none does.  *seen: the cookie was sent. */
static int cookie_route(const gwe_sticky_conf *conf, const gwe_slice *cookies,
                        size_t ncookies, const members *m, int *seen)
{
    size_t i;

    *seen = 0;
    for (i = 0; i < ncookies; i++) {
        gwe_cookie_iter it;
        gwe_slice v;

        gwe_cookie_iter_init(&it, cookies[i].ptr, cookies[i].len);
        while (gwe_cookie_next(&it, conf->cookie.ptr, conf->cookie.len, &v)) {
            int r = resolve(&v, m);

            *seen = 1;
            if (r >= 0)
                return r;
        }
    }
    return -1;
}

/* With keys: judges every route cookie value (see gwe_sticky_extract). */
static void signed_cookie(const gwe_sticky_conf *conf,
                          const gwe_slice *cookies, size_t ncookies,
                          const members *m, gwe_sticky_result *out,
                          int *legacy_route)
{
    gwe_verify_conf vc = *conf->verify;
    int best = GWE_COOKIE_ABSENT, legacy_status = -1;
    size_t i;

    vc.routes = m->routes;
    vc.nroutes = m->n;
    vc.separator = m->sep;
    *legacy_route = -1;
    for (i = 0; i < ncookies; i++) {
        gwe_cookie_iter it;
        gwe_slice v;

        gwe_cookie_iter_init(&it, cookies[i].ptr, cookies[i].len);
        while (gwe_cookie_next(&it, conf->cookie.ptr, conf->cookie.len, &v)) {
            gwe_signed_fields f;
            enum gwe_cookie_status st =
                gwe_signed_verify(v.ptr, v.len, &vc, conf->now, &f);
            int r;

            if (st == GWE_COOKIE_VALID &&
                (r = gwe_signed_member_index(&f, &vc, m->routes, m->n)) >= 0) {
                out->cookie_route = r;
                out->cookie_status = GWE_COOKIE_VALID;
                out->cookie_issued = f.issued;
                out->cookie_refresh =
                    gwe_signed_needs_refresh(&f, conf->now, vc.maxidle);
                return;
            }
            if (st == GWE_COOKIE_LEGACY && conf->legacy_accept &&
                *legacy_route < 0) {
                *legacy_route = resolve(&v, m);
                legacy_status = *legacy_route >= 0 ? GWE_COOKIE_LEGACY : -1;
            }
            if ((int)st > best)
                best = (int)st;
        }
    }
    out->cookie_status = legacy_status >= 0 ? legacy_status : best;
}

/* out->param is set only when the route came from that parameter
 * (source PARAM); a parameter that names no member leaves it at -1. */
void gwe_sticky_extract(const gwe_sticky_conf *conf, const char *url,
                        size_t url_len, const gwe_slice *cookies,
                        size_t ncookies, const gwe_slice *routes,
                        size_t nroutes, gwe_sticky_result *out)
{
    members m;
    gwe_slice v;
    int idx, seen;

    members_init(&m, routes, nroutes, conf->separator);
    out->source = GWE_SOURCE_NONE;
    out->route = -1;
    out->param = -1;
    out->cookie_route = -1;
    out->cookie_status = GWE_COOKIE_ABSENT;
    out->cookie_refresh = 0;
    out->cookie_issued = 0;
    out->unknown = 0;

    idx = gwe_url_param_find(url, url_len, conf->params, conf->nparams, &v);
    if (idx >= 0) {
        int r = resolve(&v, &m);

        if (r >= 0) {
            out->source = GWE_SOURCE_PARAM;
            out->route = r;
            out->param = idx;
        } else
            out->unknown |= GWE_UNKNOWN_PARAM;
    }

    if (conf->cookie.len == 0 || cookies == NULL)
        return;
    if (conf->verify) {
        int legacy;

        signed_cookie(conf, cookies, ncookies, &m, out, &legacy);
        idx = out->cookie_route >= 0 ? out->cookie_route : legacy;
        /* verified, but naming no member */
        if (idx < 0 && out->cookie_status == GWE_COOKIE_VALID)
            out->unknown |= GWE_UNKNOWN_COOKIE;
    } else {
        idx = out->cookie_route =
            cookie_route(conf, cookies, ncookies, &m, &seen);
        if (idx >= 0)
            out->cookie_status = GWE_COOKIE_VALID;
        else if (seen)
            out->unknown |= GWE_UNKNOWN_COOKIE;
    }
    if (out->source == GWE_SOURCE_NONE && idx >= 0) {
        out->source = GWE_SOURCE_COOKIE;
        out->route = idx;
    }
}
