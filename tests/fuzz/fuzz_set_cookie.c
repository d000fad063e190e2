/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_set_cookie.c - gwe_cookie_attr_parse, gwe_cookie_attrs_check and
 * gwe_set_cookie_build.
 *
 * Input: byte 0 = options (bit 0: request over TLS, bits 1-7: separator);
 * byte 1 = error buffer size (0..255); GWELBRouteCookie words separated by
 * ' ' up to a '\n'; the rest (at most GWE_ROUTE_MAX bytes) is the route.
 * Checks: error messages are NUL-terminated within their buffer; an
 * accepted configuration builds a header of printable ASCII whose measured
 * and written lengths agree, whose value decodes back to the route, and
 * that never carries SameSite=None or Partitioned without Secure.  The
 * route bytes also go through gwe_cache_control_private (idempotent,
 * bounded) and gwe_set_cookie_sets.
 */
#include <stdlib.h>
#include "fuzz.h"

static int contains(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gwe_cookie_attrs a;
    gwe_slice words, route;
    unsigned opt;
    size_t errcap, n, i, dl;
    char err[256], *out, *val, *attrs, dec[GWE_ROUTE_MAX + 1];
    long at;

    /* the wstunnel 101 insertion point, over the raw input */
    at = gwe_status_line_end((const char *)data, size, size & 1);
    if (at > (long)size || at < -2 || at == 0)
        abort();
    const char *w, *wend;
    char sep;
    int ok = 1, is_tls;
    fuzz_in in;

    fuzz_init(&in, data, size);
    opt = fuzz_byte(&in);
    is_tls = opt & 1;
    sep = fuzz_separator(opt >> 1);
    errcap = fuzz_byte(&in);
    words = fuzz_until(&in, '\n');
    route = fuzz_take(&in, in.n < GWE_ROUTE_MAX ? in.n : GWE_ROUTE_MAX);

    gwe_cookie_attrs_init(&a);
    for (w = words.ptr, wend = words.ptr + words.len; ok && w < wend;) {
        const char *sp = memchr(w, ' ', (size_t)(wend - w));
        size_t wl = sp ? (size_t)(sp - w) : (size_t)(wend - w);
        char *word = malloc(wl ? wl : 1);

        FUZZ_ASSERT(word);
        memcpy(word, w, wl);
        memset(err, '#', sizeof err);
        ok = gwe_cookie_attr_parse(&a, word, wl, err, errcap) == 0;
        if (!ok && errcap > 0)
            FUZZ_ASSERT(memchr(err, '\0', errcap) != NULL);
        FUZZ_ASSERT(errcap == sizeof err || err[errcap] == '#');
        if (ok)
            ok = gwe_cookie_attrs_check(&a, err, errcap) == 0;
        w += wl + (sp ? 1 : 0);
        if (!ok) {
            free(word);
            break;
        }
        /* the attributes point into word: keep it until the build */
        FUZZ_ASSERT(in.ncopies < FUZZ_MAX_COPIES);
        in.copies[in.ncopies++] = word;
        if (in.ncopies >= FUZZ_MAX_COPIES - 1)
            break;
    }
    /* the route bytes as a member's Cache-Control and Set-Cookie line */
    {
        /* header values are C strings in httpd: no NUL inside */
        size_t m =
            memchr(route.ptr, '\0', route.len)
                ? 0
                : gwe_cache_control_private(route.ptr, route.len, NULL, 0);

        if (m > 0) {
            char *cc = malloc(m + 1);

            FUZZ_ASSERT(cc);
            FUZZ_ASSERT(gwe_cache_control_private(route.ptr, route.len, cc,
                                                  m + 1) == m);
            FUZZ_ASSERT(strlen(cc) == m && strncmp(cc, "private", 7) == 0);
            FUZZ_ASSERT(m <= 9 + 3 * route.len);
            /* once private, it is kept as it is */
            FUZZ_ASSERT(gwe_cache_control_private(cc, m, NULL, 0) == 0);
            free(cc);
        }
        if (gwe_set_cookie_sets(route.ptr, route.len, "ROUTEID", 7))
            FUZZ_ASSERT(memchr(route.ptr, '=', route.len) != NULL);
    }
    if (!ok) {
        fuzz_free(&in);
        return 0;
    }

    n = gwe_set_cookie_build(NULL, 0, "ROUTEID", 7, sep, route.ptr, route.len,
                             &a, is_tls);
    out = malloc(n + 1);
    FUZZ_ASSERT(out);
    FUZZ_ASSERT(gwe_set_cookie_build(out, n, "ROUTEID", 7, sep, route.ptr,
                                     route.len, &a, is_tls) == n);
    FUZZ_ASSERT(gwe_set_cookie_build(out, n + 1, "ROUTEID", 7, sep, route.ptr,
                                     route.len, &a, is_tls) == n);
    FUZZ_ASSERT(strlen(out) == n);
    for (i = 0; i < n; i++)
        FUZZ_ASSERT(out[i] >= 0x20 && out[i] < 0x7f);
    FUZZ_ASSERT(strncmp(out, "ROUTEID=", 8) == 0 && out[8] == sep);
    val = out + 9;
    FUZZ_ASSERT(strchr(val, ';') != NULL);
    FUZZ_ASSERT(gwe_pct_decode_tail(val, (size_t)(strchr(val, ';') - val), dec,
                                    sizeof dec, &dl) == 0);
    FUZZ_ASSERT(dl == route.len &&
                (dl == 0 || memcmp(dec, route.ptr, dl) == 0));
    /* attributes start at the first ';': the encoded route holds none,
     * and a path or domain holds no ';' */
    attrs = strchr(val, ';');
    if (!contains(attrs, "; Secure")) {
        FUZZ_ASSERT(!contains(attrs, "; SameSite=None"));
        FUZZ_ASSERT(!contains(attrs, "; Partitioned"));
    }
    free(out);
    fuzz_free(&in);
    return 0;
}
