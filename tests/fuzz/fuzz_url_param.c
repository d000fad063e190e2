/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_url_param.c - gwe_url_param_find over any URL.
 *
 * Input: byte 0 = number of names (0..3); per name one length byte (0..15)
 * and the name; the rest is the URL.
 * Checks: the value lies in the URL; the name found sits right before
 * "=value" and right after '?', '&' or ';'; the value holds no '#' or ';'.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gwe_slice names[3] = {{0}}, url, v = {NULL, 0};
    size_t n, i;
    fuzz_in in;
    int idx;

    fuzz_init(&in, data, size);
    n = fuzz_byte(&in) % 4;
    for (i = 0; i < n; i++)
        names[i] = fuzz_take(&in, fuzz_byte(&in) % 16);
    url = fuzz_take(&in, in.n);

    idx = gwe_url_param_find(url.ptr, url.len, names, n, &v);
    FUZZ_ASSERT(idx >= -1 && idx < (int)n);
    if (idx >= 0) {
        const gwe_slice *nm = &names[idx];
        const char *start = v.ptr - 1 - nm->len;

        FUZZ_ASSERT(nm->len > 0);
        FUZZ_ASSERT(v.ptr >= url.ptr && v.ptr + v.len <= url.ptr + url.len);
        FUZZ_ASSERT(start > url.ptr);
        FUZZ_ASSERT(v.ptr[-1] == '=');
        FUZZ_ASSERT(memcmp(start, nm->ptr, nm->len) == 0);
        FUZZ_ASSERT(start[-1] == '?' || start[-1] == '&' || start[-1] == ';');
        FUZZ_ASSERT(memchr(v.ptr, '#', v.len) == NULL);
        FUZZ_ASSERT(memchr(v.ptr, ';', v.len) == NULL);
        FUZZ_ASSERT(memchr(start, '=', nm->len) == NULL);
    }
    fuzz_free(&in);
    return 0;
}
