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
 * search over every suffix.  The same lines are then judged as a signed
 * cookie (a fake MAC, one key; bit 6 of byte 1: legacy=accept).
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
    conf.verify = NULL;
    conf.now = 0;
    conf.legacy_accept = 0;

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

    /* without keys the status only says whether the cookie routes */
    FUZZ_ASSERT(
        res.cookie_status ==
        (res.cookie_route >= 0 ? GWE_COOKIE_VALID : GWE_COOKIE_ABSENT));

    /* with a key (bit 6: legacy=accept), the same lines judged signed */
    if (conf.cookie.len > 0) {
        static const fuzz_fake_keys keys = {{'K'}, 1};
        gwe_verify_conf vc;
        gwe_sticky_result sres;

        memset(&vc, 0, sizeof vc);
        vc.mac = fuzz_fake_mac;
        vc.mac_ctx = (void *)&keys;
        vc.key_ids = "Kx";
        vc.nkeys = 1;
        vc.cookie_name = cookie_name;
        vc.balancer = (gwe_slice){"balancer://gwe", 14};
        vc.maxidle = 1800;
        vc.opaque_id = fuzz_fake_opaque_id;
        vc.opaque_ctx = (void *)&keys;
        conf.verify = &vc;
        conf.now = 1765000000;
        conf.legacy_accept = (b & 64) != 0;
        gwe_sticky_extract(&conf, url.ptr, url.len, lines, nlines, routes,
                           nroutes, &sres);
        FUZZ_ASSERT(sres.cookie_status >= GWE_COOKIE_ABSENT &&
                    sres.cookie_status <= GWE_COOKIE_VALID);
        FUZZ_ASSERT(sres.cookie_route < (int)nroutes &&
                    sres.route < (int)nroutes);
        if (sres.cookie_route >= 0)
            FUZZ_ASSERT(sres.cookie_status == GWE_COOKIE_VALID);
        if (sres.source == GWE_SOURCE_COOKIE)
            FUZZ_ASSERT(sres.cookie_route == sres.route ||
                        (conf.legacy_accept &&
                         sres.cookie_status == GWE_COOKIE_LEGACY));
        /* the parameter decides the same way whatever the keys */
        if (res.source == GWE_SOURCE_PARAM)
            FUZZ_ASSERT(sres.source == GWE_SOURCE_PARAM &&
                        sres.route == res.route && sres.param == res.param);
    }

    /* route matching straight on the URL bytes */
    FUZZ_ASSERT(
        gwe_route_match(url.ptr, url.len, conf.separator, routes, nroutes) ==
        ref_route(url.ptr, url.len, conf.separator, routes, nroutes));
    fuzz_free(&in);
    return 0;
}
