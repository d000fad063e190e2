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

static inline void fuzz_fake_mix(uint64_t h[4], const gwe_slice *parts,
                                 size_t nparts)
{
    size_t i, j;
    int l;

    for (i = 0; i < nparts; i++)
        for (j = 0; j < parts[i].len; j++)
            for (l = 0; l < 4; l++) {
                h[l] ^= (unsigned char)parts[i].ptr[j];
                h[l] *= 0x100000001b3u;
                h[l] ^= h[l] >> 29;
            }
}

/* The scope (the derived key's input) first, then a marker byte. */
static inline int fuzz_fake_mac(void *ctx, int key_index,
                                const gwe_slice *scope, size_t nscope,
                                const gwe_slice *parts, size_t nparts,
                                unsigned char out[32])
{
    static const gwe_slice marker = {"\xff", 1};
    const fuzz_fake_keys *keys = ctx;
    uint64_t h[4];
    size_t j;
    int l;

    FUZZ_ASSERT(key_index >= 0 && (size_t)key_index < keys->n);
    for (l = 0; l < 4; l++)
        h[l] = 0xcbf29ce484222325u ^ ((uint64_t)keys->k[key_index] << 8) ^
               (uint64_t)l;
    if (nscope) {
        fuzz_fake_mix(h, scope, nscope);
        fuzz_fake_mix(h, &marker, 1);
    }
    fuzz_fake_mix(h, parts, nparts);
    for (l = 0; l < 4; l++)
        for (j = 0; j < 8; j++)
            out[8 * l + j] = (unsigned char)(h[l] >> (8 * j));
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
