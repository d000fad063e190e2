/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * pct.c - percent-decoding of the tail of a value and percent-encoding of a
 * route for a cookie value.
 */
#include "sticky.h"
#include "chars.h"

/*
 * Pass 1 walks the '%' signs forward with memchr, checks every escape and
 * counts the decoded length.  Pass 2 decodes backwards from the end, only
 * as many bytes as fit in out: on a well-formed value the byte two places
 * before a hex digit is '%' exactly when that digit closes an escape, since
 * a '%' always opens one.  So a long value costs one memchr pass plus at
 * most 3 * cap bytes of decoding (a value without escapes is copied).
 */
int gwe_pct_decode_tail(const char *in, size_t len, char *out, size_t cap,
                        size_t *out_len)
{
    const char *end, *p;
    size_t escapes = 0;
    size_t dlen, n;

    *out_len = 0;
    if (len == 0)
        return 0;
    end = in + len;
    p = in;
    while ((p = gwe_find(p, end, '%')) < end) {
        if (end - p < 3 || gwe_hex_value((unsigned char)p[1]) < 0 ||
            gwe_hex_value((unsigned char)p[2]) < 0)
            return -1;
        escapes++;
        p += 3;
    }
    dlen = len - 2 * escapes;
    n = dlen < cap ? dlen : cap;
    *out_len = n;

    if (n == 0)
        return 0;
    if (escapes == 0) {
        memcpy(out, end - n, n);
        return 0;
    }
    p = end;
    while (n > 0) {
        if (p - in >= 3 && p[-3] == '%') {
            out[--n] = (char)(gwe_hex_value((unsigned char)p[-2]) * 16 +
                              gwe_hex_value((unsigned char)p[-1]));
            p -= 3;
        } else {
            out[--n] = p[-1];
            p--;
        }
    }
    return 0;
}

/* Bit c of plain[c / 64]: c is a cookie-octet other than '%', so it stands
 * for itself in an encoded value.  One lookup per byte where the rule
 * takes six compares: every Set-Cookie measures its route with it. */
static const uint64_t plain[4] = {
    /* 0x21-0x3f without '"' (0x22), '%' (0x25), ',' (0x2c), ';' (0x3b) */
    0xf7ffefda00000000u,
    /* 0x40-0x7e without '\\' (0x5c) */
    0x7fffffffefffffffu, 0, 0};

size_t gwe_cookie_encode(const char *in, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i, need = 0;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        need += (plain[c >> 6] >> (c & 63)) & 1 ? 1 : 3;
    }
    if (out == NULL || cap < need)
        return need;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];

        if ((plain[c >> 6] >> (c & 63)) & 1) {
            *out++ = (char)c;
        } else {
            *out++ = '%';
            *out++ = hex[c >> 4];
            *out++ = hex[c & 15];
        }
    }
    return need;
}
