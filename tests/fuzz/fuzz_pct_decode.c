/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_pct_decode.c - gwe_pct_decode_tail and gwe_cookie_encode.
 *
 * Input: byte 0 = cap (0..255), the rest is the value.
 * Checks: the tail equals the end of a plain forward decode and the result
 * codes agree; encoding the value gives cookie-octets only and decodes
 * back to the value exactly.
 */
#include "fuzz.h"

/* Straightforward reference decoder: the decoded length, or -1 on a
 * malformed escape. */
static int hexval(char c)
{
    static const char hex[] = "0123456789abcdef0123456789ABCDEF";
    const char *h = c ? memchr(hex, c, 32) : NULL;

    return h ? (int)((h - hex) % 16) : -1;
}

static long ref_decode(const char *in, size_t len, char *out)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++) {
        if (in[i] != '%') {
            out[n++] = in[i];
            continue;
        }
        if (len - i < 3 || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0)
            return -1;
        out[n++] = (char)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
        i += 2;
    }
    return (long)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gwe_slice v, enc;
    size_t cap, n, elen, i;
    char *ref, *out, *e;
    long rn;
    int rc;
    fuzz_in in;

    fuzz_init(&in, data, size);
    cap = fuzz_byte(&in);
    v = fuzz_take(&in, in.n);

    ref = malloc(v.len + 1);
    out = malloc(cap + 1);
    FUZZ_ASSERT(ref && out);
    out[cap] = '#';
    rn = ref_decode(v.ptr, v.len, ref);
    rc = gwe_pct_decode_tail(v.ptr, v.len, out, cap, &n);
    FUZZ_ASSERT(out[cap] == '#');
    FUZZ_ASSERT((rc == 0) == (rn >= 0));
    if (rc == 0) {
        FUZZ_ASSERT(n == ((size_t)rn < cap ? (size_t)rn : cap));
        FUZZ_ASSERT(n == 0 || memcmp(out, ref + rn - (long)n, n) == 0);
    }

    elen = gwe_cookie_encode(v.ptr, v.len, NULL, 0);
    FUZZ_ASSERT(elen >= v.len && elen <= 3 * v.len);
    e = malloc(elen + 1);
    FUZZ_ASSERT(e);
    FUZZ_ASSERT(gwe_cookie_encode(v.ptr, v.len, e, elen) == elen);
    for (i = 0; i < elen; i++) {
        unsigned char c = (unsigned char)e[i];

        FUZZ_ASSERT(c >= 0x21 && c <= 0x7e && c != '"' && c != ',' &&
                    c != ';' && c != '\\');
    }
    enc.ptr = e;
    enc.len = elen;
    free(ref);
    ref = malloc(v.len + 1);
    FUZZ_ASSERT(ref);
    FUZZ_ASSERT(gwe_pct_decode_tail(enc.ptr, enc.len, ref, v.len, &n) == 0);
    FUZZ_ASSERT(n == v.len && (n == 0 || memcmp(ref, v.ptr, n) == 0));

    free(e);
    free(ref);
    free(out);
    fuzz_free(&in);
    return 0;
}
