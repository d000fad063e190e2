/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_extract.c - gwe_sticky_extract and gwe_route_match.
 *
 * Input: byte 0 = separator choice; byte 1 = number of members (bits 0-2,
 * 0..4), no route cookie (bit 3), number of parameter names (bits 4-5,
 * 0..3); per member and per name one
 * length byte (0..15) and the bytes; two bytes of URL length, the URL; the
 * rest is Cookie header lines separated by '\n' (at most 4).
 * Checks: the result is consistent (indices in range, source agrees with
 * route, param and cookie_route) and agrees with the building blocks
 * called one by one; gwe_route_match agrees with a naive longest-suffix
 * search over every suffix.
 */
#include "fuzz.h"

static const gwe_slice cookie_name = {"ROUTEID", 7};

/* Naive reference: try every suffix length from the longest down. */
static int ref_route(const char *v, size_t len, char sep,
                     const gwe_slice *routes, size_t n)
{
    size_t l, i;

    for (l = len; l-- > 0;) {
        if (v[len - l - 1] != sep || l == 0)
            continue;
        for (i = 0; i < n; i++) {
            if (routes[i].len == l &&
                memcmp(routes[i].ptr, v + len - l, l) == 0)
                return (int)i;
        }
    }
    return -1;
}

static int resolve(const gwe_slice *raw, char sep, const gwe_slice *routes,
                   size_t n)
{
    char tail[GWE_ROUTE_MAX + 1];
    size_t tl;
    int r;

    if (gwe_pct_decode_tail(raw->ptr, raw->len, tail, sizeof tail, &tl) < 0)
        return -1;
    r = gwe_route_match(tail, tl, sep, routes, n);
    FUZZ_ASSERT(r == ref_route(tail, tl, sep, routes, n));
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gwe_slice routes[4] = {{0}}, names[3] = {{0}}, lines[4] = {{0}};
    gwe_slice url, v;
    gwe_sticky_conf conf;
    gwe_sticky_result res;
    size_t nroutes, nnames, nlines = 0, i;
    int first_cookie = -1, cookie_sent = 0, idx;
    unsigned b, len;
    fuzz_in in;

    fuzz_init(&in, data, size);
    conf.separator = fuzz_separator(fuzz_byte(&in));
    b = fuzz_byte(&in);
    nroutes = (b & 7) % 5;
    nnames = (b >> 4) & 3;
    conf.cookie = (b & 8) ? (gwe_slice){"", 0} : cookie_name;
    for (i = 0; i < nroutes; i++)
        routes[i] = fuzz_take(&in, fuzz_byte(&in) % 16);
    for (i = 0; i < nnames; i++)
        names[i] = fuzz_take(&in, fuzz_byte(&in) % 16);
    len = fuzz_byte(&in) << 8;
    len |= fuzz_byte(&in);
    url = fuzz_take(&in, len);
    while (in.n > 0 && nlines < 4)
        lines[nlines++] = fuzz_until(&in, '\n');
    conf.params = names;
    conf.nparams = nnames;

    gwe_sticky_extract(&conf, url.ptr, url.len, lines, nlines, routes, nroutes,
                       &res);

    /* the route cookie on its own */
    if (conf.cookie.len > 0) {
        for (i = 0; i < nlines && first_cookie < 0; i++) {
            gwe_cookie_iter it;

            gwe_cookie_iter_init(&it, lines[i].ptr, lines[i].len);
            while (first_cookie < 0 && gwe_cookie_next(&it, cookie_name.ptr,
                                                       cookie_name.len, &v)) {
                first_cookie = resolve(&v, conf.separator, routes, nroutes);
                cookie_sent = 1;
            }
        }
    }
    FUZZ_ASSERT(res.cookie_route == first_cookie);
    FUZZ_ASSERT(!(res.unknown & GWE_UNKNOWN_COOKIE) ==
                !(cookie_sent && first_cookie < 0));

    /* the parameter on its own */
    idx = gwe_url_param_find(url.ptr, url.len, names, nnames, &v);
    FUZZ_ASSERT(
        !(res.unknown & GWE_UNKNOWN_PARAM) ==
        !(idx >= 0 && resolve(&v, conf.separator, routes, nroutes) < 0));
    if (idx >= 0 && resolve(&v, conf.separator, routes, nroutes) >= 0) {
        FUZZ_ASSERT(res.source == GWE_SOURCE_PARAM && res.param == idx);
        FUZZ_ASSERT(res.route == resolve(&v, conf.separator, routes, nroutes));
    } else if (first_cookie >= 0) {
        FUZZ_ASSERT(res.source == GWE_SOURCE_COOKIE && res.param == -1);
        FUZZ_ASSERT(res.route == first_cookie);
    } else {
        FUZZ_ASSERT(res.source == GWE_SOURCE_NONE && res.route == -1 &&
                    res.param == -1);
    }
    FUZZ_ASSERT(res.route < (int)nroutes && res.cookie_route < (int)nroutes);
    if (res.route >= 0)
        FUZZ_ASSERT(routes[res.route].len > 0);

    /* route matching straight on the URL bytes */
    FUZZ_ASSERT(
        gwe_route_match(url.ptr, url.len, conf.separator, routes, nroutes) ==
        ref_route(url.ptr, url.len, conf.separator, routes, nroutes));
    fuzz_free(&in);
    return 0;
}
