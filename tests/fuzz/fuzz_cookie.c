/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_cookie.c - gwe_cookie_next over any Cookie header.
 *
 * Input: byte 0 = name length (0..15), the name, then the header.
 * Checks: every value lies in the header, holds no ';', comes after the
 * previous one, and the iteration ends within one step per header byte;
 * gwe_cookie_strip removes exactly the pairs the iteration found.
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gwe_slice name, header, v;
    const char *last = NULL;
    gwe_cookie_iter it;
    size_t steps = 0;
    fuzz_in in;

    fuzz_init(&in, data, size);
    name = fuzz_take(&in, fuzz_byte(&in) % 16);
    header = fuzz_take(&in, in.n);

    gwe_cookie_iter_init(&it, header.ptr, header.len);
    while (gwe_cookie_next(&it, name.ptr, name.len, &v)) {
        FUZZ_ASSERT(name.len > 0);
        FUZZ_ASSERT(v.ptr >= header.ptr &&
                    v.ptr + v.len <= header.ptr + header.len);
        FUZZ_ASSERT(memchr(v.ptr, ';', v.len) == NULL);
        FUZZ_ASSERT(last == NULL || v.ptr > last);
        FUZZ_ASSERT(it.pos >= v.ptr + v.len && it.pos <= it.end);
        last = v.ptr;
        FUZZ_ASSERT(++steps <= header.len);
    }
    FUZZ_ASSERT(!gwe_cookie_next(&it, name.ptr, name.len, &v));

    /* indirect=on: the header without those pairs, never longer; every
     * pair removed is one the iterator found */
    if (header.len > 0) {
        char *out = malloc(header.len);
        size_t removed, n;

        FUZZ_ASSERT(out != NULL);
        n = gwe_cookie_strip(header.ptr, header.len, name.ptr, name.len, out,
                             header.len, &removed);
        FUZZ_ASSERT(n <= header.len && removed == steps);
        FUZZ_ASSERT(removed > 0 || n == 0 || n == header.len);
        if (removed == 0 && n > 0)
            FUZZ_ASSERT(memcmp(out, header.ptr, n) == 0);
        free(out);
    }
    fuzz_free(&in);
    return 0;
}
