/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz.h - shared by the fuzz targets: the libFuzzer entry point and a
 * reader that hands out option bytes and slices of the input.
 *
 * Each slice is copied into its own exact-size heap block, so that
 * AddressSanitizer flags a read one byte past any of them, not only past
 * the end of the whole input.
 */
#ifndef GWE_FUZZ_H
#define GWE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "sticky.h"
/* the digest of the unit tests' fake MAC, so both agree */
#include "../unit/fake_digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A failed invariant: abort() so libFuzzer and the replay driver both see
 * a crash and keep the input. */
#define FUZZ_ASSERT(c)                                                        \
    do {                                                                      \
        if (!(c))                                                             \
            abort();                                                          \
    } while (0)

#define FUZZ_MAX_COPIES 24

typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
    void *copies[FUZZ_MAX_COPIES];
    int ncopies;
} fuzz_in;

static inline void fuzz_init(fuzz_in *in, const uint8_t *data, size_t size)
{
    in->p = data;
    in->n = size;
    in->ncopies = 0;
}

/* The next byte, or 0 once the input is used up. */
static inline unsigned fuzz_byte(fuzz_in *in)
{
    if (in->n == 0)
        return 0;
    in->n--;
    return *in->p++;
}

/* A heap copy of the next len bytes (fewer if the input runs out). */
static inline gwe_slice fuzz_take(fuzz_in *in, size_t len)
{
    gwe_slice s;
    char *c;

    if (len > in->n)
        len = in->n;
    c = malloc(len ? len : 1);
    FUZZ_ASSERT(c != NULL && in->ncopies < FUZZ_MAX_COPIES);
    if (len > 0)
        memcpy(c, in->p, len);
    in->copies[in->ncopies++] = c;
    in->p += len;
    in->n -= len;
    /* A zero-length slice points at a 1-byte block: reading it is a bug
     * ASan does not see, so such slices point one past the block end. */
    s.ptr = len ? c : c + 1;
    s.len = len;
    return s;
}

/* The rest of the input up to (not including) byte stop, which is
 * consumed; all of the rest if stop does not occur. */
static inline gwe_slice fuzz_until(fuzz_in *in, uint8_t stop)
{
    const uint8_t *q = memchr(in->p, stop, in->n);
    size_t len = q ? (size_t)(q - in->p) : in->n;
    gwe_slice s = fuzz_take(in, len);

    if (q)
        fuzz_byte(in);
    return s;
}

static inline void fuzz_free(fuzz_in *in)
{
    while (in->ncopies > 0)
        free(in->copies[--in->ncopies]);
}

/* The separators GWELBRouteSeparator accepts, chosen by an option byte. */
static inline char fuzz_separator(unsigned b)
{
    static const char seps[] = ".-_~!*+:@|$";

    return seps[b % (sizeof seps - 1)];
}

/* A deterministic stand-in for HMAC-SHA256 (sticky/ is handed its MAC):
 * ctx holds the key bytes, one per key index. */
typedef struct fuzz_fake_keys {
    unsigned char k[GWE_SIGNED_KEYS_MAX];
    size_t n;
} fuzz_fake_keys;

/* The unit tests' fake digest (fake_digest.h) under key key_index. */
static inline int fuzz_fake_mac(void *ctx, int key_index,
                                const gwe_slice *scope, size_t nscope,
                                const gwe_slice *parts, size_t nparts,
                                unsigned char out[32])
{
    const fuzz_fake_keys *keys = ctx;

    FUZZ_ASSERT(key_index >= 0 && (size_t)key_index < keys->n);
    fake_digest(keys->k[key_index], scope, nscope, parts, nparts, out);
    return 0;
}

/* A gwe_opaque_id_fn over fuzz_fake_mac with the fuzz_fake_keys in ctx. */
static inline int fuzz_fake_opaque_id(void *ctx, int key_index, size_t member,
                                      gwe_slice route,
                                      char out[GWE_OPAQUE_ID_LEN])
{
    (void)member;
    return gwe_signed_opaque_id(fuzz_fake_mac, ctx, key_index, route, out);
}

#endif /* GWE_FUZZ_H */
