/*
 * set_cookie.c - the Set-Cookie header value for the route cookie (SPEC 3,
 * 4.5).  The value is "<separator><route>", the format of the stock
 * mod_headers recipe (ROUTEID=.route), so sessions survive a move to this
 * module or back.  Only the configured route is written, never client
 * bytes.
 */
#include "sticky.h"
#include "chars.h"
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

static void put_str(writer *w, const char *s)
{
    put(w, s, strlen(s));
}

static void put_long(writer *w, long v)
{
    char d[GWE_DECIMAL_MAX];
    size_t i = gwe_decimal(d, v);

    put(w, d + i, GWE_DECIMAL_MAX - i);
}

static void put_route(writer *w, const char *route, size_t len)
{
    size_t n = gwe_cookie_encode(route, len, NULL, 0);

    if (w->buf)
        gwe_cookie_encode(route, len, w->buf + w->len, n);
    w->len += n;
}

static void build(writer *w, const char *name, size_t name_len, char sep,
                  const char *route, size_t route_len,
                  const gwe_cookie_attrs *a, int is_tls)
{
    int secure = a->secure == GWE_ON || (a->secure == GWE_AUTO && is_tls);

    put(w, name, name_len);
    put(w, "=", 1);
    put(w, &sep, 1);
    put_route(w, route, route_len);
    put_str(w, "; Path=");
    if (a->path.len > 0)
        put(w, a->path.ptr, a->path.len);
    else
        put(w, "/", 1);
    if (a->domain.len > 0) {
        put_str(w, "; Domain=");
        put(w, a->domain.ptr, a->domain.len);
    }
    if (a->max_age > 0) {
        put_str(w, "; Max-Age=");
        put_long(w, a->max_age);
    }
    if (secure)
        put_str(w, "; Secure");
    if (a->httponly == GWE_ON)
        put_str(w, "; HttpOnly");
    /* SameSite=None and Partitioned without Secure make browsers drop the
     * whole cookie; leaving them out keeps the cookie working on plain
     * HTTP with secure=auto. */
    switch (a->samesite) {
    case GWE_SAMESITE_STRICT:
        put_str(w, "; SameSite=Strict");
        break;
    case GWE_SAMESITE_LAX:
        put_str(w, "; SameSite=Lax");
        break;
    case GWE_SAMESITE_NONE:
        if (secure)
            put_str(w, "; SameSite=None");
        break;
    case GWE_SAMESITE_UNSET:
    default:
        break;
    }
    if (a->partitioned == GWE_ON && secure)
        put_str(w, "; Partitioned");
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
