/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * set_cookie.c - the Set-Cookie header value for the route cookie (README 3,
 * 4.5).  The value is "<separator><route>", the format of the stock
 * mod_headers recipe (ROUTEID=.route), so sessions survive a move to this
 * module or back.  Only the configured route is written, never client
 * bytes.
 */
#include "sticky.h"
#include "chars.h"
#include <stdint.h>
#include <string.h>

/* Writes to buf when it is not NULL; always counts. */
typedef struct writer {
    char *buf;
    size_t len;
} writer;

static void put(writer *w, const char *s, size_t n)
{
    if (w->buf && n > 0)
        memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* A string literal, its length known at compile time. */
#define put_lit(w, s) put((w), (s), sizeof(s) - 1)

static void put_long(writer *w, long v)
{
    char d[GWE_DECIMAL_MAX];
    size_t i = gwe_decimal(d, v);

    put(w, d + i, GWE_DECIMAL_MAX - i);
}

/* The writing pass runs only after the counting pass found room, so
 * encoding straight into the buffer always fits. */
static void put_route(writer *w, const char *route, size_t len)
{
    w->len += gwe_cookie_encode(route, len, w->buf ? w->buf + w->len : NULL,
                                w->buf ? SIZE_MAX : 0);
}

/* "; Path=P[; Domain=D]..." : everything after the value. */
static void build_attrs(writer *w, const gwe_cookie_attrs *a, int is_tls)
{
    int secure = a->secure == GWE_ON || (a->secure == GWE_AUTO && is_tls);

    put_lit(w, "; Path=");
    if (a->path.len > 0)
        put(w, a->path.ptr, a->path.len);
    else
        put(w, "/", 1);
    if (a->domain.len > 0) {
        put_lit(w, "; Domain=");
        put(w, a->domain.ptr, a->domain.len);
    }
    if (a->max_age > 0) {
        put_lit(w, "; Max-Age=");
        put_long(w, a->max_age);
    }
    if (secure)
        put_lit(w, "; Secure");
    if (a->httponly == GWE_ON)
        put_lit(w, "; HttpOnly");
    /* SameSite=None and Partitioned without Secure make browsers drop the
     * whole cookie; leaving them out keeps the cookie working on plain
     * HTTP with secure=auto. */
    switch (a->samesite) {
    case GWE_SAMESITE_STRICT:
        put_lit(w, "; SameSite=Strict");
        break;
    case GWE_SAMESITE_LAX:
        put_lit(w, "; SameSite=Lax");
        break;
    case GWE_SAMESITE_NONE:
        if (secure)
            put_lit(w, "; SameSite=None");
        break;
    case GWE_SAMESITE_UNSET:
    default:
        break;
    }
    if (a->partitioned == GWE_ON && secure)
        put_lit(w, "; Partitioned");
}

static void build_line(writer *w, const char *name, size_t name_len, char sep,
                       const char *route, size_t route_len, const char *attrs,
                       size_t attrs_len)
{
    put(w, name, name_len);
    put(w, "=", 1);
    put(w, &sep, 1);
    put_route(w, route, route_len);
    put(w, attrs, attrs_len);
}

size_t gwe_set_cookie_attrs_build(char *out, size_t cap,
                                  const gwe_cookie_attrs *a, int is_tls)
{
    gwe_cookie_attrs defaults;
    writer w = {NULL, 0};

    if (a == NULL) {
        gwe_cookie_attrs_init(&defaults);
        a = &defaults;
    }
    build_attrs(&w, a, is_tls);
    if (out == NULL || cap <= w.len)
        return w.len;
    w.buf = out;
    w.len = 0;
    build_attrs(&w, a, is_tls);
    out[w.len] = '\0';
    return w.len;
}

size_t gwe_set_cookie_line(char *out, size_t cap, const char *name,
                           size_t name_len, char sep, const char *route,
                           size_t route_len, const char *attrs,
                           size_t attrs_len)
{
    writer w = {NULL, 0};

    /* only the route needs a pass of its own to be measured */
    w.len = name_len + 2 + gwe_cookie_encode(route, route_len, NULL, 0) +
            attrs_len;
    if (out == NULL || cap <= w.len)
        return w.len;
    /* a route that needs no escape (every sane one) is copied as it is */
    if (w.len == name_len + 2 + route_len + attrs_len) {
        memcpy(out, name, name_len);
        out[name_len] = '=';
        out[name_len + 1] = sep;
        memcpy(out + name_len + 2, route, route_len);
        memcpy(out + name_len + 2 + route_len, attrs, attrs_len);
        out[w.len] = '\0';
        return w.len;
    }
    w.buf = out;
    w.len = 0;
    build_line(&w, name, name_len, sep, route, route_len, attrs, attrs_len);
    out[w.len] = '\0';
    return w.len;
}

size_t gwe_set_cookie_line_max(size_t name_len, size_t route_len,
                               size_t attrs_len)
{
    return name_len + 2 + 3 * route_len + attrs_len; /* "=", sep, %XX */
}

static void build(writer *w, const char *name, size_t name_len, char sep,
                  const char *route, size_t route_len,
                  const gwe_cookie_attrs *a, int is_tls)
{
    build_line(w, name, name_len, sep, route, route_len, "", 0);
    build_attrs(w, a, is_tls);
}

size_t gwe_set_cookie_build(char *out, size_t cap, const char *name,
                            size_t name_len, char sep, const char *route,
                            size_t route_len, const gwe_cookie_attrs *a,
                            int is_tls)
{
    gwe_cookie_attrs defaults;
    writer w = {NULL, 0};

    if (a == NULL) {
        gwe_cookie_attrs_init(&defaults);
        a = &defaults;
    }
    build(&w, name, name_len, sep, route, route_len, a, is_tls);
    if (out == NULL || cap <= w.len)
        return w.len;
    w.buf = out;
    w.len = 0;
    build(&w, name, name_len, sep, route, route_len, a, is_tls);
    out[w.len] = '\0';
    return w.len;
}

int gwe_set_cookie_sets(const char *line, size_t len, const char *name,
                        size_t name_len)
{
    const char *p = line, *eq, *ne;

    if (line == NULL || name == NULL || name_len == 0)
        return 0;
    eq = memchr(line, '=', len);
    if (eq == NULL)
        return 0;
    while (p < eq && gwe_is_ows((unsigned char)*p))
        p++;
    ne = eq;
    while (ne > p && gwe_is_ows((unsigned char)ne[-1]))
        ne--;
    return (size_t)(ne - p) == name_len && memcmp(p, name, name_len) == 0;
}

/* One Cache-Control directive: [start, end) without the spaces around
 * it, and its name's length.  Returns where the next one starts, past
 * the ',' (or end). */
static const char *cc_directive(const char *p, const char *end,
                                const char **start, const char **stop,
                                size_t *name_len)
{
    int quoted = 0;
    const char *q;

    while (p < end && (gwe_is_ows((unsigned char)*p)))
        p++;
    *start = p;
    for (q = p; q < end; q++) {
        if (quoted) {
            if (*q == '\\' && q + 1 < end)
                q++;
            else if (*q == '"')
                quoted = 0;
        } else if (*q == '"') {
            quoted = 1;
        } else if (*q == ',') {
            break;
        }
    }
    *stop = q;
    while (*stop > *start && gwe_is_ows((unsigned char)(*stop)[-1]))
        (*stop)--;
    *name_len = 0;
    while (*start + *name_len < *stop && (*start)[*name_len] != '=' &&
           !gwe_is_ows((unsigned char)(*start)[*name_len]))
        (*name_len)++;
    return q < end ? q + 1 : end;
}

size_t gwe_cache_control_private(const char *cc, size_t len, char *out,
                                 size_t cap)
{
    const char *p = cc, *end = cc ? cc + len : cc, *a, *b;
    writer w = {NULL, 0};
    size_t nl;
    int pass;

    while (p < end) {
        p = cc_directive(p, end, &a, &b, &nl);
        if (gwe_ieq(a, nl, "no-store") ||
            (gwe_ieq(a, nl, "private") && (size_t)(b - a) == nl))
            return 0;
    }
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            if (out == NULL || cap <= w.len)
                return w.len;
            w.buf = out;
            w.len = 0;
        }
        put(&w, "private", 7);
        for (p = cc; p < end;) {
            p = cc_directive(p, end, &a, &b, &nl);
            if (b == a || gwe_ieq(a, nl, "public"))
                continue;
            put(&w, ", ", 2);
            put(&w, a, (size_t)(b - a));
        }
    }
    out[w.len] = '\0';
    return w.len;
}

long gwe_status_line_end(const char *data, size_t len, int first)
{
    const char *nl;

    if (first && (len < 5 || memcmp(data, "HTTP/", 5)))
        return -2;
    nl = memchr(data, '\n', len);
    return nl ? (long)(nl - data) + 1 : -1;
}
