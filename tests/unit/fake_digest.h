/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fake_digest.h - the digest of the tests' stand-in MAC, shared by the unit
 * tests (testutil.c's fake_mac) and the fuzz targets (fuzz.h's
 * fuzz_fake_mac), which keep their keys and report misuse each their own
 * way.  NOT a MAC: four FNV-1a lanes over the key byte and the bytes,
 * deterministic, so the known answers and the fuzzers' checks agree.
 */
#ifndef GWE_TESTS_FAKE_DIGEST_H
#define GWE_TESTS_FAKE_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "sticky.h"

static inline void fake_digest_mix(uint64_t h[4], const gwe_slice *parts,
                                   size_t nparts)
{
    size_t i, j;
    int lane;

    for (i = 0; i < nparts; i++)
        for (j = 0; j < parts[i].len; j++)
            for (lane = 0; lane < 4; lane++) {
                h[lane] ^= (unsigned char)parts[i].ptr[j];
                h[lane] *= 0x100000001b3u;
                h[lane] ^= h[lane] >> 29;
            }
}

/* Under the key byte key: a scope (the derived key's input) is mixed in
 * first, then a marker, so the derived key of a scope never coincides with
 * the key itself over the same bytes; then the parts. */
static inline void fake_digest(unsigned char key, const gwe_slice *scope,
                               size_t nscope, const gwe_slice *parts,
                               size_t nparts, unsigned char out[32])
{
    static const gwe_slice marker = {"\xff", 1};
    uint64_t h[4];
    size_t j;
    int lane;

    for (lane = 0; lane < 4; lane++)
        h[lane] = 0xcbf29ce484222325u ^ ((uint64_t)key << 8) ^ (uint64_t)lane;
    if (nscope) {
        fake_digest_mix(h, scope, nscope);
        fake_digest_mix(h, &marker, 1);
    }
    fake_digest_mix(h, parts, nparts);
    for (lane = 0; lane < 4; lane++)
        for (j = 0; j < 8; j++)
            out[8 * lane + j] = (unsigned char)(h[lane] >> (8 * j));
}

#endif
