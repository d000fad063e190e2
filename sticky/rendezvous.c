/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * rendezvous.c - the member a client address hashes to (issue 14,
 * GWELBFallback client-ip).
 *
 * Weighted rendezvous (highest random weight) hashing: every member draws
 * u = hash(route, address) in (0, 1) and scores weight / -ln(u); the
 * highest score wins.  -ln(u) of a uniform u is exponentially distributed,
 * so member i wins with probability weight_i / sum of weights, and since a
 * member's score depends on its own route and weight only, removing a
 * member moves only the addresses it had and adding one moves addresses
 * only to the newcomer.
 *
 * Everything is integer arithmetic, so the pick is the same on every
 * machine, compiler and floating-point mode (no libm, no FMA contraction,
 * no x87 excess precision):
 *
 *   hash     in two halves, so a request hashes its address once and a
 *            member's route half can be kept while its route stays:
 *              route half    R = bytes(ROUTE_SEED, route)
 *              address half  A = bytes(ADDR_SEED, address); two seeds,
 *                            so a route and an address of the same text
 *                            hash apart
 *              draw          mix13(R ^ A)
 *            bytes(seed, s): h = seed ^ length, then for each 8 bytes of
 *            s, read as a little-endian number (the last group padded
 *            with 0 bytes), h = mix13(h ^ group).  mix13 is SplitMix64's
 *            finaliser (Stafford's Mix13), a bijection whose every input
 *            bit flips every output bit with probability about 1/2, so
 *            neighbouring addresses (which differ in their last bytes)
 *            draw unrelated numbers, and so do the members for one
 *            address.  The bytes are composed into numbers by shifts: the
 *            same value on every byte order.
 *   -ln(u)   as -log2(u) (the same order: a constant factor ln 2) in
 *            fixed point with 32 fraction bits, u = (hash | 1) / 2^64, by
 *            the bit-by-bit squaring method.  Absolute error < 2^-29,
 *            never 0 (u < 1).
 *   compare  weight_a / L_a > weight_b / L_b as weight_a * L_b >
 *            weight_b * L_a, exactly, in 96 bits; between equal weights
 *            the hashes themselves, L only near a tie.
 */
#include "sticky.h"
#include <limits.h>
#include <string.h>

#if UINT_MAX > 0xffffffffu
#error "rendezvous.c: weights are compared as 32-bit values"
#endif

/* 2^64 / the golden ratio, and xxHash's second 64-bit prime: any two
 * odd constants unlike each other would do; these are the contract. */
#define ROUTE_SEED 0x9e3779b97f4a7c15u
#define ADDR_SEED 0xc2b2ae3d27d4eb4fu

/* 8 bytes as a little-endian number, whatever the machine's order (gcc
 * and clang make one load of it where the order is little-endian). */
static inline uint64_t le64(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline uint64_t
bytes_hash(uint64_t seed, const char *p, size_t len)
{
    const unsigned char *s = (const unsigned char *)p;
    uint64_t h = seed ^ (uint64_t)len, last = 0;
    size_t i = 0, k;

    for (; i + 8 <= len; i += 8)
        h = gwe_rendezvous_mix(h ^ le64(s + i));
    if (i == len)
        return h;
    if (len >= 8) /* the last group from the last 8 bytes, read once */
        last = le64(s + len - 8) >> (8 * (8 - (len - i)));
    else
        for (k = 0; k < len; k++)
            last |= (uint64_t)s[k] << (8 * k);
    return gwe_rendezvous_mix(h ^ last);
}

uint64_t gwe_rendezvous_route_hash(const char *route, size_t route_len)
{
    return bytes_hash(ROUTE_SEED, route, route_len);
}

uint64_t gwe_rendezvous_addr_hash(const char *addr, size_t addr_len)
{
    return bytes_hash(ADDR_SEED, addr, addr_len);
}

uint64_t gwe_rendezvous_hash(const char *route, size_t route_len,
                             const char *addr, size_t addr_len)
{
    return gwe_rendezvous_mix(gwe_rendezvous_route_hash(route, route_len) ^
                              gwe_rendezvous_addr_hash(addr, addr_len));
}

/*
 * The key is valid while the field's first nwords words are the ones it
 * saw: those words hold the whole string and its NUL (or the whole field
 * when the string fills it), so equal words mean an equal string, and
 * any change, of length or of a byte, is a miss.  Bytes after the NUL in
 * the last word count too: a change there only costs a rehash.
 */
uint64_t gwe_rendezvous_key_load(gwe_rendezvous_key *k, const char *field,
                                 size_t size)
{
    size_t n;

    if (size > 8 * GWE_RENDEZVOUS_KEY_WORDS)
        size = 8 * GWE_RENDEZVOUS_KEY_WORDS;
    size -= size % 8;
    for (n = 0; n < size && field[n]; n++)
        ;
    k->len = n;
    k->nwords = (unsigned)(n < size ? n / 8 + 1 : size / 8);
    memcpy(k->words, field, 8 * (size_t)k->nwords);
    k->hash = gwe_rendezvous_route_hash(field, n);
    return k->hash;
}

/*
 * -log2(x / 2^64) for odd x, in units of 2^-32: 64 - log2(x).  The integer
 * part of log2(x) is the position of the top bit; the fraction comes from
 * the mantissa m in [1, 2) (32 bits, Q31), one bit per squaring: m^2 >= 2
 * means the next fraction bit is 1 (then m^2 / 2 is back in [1, 2)).
 * Result in [1, 64 * 2^32].
 */
static uint64_t neg_log2_q32(uint64_t x)
{
    uint64_t m, frac = 0;
    unsigned top = 63;
    int i;

    while ((x >> top) == 0)
        top--;
    m = top >= 31 ? x >> (top - 31) : x << (31 - top);
    for (i = 31; i >= 0; i--) {
        m = (m * m) >> 31;
        if (m >= (uint64_t)1 << 32) {
            frac |= (uint64_t)1 << i;
            m >>= 1;
        }
    }
    return ((uint64_t)64 << 32) - (((uint64_t)top << 32) | frac);
}

/* 1 if a * b > c * d, for a, c < 2^64 and b, d < 2^32, exactly. */
static int wide_gt(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
    uint64_t ab_lo = (a & 0xffffffffu) * b, cd_lo = (c & 0xffffffffu) * d;
    uint64_t ab_hi = (a >> 32) * b + (ab_lo >> 32);
    uint64_t cd_hi = (c >> 32) * d + (cd_lo >> 32);

    if (ab_hi != cd_hi)
        return ab_hi > cd_hi;
    return (ab_lo & 0xffffffffu) > (cd_lo & 0xffffffffu);
}

/* <0, 0, >0 as route a sorts before, with, after route b: bytes, then
 * the shorter first. */
static int route_cmp(const gwe_slice *a, const gwe_slice *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n > 0 ? memcmp(a->ptr, b->ptr, n) : 0;

    if (c != 0)
        return c;
    return a->len < b->len ? -1 : a->len > b->len;
}

gwe_rendezvous_score gwe_rendezvous_score_of(const char *route,
                                             size_t route_len,
                                             const char *addr, size_t addr_len,
                                             unsigned weight)
{
    return gwe_rendezvous_score_hashed(
        gwe_rendezvous_route_hash(route, route_len),
        gwe_rendezvous_addr_hash(addr, addr_len), weight);
}

uint64_t gwe_rendezvous_draw(gwe_rendezvous_score *s)
{
    if (s->draw == 0 && s->hash != 0)
        s->draw = neg_log2_q32(s->hash);
    return s->draw;
}

/*
 * 1 when the draws of hashes x and y could be equal, or their order could
 * differ from the hashes': y within 2^-25 of x relatively (then either
 * could be the lower draw after neg_log2_q32's rounding, which is off by
 * less than 2^-29 in log2 units, far below the 2^-26 such a gap makes).
 */
static int near_tie(uint64_t x, uint64_t y)
{
    uint64_t hi = x > y ? x : y, d = x > y ? x - y : y - x;
    unsigned top = 63;

    while (top > 0 && (hi >> top) == 0)
        top--;
    return top < 25 || (d >> (top - 25)) == 0;
}

int gwe_rendezvous_beats_exact(gwe_rendezvous_score *a, const gwe_slice *ra,
                               gwe_rendezvous_score *b, const gwe_slice *rb)
{
    uint64_t da, db;

    if (a->weight == 0)
        return 0;
    if (b->weight == 0)
        return 1;
    /* equal weights: the higher hash is the lower draw */
    if (a->weight == b->weight && a->hash && b->hash &&
        !near_tie(a->hash, b->hash))
        return a->hash > b->hash;
    da = gwe_rendezvous_draw(a);
    db = gwe_rendezvous_draw(b);
    /* a->weight / da > b->weight / db, or equal and the route sorts
     * first */
    if (wide_gt(db, a->weight, da, b->weight))
        return 1;
    return !wide_gt(da, b->weight, db, a->weight) && route_cmp(ra, rb) < 0;
}

int gwe_rendezvous_pick(const char *addr, size_t addr_len,
                        const gwe_slice *routes, const unsigned *weights,
                        const unsigned char *usable, size_t n)
{
    gwe_rendezvous_score best_sc = {0, 0, 0};
    int best = -1;
    size_t i;
    uint64_t a;

    if (routes == NULL || (addr == NULL && addr_len > 0))
        return -1;
    a = gwe_rendezvous_addr_hash(addr, addr_len);
    for (i = 0; i < n; i++) {
        unsigned w = weights ? weights[i] : 1;
        gwe_rendezvous_score sc;

        if (w == 0 || (usable && !usable[i]))
            continue;
        sc = gwe_rendezvous_score_hashed(
            gwe_rendezvous_route_hash(routes[i].ptr, routes[i].len), a, w);
        /* the first eligible member, or one that beats the best so far:
         * an equal score keeps the lower index */
        if (best < 0 ||
            gwe_rendezvous_beats(&sc, &routes[i], &best_sc, &routes[best])) {
            best = (int)i;
            best_sc = sc;
        }
    }
    return best;
}
