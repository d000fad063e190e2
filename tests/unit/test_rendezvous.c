/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_rendezvous.c - gwe_rendezvous_pick and gwe_rendezvous_hash
 * (issue 14, GWELBFallback client-ip).
 *
 * Rows: one pick each, every input (address and routes) guarded.  Pins:
 * hash values and picks that must never change, since a change would move
 * every client after an upgrade; their values come from a separate
 * implementation of README 4.7's definition (rendezvous_reference.py,
 * which make unit runs over these tables), not from this code.  The route key
 * cache: a changed route is never answered with its old hash.  Properties over
 * 30,000 generated addresses (20,000 IPv4, 10,000 IPv6): what moves when a
 * member leaves or joins, and each member's share of the load; each prints
 * what it measured on stderr (once per run, not again in the GWE_GUARD_FRONT
 * pass).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include "testutil.h"

#define MAXM 6

typedef struct rv_row {
    const char *name;
    lit addr;
    lit routes[MAXM];
    unsigned weights[MAXM];
    unsigned char usable[MAXM];
    size_t n;
    int want;
} rv_row;

#define GWE4                                                                  \
    {                                                                         \
        L("GWE_Frontend_1"), L("GWE_Frontend_2"), L("GWE_Backend_1"),         \
            L("GWE_Backend_2")                                                \
    }
#define ALL4                                                                  \
    {                                                                         \
        1, 1, 1, 1                                                            \
    }

static const rv_row rows[] = {
    {"no members gives -1", L("192.0.2.7"), {NOLIT}, {0}, {0}, 0, -1},
    {"no usable member gives -1",
     L("192.0.2.7"),
     GWE4,
     ALL4,
     {0, 0, 0, 0},
     4,
     -1},
    {"only weight 0 members give -1",
     L("192.0.2.7"),
     GWE4,
     {0, 0, 0, 0},
     ALL4,
     4,
     -1},
    {"single member always wins", L("192.0.2.7"), {L("n1")}, {1}, {1}, 1, 0},
    {"single usable member always wins",
     L("192.0.2.7"),
     GWE4,
     ALL4,
     {0, 0, 1, 0},
     4,
     2},
    {"single usable member with weight always wins",
     L("192.0.2.7"),
     GWE4,
     {0, 0, 0, 5},
     {1, 1, 0, 1},
     4,
     3},
    /* GWE_Backend_1 wins 192.0.2.7 among the four (pinned below) */
    {"weight 0 never picked", L("192.0.2.7"), GWE4, {1, 1, 0, 1}, ALL4, 4, 1},
    {"unusable member never picked",
     L("192.0.2.7"),
     GWE4,
     ALL4,
     {1, 1, 0, 1},
     4,
     1},
    {"weight makes the winner: a huge weight wins",
     L("192.0.2.7"),
     GWE4,
     {1, 1, 1, 4000000000u},
     ALL4,
     4,
     3},
    {"largest weights compare exactly",
     L("192.0.2.7"),
     GWE4,
     {4294967295u, 4294967295u, 4294967295u, 4294967295u},
     ALL4,
     4,
     2},
    {"duplicate routes and weights: the lower index",
     L("192.0.2.7"),
     {L("n1"), L("n1")},
     {3, 3},
     {1, 1},
     2,
     0},
    {"duplicate routes: the higher weight",
     L("192.0.2.7"),
     {L("n1"), L("n1")},
     {1, 2},
     {1, 1},
     2,
     1},
    {"empty route is hashed like any text",
     L("192.0.2.7"),
     {L(""), L("")},
     {1, 1},
     {1, 1},
     2,
     0},
    {"pinned: IPv4, equal weights", L("192.0.2.7"), GWE4, ALL4, ALL4, 4, 2},
    {"pinned: another IPv4", L("203.0.113.200"), GWE4, ALL4, ALL4, 4, 0},
    {"pinned: weights 1,1,2,4",
     L("203.0.113.200"),
     GWE4,
     {1, 1, 2, 4},
     ALL4,
     4,
     3},
    {"IPv6 text hashed like any text", L("2001:db8::1"), GWE4, ALL4, ALL4, 4,
     1},
    {"another spelling of an IPv6 address is another text", L("2001:0db8::1"),
     GWE4, ALL4, ALL4, 4, 2},
    {"IPv6 with a zone is text too", L("fe80::1%eth0"), GWE4, ALL4, ALL4, 4,
     2},
    {"empty address is hashed like any text", L(""), GWE4, ALL4, ALL4, 4, 2},
    {"only the first n members compete (the third would win)",
     L("192.0.2.7"),
     {L("GWE_Frontend_1"), L("GWE_Frontend_2"), L("GWE_Backend_1")},
     ALL4,
     ALL4,
     2,
     1},
};

/* Routes and address after (or, with GWE_GUARD_FRONT, before) an
 * unreadable page. */
START_TEST(rv_row_test)
{
    const rv_row *r = &rows[_i];
    gwe_slice routes[MAXM];
    const char *a;
    size_t i;
    int idx;
    guard g;

    guard_init(&g);
    for (i = 0; i < r->n; i++) {
        routes[i].ptr = guard_dup(&g, r->routes[i].p, r->routes[i].n);
        routes[i].len = r->routes[i].n;
    }
    a = guard_dup(&g, r->addr.p, r->addr.n);
    idx =
        gwe_rendezvous_pick(a, r->addr.n, routes, r->weights, r->usable, r->n);
    ck_assert_msg(idx == r->want, "%s: picked %d, want %d", r->name, idx,
                  r->want);
    guard_release(&g);
}
END_TEST

/* ---- pinned hash values: changing the hash moves every client --------- */

static const struct {
    const char *name;
    lit route;
    lit addr;
    uint64_t want;
} hash_rows[] = {
    {"route and IPv4", L("GWE_Frontend_1"), L("192.0.2.7"),
     0x3bf5a9222b7ef9efu},
    {"another route, same address", L("GWE_Frontend_2"), L("192.0.2.7"),
     0xc7287e4ad467d57au},
    {"route and IPv6", L("GWE_Frontend_1"), L("2001:db8::1"),
     0xda5b4dc74053ca4eu},
    {"IPv6 spelled with a leading zero", L("GWE_Frontend_1"),
     L("2001:0db8::1"), 0xbc774453384ce96au},
    {"empty route and address", L(""), L(""), 0x9f8c483a1cd5b002u},
    {"the seeds keep route and address apart: ab|", L("ab"), L(""),
     0x9532d86004c8dbc4u},
    {"the seeds keep route and address apart: |ab", L(""), L("ab"),
     0x7528105e62fc3400u},
    {"one byte each", L("a"), L("b"), 0xdf935b24571ff4efu},
    {"exactly one 8-byte group each", L("12345678"), L("12345678"),
     0x37cd380d198c79cdu},
    {"groups and a tail: 17-byte route, 39-byte IPv6", L("abcdefghijklmnopq"),
     L("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"), 0x8b2a5648ad383b38u},
};

START_TEST(hash_row_test)
{
    guard g;
    const char *r, *a;
    uint64_t h;

    guard_init(&g);
    r = guard_dup(&g, hash_rows[_i].route.p, hash_rows[_i].route.n);
    a = guard_dup(&g, hash_rows[_i].addr.p, hash_rows[_i].addr.n);
    h = gwe_rendezvous_hash(r, hash_rows[_i].route.n, a, hash_rows[_i].addr.n);
    ck_assert_msg(h == hash_rows[_i].want, "%s: hash %016llx, want %016llx",
                  hash_rows[_i].name, (unsigned long long)h,
                  (unsigned long long)hash_rows[_i].want);
    guard_release(&g);
}
END_TEST

/* ---- gwe_rendezvous_key_of: the route half kept while the route stays -- */

/*
 * A 64-byte field like httpd's route, guarded at both ends (the key reads
 * whole words of it, never past its size).  Each row: the field as first
 * seen (`before`, then the bytes after its NUL as `tail`), then as seen
 * next; `hit`: the second call must answer from the key (the test plants
 * a marker hash to tell).  Either way the answer is the hash of the
 * string the field holds then.
 */
typedef struct key_row {
    const char *name;
    lit before, after; /* the field's bytes from its start, NULs included */
    int hit;
} key_row;

static const key_row key_rows[] = {
    {"unchanged route: one word compared, no hash", L("node1\0"), L("node1\0"),
     1},
    {"unchanged two-word route", L("GWE_Frontend_2\0"), L("GWE_Frontend_2\0"),
     1},
    {"a byte changed in the second word, same length", L("GWE_Frontend_2\0"),
     L("GWE_Frontend_3\0"), 0},
    {"a byte changed in the first word", L("GWE_Frontend_2\0"),
     L("XWE_Frontend_2\0"), 0},
    {"shortened: the old bytes stay after the new NUL", L("GWE_Frontend_2\0"),
     L("GWE\0Frontend_2\0"), 0},
    {"shortened to a word's end", L("GWE_Frontend_2\0"),
     L("GWE_Fron\0end_2\0"), 0},
    {"lengthened into the next word", L("node1\0"), L("node1_and_more\0"), 0},
    {"lengthened within the word", L("node1\0\0"), L("node12\0"), 0},
    {"emptied", L("node1\0"), L("\0ode1\0"), 0},
    {"bytes after the NUL in its word: a rehash, same string", L("node1\0ab"),
     L("node1\0xy"), 0},
    {"bytes after the NUL past its word: not read", L("node1\0\0\0abc"),
     L("node1\0\0\0xyz"), 1},
    {"a route that fills the field, unchanged",
     L("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
     L("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"), 1},
    {"a route that fills the field, last byte changed",
     L("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
     L("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeX"), 0},
};

#define KEY_FIELD 64
#define KEY_MARK UINT64_C(0x6d61726b65646d6b)

static size_t field_strlen(const char *f)
{
    size_t n = 0;

    while (n < KEY_FIELD && f[n])
        n++;
    return n;
}

START_TEST(key_row_test)
{
    const key_row *r = &key_rows[_i];
    char init[KEY_FIELD];
    gwe_rendezvous_key k;
    guard g;
    char *f;
    uint64_t h;
    size_t n;

    guard_init(&g);
    memset(init, 'G', sizeof init); /* what was there before: garbage */
    f = (char *)guard_dup(&g, init, KEY_FIELD);
    memset(&k, 0, sizeof k);
    memcpy(f, r->before.p, r->before.n);
    n = field_strlen(f);
    h = gwe_rendezvous_key_of(&k, f, KEY_FIELD);
    ck_assert_msg(h == gwe_rendezvous_route_hash(f, n) && k.len == n,
                  "%s: first call", r->name);
    k.hash = KEY_MARK; /* a hit answers this */
    memcpy(f, r->after.p, r->after.n);
    n = field_strlen(f);
    h = gwe_rendezvous_key_of(&k, f, KEY_FIELD);
    if (r->hit)
        ck_assert_msg(h == KEY_MARK && k.len == n, "%s: not a hit", r->name);
    else
        ck_assert_msg(h == gwe_rendezvous_route_hash(f, n) && k.len == n &&
                          h == gwe_rendezvous_key_of(&k, f, KEY_FIELD),
                      "%s: the old hash came back", r->name);
    guard_release(&g);
}
END_TEST

/* A key never seen is empty, even when the field's first word is all zero
 * bytes (the zeroed copy in the key would match it). */
START_TEST(empty_key_is_a_miss)
{
    char zero[KEY_FIELD] = {0};
    gwe_rendezvous_key k;

    memset(&k, 0, sizeof k);
    k.hash = KEY_MARK;
    ck_assert(gwe_rendezvous_key_of(&k, zero, sizeof zero) ==
              gwe_rendezvous_route_hash("", 0));
    ck_assert_uint_eq(k.len, 0);
}
END_TEST

/* ---- generated addresses ----------------------------------------------- */

#define NV4 20000
#define NV6 10000
#define NADDR (NV4 + NV6)

/* Address i of the sample, as text: neighbouring IPv4 addresses of one
 * network (the hardest case for a hash: they differ in their last bytes
 * only), then IPv6 addresses of one /32.  Returns its length. */
static size_t sample_addr(int i, char *buf, size_t cap)
{
    if (i < NV4)
        return (size_t)snprintf(buf, cap, "10.%d.%d.%d", (i >> 16) & 255,
                                (i >> 8) & 255, i & 255);
    i -= NV4;
    return (size_t)snprintf(buf, cap, "2001:db8:%x:%x::%x", i >> 12,
                            (i >> 6) & 63, i & 63);
}

static const gwe_slice members5[] = {
    {"GWE_Frontend_1", 14}, {"GWE_Frontend_2", 14}, {"GWE_Backend_1", 13},
    {"GWE_Backend_2", 13},  {"GWE_Frontend_3", 14},
};

/* ---- one member's score: what the module's walk over the members uses -- */

/* Pinned draws (-log2(u) in 32.32): the lowest draw of equal weights wins,
 * so these agree with the pinned picks above (GWE_Backend_1 wins
 * 192.0.2.7, GWE_Frontend_2 wins 2001:db8::1).  The float value of
 * -log2(u) * 2^32 is within 4 units of each. */
static const struct {
    const char *name;
    lit route;
    lit addr;
    uint64_t draw;
} draw_rows[] = {
    {"GWE_Frontend_1 at 192.0.2.7", L("GWE_Frontend_1"), L("192.0.2.7"),
     0x000000021815aedeu},
    {"GWE_Frontend_2 at 192.0.2.7", L("GWE_Frontend_2"), L("192.0.2.7"),
     0x000000005cbb0bc8u},
    {"GWE_Backend_1 at 192.0.2.7 (the lowest of the four)", L("GWE_Backend_1"),
     L("192.0.2.7"), 0x000000002ec44c42u},
    {"GWE_Backend_2 at 192.0.2.7", L("GWE_Backend_2"), L("192.0.2.7"),
     0x000000014677c405u},
    {"GWE_Frontend_2 at 2001:db8::1 (the lowest of the four)",
     L("GWE_Frontend_2"), L("2001:db8::1"), 0x000000000846c86bu},
    {"GWE_Backend_1 at the empty address", L("GWE_Backend_1"), L(""),
     0x0000000016bc61c6u},
};

START_TEST(draw_row_test)
{
    guard g;
    const char *r, *a;
    gwe_rendezvous_score sc;

    guard_init(&g);
    r = guard_dup(&g, draw_rows[_i].route.p, draw_rows[_i].route.n);
    a = guard_dup(&g, draw_rows[_i].addr.p, draw_rows[_i].addr.n);
    sc = gwe_rendezvous_score_of(r, draw_rows[_i].route.n, a,
                                 draw_rows[_i].addr.n, 7);
    ck_assert_msg(gwe_rendezvous_draw(&sc) == draw_rows[_i].draw,
                  "%s: draw %016llx, want %016llx", draw_rows[_i].name,
                  (unsigned long long)sc.draw,
                  (unsigned long long)draw_rows[_i].draw);
    ck_assert_msg(sc.weight == 7, "%s: the weight is kept",
                  draw_rows[_i].name);
    guard_release(&g);
}
END_TEST

typedef struct beats_row {
    const char *name;
    uint64_t a_draw, a_weight;
    const char *a_route;
    uint64_t b_draw, b_weight;
    const char *b_route;
    int want;
} beats_row;

static const beats_row beats_rows[] = {
    {"lower draw, same weight, beats", 10, 1, "b", 20, 1, "a", 1},
    {"higher draw, same weight, loses", 20, 1, "a", 10, 1, "b", 0},
    {"double weight beats a draw less than double", 30, 2, "z", 16, 1, "a", 1},
    {"double weight loses to a draw less than half", 33, 2, "a", 16, 1, "z",
     0},
    {"equal score: the route that sorts first", 32, 2, "a", 16, 1, "b", 1},
    {"equal score: the route that sorts later loses", 32, 2, "b", 16, 1, "a",
     0},
    {"equal score: the shorter of a prefix pair", 16, 1, "GWE", 16, 1, "GWE_1",
     1},
    {"equal score and route: the one seen first stays", 16, 1, "a", 16, 1, "a",
     0},
    {"weight 0 never beats", 1, 0, "a", 1u << 30, 1, "b", 0},
    {"weight 0 is beaten by any weight", 1u << 30, 1, "b", 1, 0, "a", 1},
    {"two weights 0: no winner", 1, 0, "a", 2, 0, "b", 0},
    {"largest values: a draw one unit higher loses", ((uint64_t)64 << 32) - 1,
     4294967295u, "b", ((uint64_t)64 << 32) - 2, 4294967295u, "a", 0},
    {"largest values: a draw one unit lower wins", ((uint64_t)64 << 32) - 2,
     4294967295u, "b", ((uint64_t)64 << 32) - 1, 4294967295u, "a", 1},
};

START_TEST(beats_row_test)
{
    const beats_row *r = &beats_rows[_i];
    gwe_rendezvous_score a = {r->a_draw, r->a_weight, 0};
    gwe_rendezvous_score b = {r->b_draw, r->b_weight, 0};
    gwe_slice ra = {r->a_route, strlen(r->a_route)};
    gwe_slice rb = {r->b_route, strlen(r->b_route)};

    ck_assert_msg(gwe_rendezvous_beats(&a, &ra, &b, &rb) == r->want,
                  "%s: want %d", r->name, r->want);
}
END_TEST

/* Between equal weights, beats compares hashes where the draws are far
 * apart: over pairs of hashes at every scale and gap, near ties included,
 * the answer is the one the draws alone give. */
START_TEST(hash_order_is_draw_order)
{
    static const gwe_slice ra = {"a", 1}, rb = {"b", 1};
    uint64_t x = 0x9e3779b97f4a7c15u;
    int i, shift, gap;

    for (i = 0; i < 2000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        for (shift = 0; shift < 64; shift += 9) {
            for (gap = 0; gap < 40; gap += 3) {
                uint64_t h = (x >> shift) | 1, d = (h >> gap) | 1;
                uint64_t k = h + d < h ? h - d : h + d;
                gwe_rendezvous_score a = {0, 3, h}, b = {0, 3, k | 1};
                gwe_rendezvous_score da = {0, 3, h}, db = {0, 3, k | 1};

                gwe_rendezvous_draw(&da);
                gwe_rendezvous_draw(&db);
                da.hash = db.hash = 0; /* draws only */
                ck_assert_msg(
                    gwe_rendezvous_beats(&a, &ra, &b, &rb) ==
                            gwe_rendezvous_beats(&da, &ra, &db, &rb) &&
                        gwe_rendezvous_beats(&b, &rb, &a, &ra) ==
                            gwe_rendezvous_beats(&db, &rb, &da, &ra),
                    "hashes %016llx %016llx", (unsigned long long)h,
                    (unsigned long long)(k | 1));
            }
        }
    }
}
END_TEST

/* Walking the members one by one with score_of and beats, in any order,
 * gives the pick of gwe_rendezvous_pick (the module walks that way). */
START_TEST(walk_equals_pick)
{
    static const unsigned w[4] = {1, 1, 2, 4};
    static const int order[2][4] = {{0, 1, 2, 3}, {3, 1, 0, 2}};
    char buf[64];
    int i, o;

    for (i = 0; i < 2000; i++) {
        size_t len = sample_addr(i * 13, buf, sizeof buf);
        int want = gwe_rendezvous_pick(buf, len, members5, w, NULL, 4);

        for (o = 0; o < 2; o++) {
            gwe_rendezvous_score best = {0, 0, 0}, sc;
            int k, m, got = -1;

            for (k = 0; k < 4; k++) {
                m = order[o][k];
                sc = gwe_rendezvous_score_of(members5[m].ptr, members5[m].len,
                                             buf, len, w[m]);
                if (got < 0 || gwe_rendezvous_beats(&sc, &members5[m], &best,
                                                    &members5[got])) {
                    got = m;
                    best = sc;
                }
            }
            ck_assert_msg(got == want, "%s: walk %d picked %d, pick %d", buf,
                          o, got, want);
        }
    }
}
END_TEST

/* The pick for every sample address, as an index into routes (-1: none). */
static void pick_all(const gwe_slice *routes, const unsigned *weights,
                     const unsigned char *usable, size_t n, int *out)
{
    char buf[64];
    int i;

    for (i = 0; i < NADDR; i++) {
        size_t len = sample_addr(i, buf, sizeof buf);

        out[i] = gwe_rendezvous_pick(buf, len, routes, weights, usable, n);
    }
}

static int *picks(void)
{
    int *p = malloc(NADDR * sizeof *p);

    ck_assert_ptr_nonnull(p);
    return p;
}

/* What a property measured, on stderr, once per run of the suite. */
static void report(const char *fmt, ...)
{
    va_list ap;

    if (getenv("GWE_GUARD_FRONT") != NULL)
        return;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

/* Two weight sets: equal, and 1,1,2,4. */
static const unsigned weight_sets[2][5] = {{1, 1, 1, 1, 1}, {1, 1, 2, 4, 1}};

/*
 * Removing member k of 4 (taking it out of the array, so the others shift
 * down): an address moves only if it was on k, every address on k moves,
 * and at most k's weight share + 2% move (1/4 + 2% with equal weights).
 */
START_TEST(removal_moves_only_its_addresses)
{
    const unsigned *w = weight_sets[_i];
    int *before = picks(), *after = picks();
    double worst = 0;
    size_t k;
    int i;

    pick_all(members5, w, NULL, 4, before);
    for (k = 0; k < 4; k++) {
        gwe_slice routes[3];
        unsigned wk[3];
        size_t j, m = 0;
        int moved = 0;
        double frac, share;

        for (j = 0; j < 4; j++) {
            if (j != k) {
                routes[m] = members5[j];
                wk[m++] = w[j];
            }
        }
        pick_all(routes, wk, NULL, 3, after);
        for (i = 0; i < NADDR; i++) {
            ck_assert_int_ge(after[i], 0);
            if (before[i] == (int)k) {
                moved++;
                continue;
            }
            /* same member: the same route */
            ck_assert_msg(routes[after[i]].ptr == members5[before[i]].ptr,
                          "address %d moved off a member that stayed", i);
        }
        frac = (double)moved / NADDR;
        share = (double)w[k] / (w[0] + w[1] + w[2] + w[3]);
        ck_assert_msg(frac <= share + 0.02,
                      "removing %s moved %.4f of all addresses, share %.4f",
                      members5[k].ptr, frac, share);
        report("rendezvous: weights %u,%u,%u,%u: removing %s moved %.4f of "
               "%d addresses (bound %.4f)\n",
               w[0], w[1], w[2], w[3], members5[k].ptr, frac, NADDR,
               share + 0.02);
        if (frac > worst)
            worst = frac;
    }
    free(before);
    free(after);
}
END_TEST

/*
 * Adding a fifth member (weight 1): addresses move only to it, and at most
 * its weight share + 2% of them (1/5 + 2% with equal weights).
 */
START_TEST(addition_moves_only_to_the_newcomer)
{
    const unsigned *w = weight_sets[_i];
    int *before = picks(), *after = picks();
    double frac, share = 1.0 / (w[0] + w[1] + w[2] + w[3] + w[4]);
    int i, moved = 0;

    pick_all(members5, w, NULL, 4, before);
    pick_all(members5, w, NULL, 5, after);
    for (i = 0; i < NADDR; i++) {
        if (after[i] == before[i])
            continue;
        ck_assert_msg(after[i] == 4, "address %d moved to an old member", i);
        moved++;
    }
    frac = (double)moved / NADDR;
    ck_assert_msg(frac <= share + 0.02, "adding a member moved %.4f", frac);
    report("rendezvous: weights %u,%u,%u,%u + %u: adding %s moved %.4f of "
           "%d addresses (bound %.4f)\n",
           w[0], w[1], w[2], w[3], w[4], members5[4].ptr, frac, NADDR,
           share + 0.02);
    free(before);
    free(after);
}
END_TEST

/* Each member's share of each family, and of all, within +-10% of its
 * weight share (relative). */
START_TEST(load_follows_the_weights)
{
    const unsigned *w = weight_sets[_i];
    int *p = picks();
    double sum = w[0] + w[1] + w[2] + w[3];
    int count[3][4] = {{0}};
    static const char *const family[3] = {"IPv4", "IPv6", "all"};
    static const int size[3] = {NV4, NV6, NADDR};
    int f, i, k;

    pick_all(members5, w, NULL, 4, p);
    for (i = 0; i < NADDR; i++) {
        ck_assert_int_ge(p[i], 0);
        count[i < NV4 ? 0 : 1][p[i]]++;
        count[2][p[i]]++;
    }
    for (f = 0; f < 3; f++) {
        report("rendezvous: weights %u,%u,%u,%u: %s shares", w[0], w[1], w[2],
               w[3], family[f]);
        for (k = 0; k < 4; k++) {
            double share = (double)count[f][k] / size[f];
            double want = w[k] / sum;

            report(" %.4f", share);
            ck_assert_msg(share >= want * 0.9 && share <= want * 1.1,
                          "%s: %s has %.4f of the load, weight share %.4f",
                          family[f], members5[k].ptr, share, want);
        }
        report(" (of %d; weight shares %.4f %.4f %.4f %.4f)\n", size[f],
               w[0] / sum, w[1] / sum, w[2] / sum, w[3] / sum);
    }
    free(p);
}
END_TEST

/* Over the whole sample: a member of weight 0 or not usable never wins,
 * and a single usable member wins every address. */
START_TEST(excluded_members_never_win)
{
    static const unsigned w0[4] = {1, 0, 1, 1};
    static const unsigned char off[4] = {1, 1, 0, 1};
    static const unsigned char one[4] = {0, 0, 0, 1};
    int *p = picks();
    int i;

    pick_all(members5, w0, NULL, 4, p);
    for (i = 0; i < NADDR; i++)
        ck_assert_msg(p[i] >= 0 && p[i] != 1, "weight 0 won address %d", i);
    pick_all(members5, NULL, off, 4, p);
    for (i = 0; i < NADDR; i++)
        ck_assert_msg(p[i] >= 0 && p[i] != 2, "unusable won address %d", i);
    pick_all(members5, NULL, one, 4, p);
    for (i = 0; i < NADDR; i++)
        ck_assert_msg(p[i] == 3, "single usable lost address %d", i);
    free(p);
}
END_TEST

/* All 24 orders of 4 weighted members pick the same route, for 500
 * addresses of each family. */
START_TEST(order_of_members_does_not_change_the_pick)
{
    static const unsigned w[4] = {1, 1, 2, 4};
    char buf[64];
    int i, perm;

    for (i = 0; i < 1000; i++) {
        size_t len = sample_addr(i < 500 ? i * 37 : NV4 + (i - 500) * 19, buf,
                                 sizeof buf);
        const char *want = NULL;

        for (perm = 0; perm < 24; perm++) {
            gwe_slice routes[4];
            unsigned wp[4];
            int left[4] = {0, 1, 2, 3}, nleft = 4, code = perm, j, idx;

            /* perm as a factorial-base number: the order of the members */
            for (j = 0; j < 4; j++) {
                int pick = code % nleft, m = left[pick];

                code /= nleft;
                left[pick] = left[--nleft];
                routes[j] = members5[m];
                wp[j] = w[m];
            }
            idx = gwe_rendezvous_pick(buf, len, routes, wp, NULL, 4);
            ck_assert_int_ge(idx, 0);
            if (want == NULL)
                want = routes[idx].ptr;
            ck_assert_msg(routes[idx].ptr == want,
                          "%s: order %d picked %s, not %s", buf, perm,
                          routes[idx].ptr, want);
        }
    }
}
END_TEST

/* The same address text reaches the same member wherever its bytes are:
 * a guarded copy, a stack copy followed by other bytes, a second call. */
START_TEST(same_address_same_member)
{
    static const char *const addrs[] = {"192.0.2.7", "2001:db8::1", "::1",
                                        "198.51.100.23"};
    size_t i;

    for (i = 0; i < NELEMS(addrs); i++) {
        char stack[64];
        size_t len = strlen(addrs[i]);
        guard g;
        const char *a;
        int first, again;

        guard_init(&g);
        a = guard_dup(&g, addrs[i], len);
        memcpy(stack, addrs[i], len);
        strcpy(stack + len, "0, 10.1.1.1");
        first = gwe_rendezvous_pick(a, len, members5, NULL, NULL, 4);
        again = gwe_rendezvous_pick(stack, len, members5, NULL, NULL, 4);
        ck_assert_int_ge(first, 0);
        ck_assert_int_eq(first, again);
        ck_assert_int_eq(first,
                         gwe_rendezvous_pick(a, len, members5, NULL, NULL, 4));
        guard_release(&g);
    }
}
END_TEST

Suite *suite_rendezvous(void)
{
    Suite *s = suite_create("rendezvous");
    TCase *tc = tcase_create("gwe_rendezvous_pick rows");
    TCase *th = tcase_create("gwe_rendezvous_hash pinned");
    TCase *tp = tcase_create("gwe_rendezvous_pick properties");

    tcase_add_loop_test(tc, rv_row_test, 0, (int)NELEMS(rows));
    tcase_add_test(tc, same_address_same_member);
    tcase_add_loop_test(th, hash_row_test, 0, (int)NELEMS(hash_rows));
    tcase_add_loop_test(th, draw_row_test, 0, (int)NELEMS(draw_rows));
    tcase_add_loop_test(tc, key_row_test, 0, (int)NELEMS(key_rows));
    tcase_add_test(tc, empty_key_is_a_miss);
    tcase_add_loop_test(tc, beats_row_test, 0, (int)NELEMS(beats_rows));
    /* 30,000 addresses, several times: slower under the sanitizers */
    tcase_set_timeout(tp, 60);
    tcase_add_loop_test(tp, removal_moves_only_its_addresses, 0, 2);
    tcase_add_loop_test(tp, addition_moves_only_to_the_newcomer, 0, 2);
    tcase_add_loop_test(tp, load_follows_the_weights, 0, 2);
    tcase_add_test(tp, excluded_members_never_win);
    tcase_add_test(tp, walk_equals_pick);
    tcase_add_test(tp, hash_order_is_draw_order);
    tcase_add_test(tp, order_of_members_does_not_change_the_pick);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, th);
    suite_add_tcase(s, tp);
    return s;
}
