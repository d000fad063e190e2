/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * fuzz_rendezvous.c - gwe_rendezvous_pick (issue 14, GWELBFallback client-ip).
 *
 * Input: byte 0 = number of members (0..8); byte 1 = usable mask (bit i:
 * member i); one weight byte per member (below 0xf0: weight 0..4, else a
 * weight within 15 of UINT_MAX, to exercise the exact 96-bit compare); per
 * member one length byte (0..15) and the route; the rest is the address.
 * Checks, all exact (the pick has no rounding):
 *   - -1 exactly when no member is usable with a weight > 0, else an
 *     index of such a member;
 *   - another copy of the address, NULL weights for all-1 and NULL usable
 *     for all-usable give the same pick;
 *   - the members in reverse order pick the same route and weight;
 *   - taking any other member out (usable 0), halving another's weight or
 *     raising the winner's keeps the winner;
 *   - with weights 0..4, no member clearly beats the winner by a reference
 *     built on gwe_rendezvous_hash alone: j beats i when
 *     u_j^w_i > u_i^w_j (w_j / -ln u_j > w_i / -ln u_i, without a log),
 *     "clearly" meaning by more than the fixed-point log's error;
 *   - each route in a 64-byte field after the route of the member before
 *     (its bytes left after the NUL, as httpd's shared memory keeps
 *     them): gwe_rendezvous_key_of always answers the hash of the string
 *     the field holds now, never the one before.
 */
#include <limits.h>
#include "fuzz.h"

#define MAXM 8

static int pick(const gwe_slice *addr, const gwe_slice *routes,
                const unsigned *weights, const unsigned char *usable, size_t n)
{
    int r =
        gwe_rendezvous_pick(addr->ptr, addr->len, routes, weights, usable, n);

    FUZZ_ASSERT(r >= -1 && r < (int)n);
    return r;
}

static double draw(const gwe_slice *route, const gwe_slice *addr)
{
    uint64_t h =
        gwe_rendezvous_hash(route->ptr, route->len, addr->ptr, addr->len);

    return (double)(h | 1) / 18446744073709551616.0;
}

static double power(double u, unsigned w)
{
    double p = 1;

    while (w-- > 0)
        p *= u;
    return p;
}

/* No eligible member clearly beats member r (weights all small). */
static void check_reference(const gwe_slice *addr, const gwe_slice *routes,
                            const unsigned *weights,
                            const unsigned char *usable, size_t n, int r)
{
    double ur = draw(&routes[r], addr);
    size_t j;

    for (j = 0; j < n; j++) {
        double uj;

        if (!usable[j] || weights[j] == 0 || j == (size_t)r)
            continue;
        uj = draw(&routes[j], addr);
        FUZZ_ASSERT(power(uj, weights[r]) <=
                    power(ur, weights[j]) * (1 + 1e-7));
    }
}

/* One field, one key, the routes written into it one after the other. */
static void check_keys(const gwe_slice *routes, size_t n)
{
    char field[64];
    gwe_rendezvous_key k;
    size_t i, len;

    memset(field, 0x5a, sizeof field);
    memset(&k, 0, sizeof k);
    for (i = 0; i < n; i++) {
        len = routes[i].len < sizeof field ? routes[i].len : sizeof field;
        if (len > 0)
            memcpy(field, routes[i].ptr, len);
        if (len < sizeof field)
            field[len] = '\0';
        for (len = 0; len < sizeof field && field[len]; len++)
            ;
        FUZZ_ASSERT(gwe_rendezvous_key_of(&k, field, sizeof field) ==
                        gwe_rendezvous_route_hash(field, len) &&
                    k.len == len);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gwe_slice routes[MAXM] = {{0}}, rev[MAXM], addr, copy;
    unsigned weights[MAXM], wrev[MAXM], ones[MAXM], w2[MAXM];
    unsigned char usable[MAXM], urev[MAXM], all[MAXM], u2[MAXM];
    unsigned mask, small = 1;
    size_t n, i, j;
    int eligible = 0, r, r2;
    fuzz_in in;

    fuzz_init(&in, data, size);
    n = fuzz_byte(&in) % (MAXM + 1);
    mask = fuzz_byte(&in);
    for (i = 0; i < n; i++) {
        unsigned b = fuzz_byte(&in);

        weights[i] = b < 0xf0 ? b % 5 : UINT_MAX - (b & 0x0f);
        usable[i] = (mask >> i) & 1;
        ones[i] = 1;
        all[i] = 1;
        eligible |= usable[i] && weights[i] > 0;
        small &= weights[i] <= 4;
    }
    for (i = 0; i < n; i++)
        routes[i] = fuzz_take(&in, fuzz_byte(&in) % 16);
    addr = fuzz_take(&in, in.n);
    /* a second heap copy of the address: its place must not count */
    in.p = (const uint8_t *)addr.ptr;
    in.n = addr.len;
    copy = fuzz_take(&in, addr.len);

    r = pick(&addr, routes, weights, usable, n);
    FUZZ_ASSERT((r >= 0) == eligible);
    if (r >= 0)
        FUZZ_ASSERT(usable[r] && weights[r] > 0);
    if (r >= 0 && small)
        check_reference(&addr, routes, weights, usable, n, r);
    FUZZ_ASSERT(pick(&copy, routes, weights, usable, n) == r);
    FUZZ_ASSERT(pick(&addr, routes, NULL, usable, n) ==
                pick(&addr, routes, ones, usable, n));
    FUZZ_ASSERT(pick(&addr, routes, weights, NULL, n) ==
                pick(&addr, routes, weights, all, n));

    for (i = 0; i < n; i++) {
        rev[i] = routes[n - 1 - i];
        wrev[i] = weights[n - 1 - i];
        urev[i] = usable[n - 1 - i];
    }
    r2 = pick(&addr, rev, wrev, urev, n);
    FUZZ_ASSERT((r2 >= 0) == (r >= 0));
    if (r >= 0) {
        FUZZ_ASSERT(rev[r2].len == routes[r].len && wrev[r2] == weights[r]);
        FUZZ_ASSERT(routes[r].len == 0 ||
                    memcmp(rev[r2].ptr, routes[r].ptr, routes[r].len) == 0);
    }

    if (r >= 0) {
        for (j = 0; j < n; j++) {
            memcpy(u2, usable, n);
            memcpy(w2, weights, n * sizeof *w2);
            if (j == (size_t)r) {
                if (w2[j] < UINT_MAX)
                    w2[j]++;
                FUZZ_ASSERT(pick(&addr, routes, w2, u2, n) == r);
                continue;
            }
            u2[j] = 0;
            FUZZ_ASSERT(pick(&addr, routes, w2, u2, n) == r);
            u2[j] = usable[j];
            w2[j] /= 2;
            FUZZ_ASSERT(pick(&addr, routes, w2, u2, n) == r);
        }
    }
    check_keys(routes, n);
    fuzz_free(&in);
    return 0;
}
