/*
 * test_signed.c - the signed route cookie value (issue 13): gwe_signed_build,
 * gwe_signed_parse, gwe_signed_verify, gwe_signed_route_index and
 * gwe_signed_needs_refresh, with testutil's fake MAC.  Every value handed
 * to sticky/ sits right before (or, with GWE_GUARD_FRONT, right after) an
 * unreadable page.
 */
#include <stdio.h>
#include <stdlib.h>
#include "testutil.h"

/* A fixed "now" (December 2025) that rows count from. */
#define NOW 1765000000L
#define HOUR 3600L
#define DAY 86400L

/* Key ids of the fake keys: key byte 'A' has id "Aa", 'B' "Bb", ... */
static void ids_of(const char *keys, char *ids)
{
    size_t i;

    for (i = 0; keys[i]; i++) {
        ids[2 * i] = keys[i];
        ids[2 * i + 1] = (char)(keys[i] - 'A' + 'a');
    }
}

/* A signed value for route with the fake key k, into out (NUL-terminated).
 * Returns its length. */
static size_t sign(char *out, size_t cap, char k, long issued, long refreshed,
                   const char *route, size_t route_len, const char *cookie,
                   const char *balancer)
{
    char keys[2] = {k, '\0'};
    gwe_signed_fields f;
    gwe_slice name = {cookie, strlen(cookie)};
    gwe_slice bal = {balancer, strlen(balancer)};
    size_t n;

    f.key_index = 0;
    ids_of(keys, f.key_id);
    f.issued = issued;
    f.refreshed = refreshed;
    f.route.ptr = route;
    f.route.len = route_len;
    n = gwe_signed_build(out, cap, &f, fake_mac, keys, name, bal);
    ck_assert_uint_gt(n, 0);
    ck_assert_uint_lt(n, cap);
    return n;
}

/* A verifier of ROUTEID on balancer://b with the fake keys `keys` (their
 * ids written to ids), judging legacy values against routes. */
static void verifier(gwe_verify_conf *c, const char *keys, char *ids,
                     const gwe_slice *routes, size_t nroutes)
{
    ids_of(keys, ids);
    memset(c, 0, sizeof *c);
    c->mac = fake_mac;
    c->mac_ctx = (void *)keys;
    c->key_ids = ids;
    c->nkeys = strlen(keys);
    c->cookie_name.ptr = "ROUTEID";
    c->cookie_name.len = 7;
    c->balancer.ptr = "balancer://b";
    c->balancer.len = 12;
    c->separator = '.';
    c->routes = routes;
    c->nroutes = nroutes;
}

/* ---- gwe_signed_verify ---------------------------------------------------
 */

enum mutation {
    MUT_NONE,
    MUT_FLIP_ROUTE,  /* first route byte ^ 1 */
    MUT_CUT_LAST,    /* the last character dropped */
    MUT_CUT_MAC,     /* only the part before the MAC's '.' */
    MUT_APPEND,      /* one character more */
    MUT_FLIP_MAC,    /* first MAC character changed */
    MUT_MAC_PADDING, /* last MAC character: same bits, padding set */
    MUT_FLIP_TIME,   /* last character of refreshed changed */
    MUT_TAG,         /* "g2" */
    MUT_KEY_ID,      /* key id "Zz" */
    MUT_NON_ASCII,   /* first route byte 0xC3 */
    MUT_PCT00_ROUTE, /* the route slot replaced by "%00" */
    MUT_BAD_ESCAPE   /* the route slot replaced by "%0g" */
};

typedef struct verify_row {
    const char *name;
    lit raw;              /* .p set: verify exactly this, nothing is built */
    char key;             /* the signer's fake key; 0: 'A' */
    long issued;          /* relative to NOW */
    long refreshed;       /* relative to NOW */
    lit route;            /* NOLIT: "n1" */
    const char *cookie;   /* name signed for; NULL: ROUTEID */
    const char *balancer; /* NULL: balancer://b */
    enum mutation mut;
    const char *keys; /* the verifier's keys, first signs; NULL: "A" */
    const char *ids;  /* their ids; NULL: derived */
    long maxidle, maxlife;
    enum gwe_cookie_status want;
    int want_key; /* VALID and EXPIRED: the verifying key's index */
} verify_row;

static const verify_row verify_rows[] = {
    {.name = "round trip", .want = GWE_COOKIE_VALID},
    {.name = "round trip with limits",
     .issued = -HOUR,
     .refreshed = -60,
     .maxidle = 1800,
     .maxlife = DAY,
     .want = GWE_COOKIE_VALID},
    {.name = "flipped route byte is forged",
     .mut = MUT_FLIP_ROUTE,
     .want = GWE_COOKIE_FORGED},
    {.name = "cut value is forged",
     .mut = MUT_CUT_LAST,
     .want = GWE_COOKIE_FORGED},
    {.name = "value with a byte appended is forged",
     .mut = MUT_APPEND,
     .want = GWE_COOKIE_FORGED},
    {.name = "signed part without its MAC is only legacy-shaped",
     .mut = MUT_CUT_MAC,
     .want = GWE_COOKIE_LEGACY},
    {.name = "flipped MAC character is forged",
     .mut = MUT_FLIP_MAC,
     .want = GWE_COOKIE_FORGED},
    {.name = "MAC with its padding bits set is forged",
     .mut = MUT_MAC_PADDING,
     .want = GWE_COOKIE_FORGED},
    {.name = "changed refresh time is forged",
     .mut = MUT_FLIP_TIME,
     .want = GWE_COOKIE_FORGED},
    {.name = "other version tag is forged",
     .mut = MUT_TAG,
     .want = GWE_COOKIE_FORGED},
    {.name = "unknown key id is forged",
     .mut = MUT_KEY_ID,
     .want = GWE_COOKIE_FORGED},
    {.name = "signed by a key not configured is forged",
     .key = 'C',
     .keys = "AB",
     .want = GWE_COOKIE_FORGED},
    {.name = "key id of a configured key but another key is forged",
     .key = 'B',
     .keys = "A",
     .ids = "Bb",
     .want = GWE_COOKIE_FORGED},
    {.name = "no key configured: forged",
     .keys = "",
     .want = GWE_COOKIE_FORGED},
    {.name = "MAC of another cookie name is forged",
     .cookie = "OTHER",
     .want = GWE_COOKIE_FORGED},
    {.name = "MAC of another balancer is forged",
     .balancer = "balancer://c",
     .want = GWE_COOKIE_FORGED},
    {.name = "cookie name and balancer name do not run together",
     .cookie = "ROUTEI",
     .balancer = "Dbalancer://b",
     .want = GWE_COOKIE_FORGED},
    {.name = "dated more than 24 h in the future is forged",
     .issued = DAY + 1,
     .refreshed = DAY + 1,
     .want = GWE_COOKIE_FORGED},
    {.name = "refreshed more than 24 h in the future is forged",
     .refreshed = DAY + 1,
     .want = GWE_COOKIE_FORGED},
    {.name = "23 h in the future is valid",
     .issued = 23 * HOUR,
     .refreshed = 23 * HOUR,
     .maxidle = 1800,
     .maxlife = DAY,
     .want = GWE_COOKIE_VALID},
    {.name = "exactly 24 h in the future is valid",
     .issued = DAY,
     .refreshed = DAY,
     .want = GWE_COOKIE_VALID},
    {.name = "forged beats expired: future and past maxlife",
     .issued = -10 * DAY,
     .refreshed = DAY + 1,
     .maxlife = DAY,
     .want = GWE_COOKIE_FORGED},
    {.name = "expired by maxidle",
     .issued = -1801,
     .refreshed = -1801,
     .maxidle = 1800,
     .want = GWE_COOKIE_EXPIRED},
    {.name = "exactly at maxidle is valid",
     .issued = -1800,
     .refreshed = -1800,
     .maxidle = 1800,
     .want = GWE_COOKIE_VALID},
    {.name = "expired by maxlife",
     .issued = -DAY - 1,
     .refreshed = -10,
     .maxidle = 1800,
     .maxlife = DAY,
     .want = GWE_COOKIE_EXPIRED},
    {.name = "exactly at maxlife is valid",
     .issued = -DAY,
     .refreshed = -10,
     .maxidle = 1800,
     .maxlife = DAY,
     .want = GWE_COOKIE_VALID},
    {.name = "expired by maxlife from another key is still expired",
     .key = 'B',
     .keys = "AB",
     .issued = -DAY - 1,
     .refreshed = 0,
     .maxlife = DAY,
     .want = GWE_COOKIE_EXPIRED,
     .want_key = 1},
    {.name = "without maxidle and maxlife an old value stays valid",
     .issued = -NOW,
     .refreshed = -NOW,
     .want = GWE_COOKIE_VALID},
    {.name = "second key verifies (rotation)",
     .key = 'B',
     .keys = "AB",
     .want = GWE_COOKIE_VALID,
     .want_key = 1},
    {.name = "moved keys still verify (rotation step b)",
     .key = 'A',
     .keys = "BA",
     .want = GWE_COOKIE_VALID,
     .want_key = 1},
    {.name = "two keys with one id: both are tried",
     .key = 'B',
     .keys = "AB",
     .ids = "BbBb",
     .want = GWE_COOKIE_VALID,
     .want_key = 1},
    {.name = "route with a NUL byte round-trips as %00",
     .route = L("a\0b"),
     .want = GWE_COOKIE_VALID},
    {.name = "non-ASCII route round-trips percent-encoded",
     .route = L("caf\xc3\xa9"),
     .want = GWE_COOKIE_VALID},
    {.name = "route of separators and dots round-trips",
     .route = L("..~."),
     .want = GWE_COOKIE_VALID},
    {.name = "route with ; , \" \\ and % round-trips",
     .route = L("a;b,c\"d\\e%f"),
     .want = GWE_COOKIE_VALID},
    {.name = "non-ASCII byte in the value is forged",
     .mut = MUT_NON_ASCII,
     .want = GWE_COOKIE_FORGED},
    {.name = "'%00' slipped into the route slot is forged",
     .mut = MUT_PCT00_ROUTE,
     .want = GWE_COOKIE_FORGED},
    {.name = "malformed escape in the route slot is forged",
     .mut = MUT_BAD_ESCAPE,
     .want = GWE_COOKIE_FORGED},
    {.name = "legacy .route", .raw = L(".n1"), .want = GWE_COOKIE_LEGACY},
    {.name = "legacy session.route",
     .raw = L("4f2a9c.n1"),
     .want = GWE_COOKIE_LEGACY},
    {.name = "legacy value percent-encoded",
     .raw = L("x%2En%31"),
     .want = GWE_COOKIE_LEGACY},
    {.name = "unsigned value naming no member is forged",
     .raw = L(".n9"),
     .want = GWE_COOKIE_FORGED},
    {.name = "route without its separator is forged",
     .raw = L("n1"),
     .want = GWE_COOKIE_FORGED},
    {.name = "legacy value with a malformed escape is forged",
     .raw = L("%zz.n1"),
     .want = GWE_COOKIE_FORGED},
    {.name = "'%00' alone is forged",
     .raw = L("%00"),
     .want = GWE_COOKIE_FORGED},
    {.name = "non-ASCII garbage is forged",
     .raw = L("\xff\xfe\x80"),
     .want = GWE_COOKIE_FORGED},
    {.name = "empty value is absent", .raw = L(""), .want = GWE_COOKIE_ABSENT},
};

static size_t mutate(char *v, size_t n, enum mutation m)
{
    char *mac = v + n - GWE_SIGNED_MAC_LEN;
    char *route = v + GWE_SIGNED_PREFIX_LEN;

    switch (m) {
    case MUT_FLIP_ROUTE:
        *route ^= 1;
        break;
    case MUT_CUT_LAST:
        n--;
        break;
    case MUT_CUT_MAC:
        n -= GWE_SIGNED_MAC_LEN + 1;
        break;
    case MUT_APPEND:
        v[n++] = 'A';
        break;
    case MUT_FLIP_MAC:
        mac[0] = mac[0] == 'A' ? 'B' : 'A';
        break;
    case MUT_MAC_PADDING:
        /* the last character carries 2 bits and 4 zero bits: A Q g w */
        mac[GWE_SIGNED_MAC_LEN - 1]++;
        break;
    case MUT_FLIP_TIME:
        v[15] = v[15] == 'A' ? 'B' : 'A';
        break;
    case MUT_TAG:
        v[1] = '2';
        break;
    case MUT_KEY_ID:
        v[2] = 'Z';
        v[3] = 'z';
        break;
    case MUT_NON_ASCII:
        *route = (char)0xc3;
        break;
    case MUT_PCT00_ROUTE:
    case MUT_BAD_ESCAPE:
        /* the test signs route "n1x": 3 characters become 3 */
        memcpy(route, m == MUT_PCT00_ROUTE ? "%00" : "%0g", 3);
        break;
    case MUT_NONE:
    default:
        break;
    }
    return n;
}

/*
 * With a memo (README 4.8: one per client connection) the verdict is the
 * one without: an equal value at another address is judged from the memo,
 * without its MAC, its route slice in that copy, and its dates judged again
 * at every now.
 */
static void memo_agrees(gwe_verify_conf *c, const char *v, size_t n,
                        enum gwe_cookie_status st, const gwe_signed_fields *f)
{
    gwe_verified memo;
    gwe_signed_fields got;
    char copy[GWE_SIGNED_MAX + 2];
    unsigned long calls;

    memset(&memo, 0, sizeof memo);
    c->memo = &memo;
    ck_assert_int_eq(gwe_signed_verify(v, n, c, NOW, &got), st);
    memcpy(copy, v, n);
    calls = fake_mac_calls;
    ck_assert_int_eq(gwe_signed_verify(copy, n, c, NOW, &got), st);
    if (f->key_index >= 0) {
        ck_assert_uint_eq(fake_mac_calls, calls); /* from the memo */
        ck_assert_int_eq(got.key_index, f->key_index);
        ck_assert_int_eq(got.issued, f->issued);
        ck_assert_int_eq(got.refreshed, f->refreshed);
        ck_assert(got.route.ptr == copy + (f->route.ptr - v));
        ck_assert_uint_eq(got.route.len, f->route.len);
        ck_assert_int_eq(
            gwe_signed_verify(copy, n, c, f->issued - DAY - 1, NULL),
            GWE_COOKIE_FORGED);
        if (c->maxidle > 0 || c->maxlife > 0)
            ck_assert_int_eq(
                gwe_signed_verify(copy, n, c, NOW + 400 * DAY, NULL),
                GWE_COOKIE_EXPIRED);
        ck_assert_uint_eq(fake_mac_calls, calls);
    } else
        ck_assert_uint_eq(memo.len, 0); /* only a verified MAC is kept */
    c->memo = NULL;
}

START_TEST(verify_row_test)
{
    const verify_row *r = &verify_rows[_i];
    static const gwe_slice routes[] = {{"n2", 2}, {"n1", 2}};
    const char *keys = r->keys ? r->keys : "A";
    char ids[2 * GWE_SIGNED_KEYS_MAX], buf[GWE_SIGNED_MAX + 2];
    lit route = r->route.p ? r->route : (lit)L("n1");
    gwe_verify_conf c;
    gwe_signed_fields out;
    enum gwe_cookie_status st;
    const char *v;
    size_t n;
    guard g;

    if (r->mut == MUT_PCT00_ROUTE || r->mut == MUT_BAD_ESCAPE)
        route = (lit)L("n1x");
    ids_of(keys, ids);
    if (r->ids)
        memcpy(ids, r->ids, strlen(r->ids));
    memset(&c, 0, sizeof c);
    c.mac = fake_mac;
    c.mac_ctx = (void *)keys;
    c.key_ids = ids;
    c.nkeys = strlen(keys);
    c.cookie_name.ptr = "ROUTEID";
    c.cookie_name.len = 7;
    c.balancer.ptr = "balancer://b";
    c.balancer.len = 12;
    c.maxidle = r->maxidle;
    c.maxlife = r->maxlife;
    c.separator = '.';
    c.routes = routes;
    c.nroutes = NELEMS(routes);

    if (r->raw.p) {
        n = r->raw.n;
        memcpy(buf, r->raw.p, n);
    } else {
        n = sign(buf, sizeof buf - 1, r->key ? r->key : 'A', NOW + r->issued,
                 NOW + r->refreshed, route.p, route.n,
                 r->cookie ? r->cookie : "ROUTEID",
                 r->balancer ? r->balancer : "balancer://b");
        n = mutate(buf, n, r->mut);
    }
    guard_init(&g);
    v = guard_dup(&g, buf, n);
    st = gwe_signed_verify(v, n, &c, NOW, &out);
    ck_assert_msg(st == r->want, "%s: %s, want %s (value %.*s)", r->name,
                  gwe_cookie_status_name(st), gwe_cookie_status_name(r->want),
                  (int)n, buf);
    if (st == GWE_COOKIE_VALID || st == GWE_COOKIE_EXPIRED) {
        char dec[GWE_ROUTE_MAX + 1];
        size_t dl;

        ck_assert_msg(out.key_index == r->want_key, "%s: key %d", r->name,
                      out.key_index);
        ck_assert_int_eq(out.issued, NOW + r->issued);
        ck_assert_int_eq(out.refreshed, NOW + r->refreshed);
        ck_assert_int_eq(gwe_pct_decode_tail(out.route.ptr, out.route.len, dec,
                                             sizeof dec, &dl),
                         0);
        ck_assert_msg(dl == route.n && memcmp(dec, route.p, dl) == 0,
                      "%s: route does not round-trip", r->name);
    }
    if (st == GWE_COOKIE_LEGACY)
        ck_assert(out.route.ptr == v && out.route.len == n);
    if (st == GWE_COOKIE_FORGED && out.key_index >= 0)
        ck_assert_msg(r->issued > DAY || r->refreshed > DAY,
                      "%s: a verifying key but forged", r->name);
    /* a NULL value is absent, and out may be NULL */
    ck_assert_int_eq(gwe_signed_verify(NULL, 0, &c, NOW, NULL),
                     GWE_COOKIE_ABSENT);
    ck_assert_int_eq(gwe_signed_verify(v, n, &c, NOW, NULL), st);
    memo_agrees(&c, v, n, st, &out);
    guard_release(&g);
}
END_TEST

/* A memo answers only for the value, keys, cookie name and balancer it
 * verified; a refused value leaves it as it was. */
START_TEST(memo_is_scoped)
{
    static const gwe_slice routes[] = {{"n1", 2}};
    char ids[2], v[GWE_SIGNED_MAX], other[GWE_SIGNED_MAX], bad[GWE_SIGNED_MAX];
    size_t n, on;
    gwe_verify_conf c, d;
    gwe_verified memo;
    unsigned long calls;

    verifier(&c, "A", ids, routes, 1);
    memset(&memo, 0, sizeof memo);
    c.memo = &memo;
    n = sign(v, sizeof v, 'A', NOW, NOW, "n1", 2, "ROUTEID", "balancer://b");
    ck_assert_int_eq(gwe_signed_verify(v, n, &c, NOW, NULL), GWE_COOKIE_VALID);
    ck_assert_uint_eq(memo.len, n);

    /* another balancer, cookie name or key set does not take the memo's
     * word: it checks the MAC, which fails */
    d = c;
    d.balancer.ptr = "balancer://c";
    ck_assert_int_eq(gwe_signed_verify(v, n, &d, NOW, NULL),
                     GWE_COOKIE_FORGED);
    d = c;
    d.cookie_name.ptr = "ROUTEIX";
    ck_assert_int_eq(gwe_signed_verify(v, n, &d, NOW, NULL),
                     GWE_COOKIE_FORGED);
    d = c;
    d.nkeys = 0;
    ck_assert_int_eq(gwe_signed_verify(v, n, &d, NOW, NULL),
                     GWE_COOKIE_FORGED);
    d = c;
    d.mac_ctx = (void *)"B";
    ck_assert_int_eq(gwe_signed_verify(v, n, &d, NOW, NULL),
                     GWE_COOKIE_FORGED);

    /* a value one byte off, or one byte shorter, is checked in full */
    memcpy(bad, v, n);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    calls = fake_mac_calls;
    ck_assert_int_eq(gwe_signed_verify(bad, n, &c, NOW, NULL),
                     GWE_COOKIE_FORGED);
    ck_assert_int_eq(gwe_signed_verify(v, n - 1, &c, NOW, NULL),
                     GWE_COOKIE_FORGED);
    ck_assert_uint_gt(fake_mac_calls, calls);
    ck_assert_uint_eq(memo.len, n);
    ck_assert(memcmp(memo.value, v, n) == 0);

    /* the next value that verifies takes the memo's place */
    on = sign(other, sizeof other, 'A', NOW - 5, NOW - 5, "n1", 2, "ROUTEID",
              "balancer://b");
    ck_assert_int_eq(gwe_signed_verify(other, on, &c, NOW, NULL),
                     GWE_COOKIE_VALID);
    ck_assert(memo.len == on && memcmp(memo.value, other, on) == 0);
    calls = fake_mac_calls;
    ck_assert_int_eq(gwe_signed_verify(v, n, &c, NOW, NULL), GWE_COOKIE_VALID);
    ck_assert_uint_gt(fake_mac_calls, calls);
}
END_TEST

/* ---- gwe_signed_parse ----------------------------------------------------
 */

#define MAC22 "AAAAAAAAAAAAAAAAAAAAAA"

typedef struct parse_row {
    const char *name;
    lit v;
    int want;         /* 0 or -1 */
    long issued;      /* on success */
    long refreshed;   /* on success */
    const char *slot; /* on success: the encoded route slot */
} parse_row;

static const parse_row parse_rows[] = {
    {"shortest value parses", L("g1AaAAAAAAAAAAAA.r." MAC22), 0, 0, 0, "r"},
    {"times are big-endian base64url", L("g1AaAAAABAAAAAB_.r." MAC22), 0, 64,
     127, "r"},
    {"latest time parses", L("g1Aa____________.r." MAC22), 0, 0xFFFFFFFFFL,
     0xFFFFFFFFFL, "r"},
    {"route slot may hold dots", L("g1AaAAAAAAAAAAAA.a.b.." MAC22), 0, 0, 0,
     "a.b."},
    {"'%00' in the route slot is a NUL route byte",
     L("g1AaAAAAAAAAAAAA.%00." MAC22), 0, 0, 0, "%00"},
    {"MAC of - and _ parses", L("g1-_AAAAAAAAAAAA.r.-_AAAAAAAAAAAAAAAAAAAA"),
     0, 0, 0, "r"},
    {"empty route slot is malformed", L("g1AaAAAAAAAAAAAA.." MAC22), -1, 0, 0,
     NULL},
    {"MAC one character short is malformed",
     L("g1AaAAAAAAAAAAAA.rr.AAAAAAAAAAAAAAAAAAAAA"), -1, 0, 0, NULL},
    {"MAC one character long is malformed", L("g1AaAAAAAAAAAAAA.r.A" MAC22),
     -1, 0, 0, NULL},
    {"refreshed before issued is malformed", L("g1AaAAAAABAAAAAA.r." MAC22),
     -1, 0, 0, NULL},
    {"non-base64url time is malformed", L("g1AaAAAA=AAAAAAA.r." MAC22), -1, 0,
     0, NULL},
    {"non-base64url key id is malformed", L("g1A.AAAAAAAAAAAA.r." MAC22), -1,
     0, 0, NULL},
    {"non-base64url MAC is malformed",
     L("g1AaAAAAAAAAAAAA.r.AAAAAAAAAAA.AAAAAAAAAA"), -1, 0, 0, NULL},
    {"other tag is malformed", L("G1AaAAAAAAAAAAAA.r." MAC22), -1, 0, 0, NULL},
    {"missing '.' after the times is malformed",
     L("g1AaAAAAAAAAAAAAxr." MAC22), -1, 0, 0, NULL},
    {"missing '.' before the MAC is malformed", L("g1AaAAAAAAAAAAAA.rx" MAC22),
     -1, 0, 0, NULL},
    {"space in the route slot is malformed", L("g1AaAAAAAAAAAAAA.a b." MAC22),
     -1, 0, 0, NULL},
    {"non-ASCII byte in the route slot is malformed",
     L("g1AaAAAAAAAAAAAA.caf\xc3\xa9." MAC22), -1, 0, 0, NULL},
    {"NUL byte in the route slot is malformed",
     L("g1AaAAAAAAAAAAAA.a\0b." MAC22), -1, 0, 0, NULL},
    {"short escape in the route slot is malformed",
     L("g1AaAAAAAAAAAAAA.a%0." MAC22), -1, 0, 0, NULL},
    {"non-hex escape in the route slot is malformed",
     L("g1AaAAAAAAAAAAAA.%zz." MAC22), -1, 0, 0, NULL},
    {"legacy value is not signed syntax", L(".n1"), -1, 0, 0, NULL},
    {"empty value is not signed syntax", L(""), -1, 0, 0, NULL},
};

START_TEST(parse_row_test)
{
    const parse_row *r = &parse_rows[_i];
    gwe_signed_fields f;
    gwe_slice sp, mp;
    const char *v;
    guard g;
    int rc;

    guard_init(&g);
    v = guard_dup(&g, r->v.p, r->v.n);
    rc = gwe_signed_parse(v, r->v.n, &f, &sp, &mp);
    ck_assert_msg(rc == r->want, "%s: %d", r->name, rc);
    if (rc == 0) {
        ck_assert_int_eq(f.key_index, -1);
        ck_assert_int_eq(f.issued, r->issued);
        ck_assert_int_eq(f.refreshed, r->refreshed);
        ck_assert_msg(f.route.len == strlen(r->slot) &&
                          memcmp(f.route.ptr, r->slot, f.route.len) == 0,
                      "%s: slot %.*s", r->name, (int)f.route.len, f.route.ptr);
        ck_assert(sp.ptr == v && sp.len == r->v.n - GWE_SIGNED_MAC_LEN - 1);
        ck_assert(mp.ptr == v + r->v.n - GWE_SIGNED_MAC_LEN &&
                  mp.len == GWE_SIGNED_MAC_LEN);
        ck_assert_int_eq(gwe_signed_parse(v, r->v.n, NULL, NULL, NULL), 0);
    }
    guard_release(&g);
}
END_TEST

/* Long route slots: the limit is GWE_ROUTE_MAX decoded bytes, and a huge
 * input is refused by its length before anything is read. */
static const struct {
    const char *name;
    const char *unit; /* repeated in the route slot */
    size_t times;
    int want;
} long_rows[] = {
    {"route slot of GWE_ROUTE_MAX bytes parses", "r", GWE_ROUTE_MAX, 0},
    {"route slot of GWE_ROUTE_MAX escapes parses", "%2E", GWE_ROUTE_MAX, 0},
    {"route slot one byte over GWE_ROUTE_MAX is malformed", "r",
     GWE_ROUTE_MAX + 1, -1},
    {"route slot one escape over GWE_ROUTE_MAX is malformed", "%2E",
     GWE_ROUTE_MAX + 1, -1},
    {"huge value is malformed, not a crash", "r", 1 << 20, -1},
};

START_TEST(long_row_test)
{
    sb b = {NULL, 0, 0};
    const char *v;
    guard g;

    sb_str(&b, "g1AaAAAAAAAAAAAA.");
    sb_rep(&b, long_rows[_i].unit, long_rows[_i].times);
    sb_str(&b, "." MAC22);
    guard_init(&g);
    v = guard_dup(&g, b.p, b.n);
    ck_assert_msg(gwe_signed_parse(v, b.n, NULL, NULL, NULL) ==
                      long_rows[_i].want,
                  "%s", long_rows[_i].name);
    guard_release(&g);
    sb_free(&b);
}
END_TEST

/* Garbage of every length up to past GWE_SIGNED_MAX, and every single-byte
 * change of a good value: never a crash, never VALID unless unchanged. */
START_TEST(garbage_is_malformed)
{
    static const char keys[] = "A";
    static const gwe_slice routes[] = {{"n1", 2}};
    char good[GWE_SIGNED_MAX + 1], ids[2];
    gwe_verify_conf c;
    size_t n, i, len;
    unsigned b;
    guard g;

    verifier(&c, keys, ids, routes, 1);
    n = sign(good, sizeof good, 'A', NOW, NOW, "n1", 2, "ROUTEID",
             "balancer://b");
    for (i = 0; i < n; i++) {
        for (b = 0; b < 256; b += 7) {
            char v[GWE_SIGNED_MAX + 1];

            memcpy(v, good, n);
            if ((unsigned char)v[i] == b)
                continue;
            v[i] = (char)b;
            ck_assert_int_ne(gwe_signed_verify(v, n, &c, NOW, NULL),
                             GWE_COOKIE_VALID);
        }
    }
    for (len = 0; len <= GWE_SIGNED_MAX + 2; len += 13) {
        char junk[GWE_SIGNED_MAX + 3];

        for (i = 0; i < len; i++)
            junk[i] = (char)(i * 131 + len);
        guard_init(&g);
        ck_assert_int_ne(
            gwe_signed_verify(guard_dup(&g, junk, len), len, &c, NOW, NULL),
            GWE_COOKIE_VALID);
        guard_release(&g);
    }
}
END_TEST

/* ---- gwe_signed_build ----------------------------------------------------
 */

/* Every route byte, one route per row of 16 byte values plus separators:
 * the value holds only cookie-octets and verifies. */
START_TEST(only_cookie_octets_appear)
{
    char route[16 + 2], v[GWE_SIGNED_MAX + 1];
    size_t n, i;

    for (i = 0; i < 16; i++)
        route[i] = (char)(_i * 16 + i);
    route[16] = '.';
    route[17] = '%';
    n = sign(v, sizeof v, 'A', NOW, NOW, route, sizeof route, "ROUTEID",
             "balancer://b");
    for (i = 0; i < n; i++)
        ck_assert_msg(v[i] >= 0x21 && v[i] <= 0x7e && v[i] != '"' &&
                          v[i] != ',' && v[i] != ';' && v[i] != '\\',
                      "byte %u of %s", (unsigned)i, v);
    ck_assert_int_eq(gwe_signed_parse(v, n, NULL, NULL, NULL), 0);
}
END_TEST

/* Count, then write: nothing is written and the MAC is not computed until
 * the value and its NUL fit. */
START_TEST(build_measures_then_writes)
{
    static const char keys[] = "A";
    gwe_signed_fields f;
    gwe_slice name = {"ROUTEID", 7}, bal = {"balancer://b", 12};
    char out[128];
    unsigned long calls;
    size_t n;

    f.key_index = 0;
    ids_of(keys, f.key_id);
    f.issued = NOW;
    f.refreshed = NOW;
    f.route.ptr = "n 1";
    f.route.len = 3;
    calls = fake_mac_calls;
    n = gwe_signed_build(NULL, 0, &f, fake_mac, (void *)keys, name, bal);
    ck_assert_uint_eq(n, GWE_SIGNED_PREFIX_LEN + 5 + 1 + GWE_SIGNED_MAC_LEN);
    memset(out, '#', sizeof out);
    ck_assert_uint_eq(
        gwe_signed_build(out, n, &f, fake_mac, (void *)keys, name, bal), n);
    ck_assert_msg(out[0] == '#' && fake_mac_calls == calls,
                  "wrote or MAC'd without room");
    ck_assert_uint_eq(
        gwe_signed_build(out, n + 1, &f, fake_mac, (void *)keys, name, bal),
        n);
    ck_assert_uint_eq(fake_mac_calls, calls + 1);
    ck_assert_uint_eq(strlen(out), n);
    ck_assert_int_eq(out[n + 1], '#');
    ck_assert_msg(memcmp(out, "g1Aa", 4) == 0 &&
                      memcmp(out + 16, ".n%201.", 7) == 0,
                  "layout: %s", out);
}
END_TEST

/* Out-of-range fields build nothing. */
static const struct {
    const char *name;
    char id0;
    long issued, refreshed;
    size_t route_len;
    int mac_fails;
} refuse_rows[] = {
    {"negative issued time is refused", 'A', -1, 0, 2, 0},
    {"refreshed before issued is refused", 'A', 10, 9, 2, 0},
    {"time past 36 bits is refused", 'A', 0, 0x1000000000L, 2, 0},
    {"empty route is refused", 'A', 0, 0, 0, 0},
    {"route over GWE_ROUTE_MAX is refused", 'A', 0, 0, GWE_ROUTE_MAX + 1, 0},
    {"key id outside base64url is refused", '.', 0, 0, 2, 0},
    {"failing MAC builds nothing", 'A', 0, 0, 2, 1},
};

START_TEST(refuse_row_test)
{
    static char route[GWE_ROUTE_MAX + 1];
    gwe_signed_fields f;
    gwe_slice name = {"ROUTEID", 7}, bal = {"balancer://b", 12};
    char out[GWE_SIGNED_MAX + 64];

    memset(route, 'r', sizeof route);
    f.key_index = refuse_rows[_i].mac_fails ? 5 : 0; /* "A" has no key 5 */
    f.key_id[0] = refuse_rows[_i].id0;
    f.key_id[1] = 'a';
    f.issued = refuse_rows[_i].issued;
    f.refreshed = refuse_rows[_i].refreshed;
    f.route.ptr = route;
    f.route.len = refuse_rows[_i].route_len;
    ck_assert_msg(gwe_signed_build(out, sizeof out, &f, fake_mac, (void *)"A",
                                   name, bal) == 0,
                  "%s", refuse_rows[_i].name);
}
END_TEST

/* Value before guard page: built, then verified where one byte past its
 * end (or before its start) is unreadable, for routes of every length. */
START_TEST(value_before_guard_page)
{
    static const char keys[] = "A";
    char route[GWE_ROUTE_MAX], v[GWE_SIGNED_MAX + 1], ids[2];
    gwe_slice member;
    gwe_verify_conf c;
    gwe_signed_fields out;
    static const size_t lens[] = {1, 2, 3, 7, 8, 64, 200, 254, GWE_ROUTE_MAX};
    size_t n = 0, rl, i;
    guard g;

    ids_of(keys, ids);
    memset(route, '%', sizeof route);
    memset(&c, 0, sizeof c);
    c.mac = fake_mac;
    c.mac_ctx = (void *)keys;
    c.key_ids = ids;
    c.nkeys = 1;
    c.cookie_name.ptr = "ROUTEID";
    c.cookie_name.len = 7;
    c.balancer.ptr = "balancer://b";
    c.balancer.len = 12;
    c.maxidle = 60;
    for (i = 0; i < NELEMS(lens); i++) {
        rl = lens[i];
        n = sign(v, sizeof v, 'A', NOW, NOW, route, rl, "ROUTEID",
                 "balancer://b");
        guard_init(&g);
        member.ptr = guard_dup(&g, route, rl);
        member.len = rl;
        ck_assert_int_eq(
            gwe_signed_verify(guard_dup(&g, v, n), n, &c, NOW, &out),
            GWE_COOKIE_VALID);
        ck_assert_int_eq(gwe_signed_route_index(&out, &member, 1), 0);
        guard_release(&g);
    }
    /* the last route, fully escaped, makes the longest value */
    ck_assert_uint_eq(n, GWE_SIGNED_MAX);
}
END_TEST

/* ---- gwe_signed_route_index ----------------------------------------------
 */

static const struct {
    const char *name;
    const char *slot;
    int want;
} index_rows[] = {
    {"slot names the member", "n1", 1},
    {"escaped slot names the member", "n%31", 1},
    {"slot equal to a route's tail is no match", "xn1", -1},
    {"route's tail equal to the slot is no match", "1", -1},
    {"slot naming no member", "n3", -1},
    {"empty slot", "", -1},
    {"malformed escape", "n%3", -1},
};

START_TEST(index_row_test)
{
    static const gwe_slice routes[] = {{"xn2", 3}, {"n1", 2}, {"", 0}};
    gwe_signed_fields f;
    guard g;

    guard_init(&g);
    f.route.len = strlen(index_rows[_i].slot);
    f.route.ptr = guard_dup(&g, index_rows[_i].slot, f.route.len);
    ck_assert_msg(gwe_signed_route_index(&f, routes, NELEMS(routes)) ==
                      index_rows[_i].want,
                  "%s", index_rows[_i].name);
    guard_release(&g);
}
END_TEST

/* ---- refresh (issue 13, rule 3)
 * ---------------------------------------------
 */

static const struct {
    const char *name;
    long age; /* now - refreshed */
    long maxidle;
    int want;
} refresh_rows[] = {
    {"fresh value is not refreshed", 0, 1800, 0},
    {"just under maxidle/4 is not refreshed", 449, 1800, 0},
    {"at maxidle/4 it is refreshed", 450, 1800, 1},
    {"past maxidle/4 it is refreshed", 1000, 1800, 1},
    {"refreshed ahead of now (another balancer's clock): not yet", -30, 1800,
     0},
    {"without maxidle nothing is refreshed", 1000000, 0, 0},
    {"maxidle of 1 s: refreshed once a second", 1, 1, 1},
    {"maxidle under 4 s: never twice in one second", 0, 3, 0},
};

START_TEST(refresh_row_test)
{
    gwe_signed_fields f;

    memset(&f, 0, sizeof f);
    f.issued = NOW - 100000;
    f.refreshed = NOW - refresh_rows[_i].age;
    ck_assert_msg(
        gwe_signed_needs_refresh(&f, NOW, refresh_rows[_i].maxidle) ==
            refresh_rows[_i].want,
        "%s", refresh_rows[_i].name);
}
END_TEST

/*
 * A visitor with requests `gap` seconds apart, the balancer refreshing
 * when gwe_signed_needs_refresh says so: refresh at most once per
 * maxidle/4, and with gaps of at most maxidle/2 the value stays valid
 * until maxlife, then expires.
 */
static const struct {
    const char *name;
    long gap;
} visit_rows[] = {
    {"refresh at most once per maxidle/4: requests 10 s apart", 10},
    {"requests maxidle/4 - 1 apart keep the member", 449},
    {"requests maxidle/2 apart keep the member until maxlife", 900},
};

START_TEST(visit_row_test)
{
    static const char keys[] = "A";
    const long maxidle = 1800, maxlife = 8 * HOUR, gap = visit_rows[_i].gap;
    char v[GWE_SIGNED_MAX + 1], ids[2];
    gwe_verify_conf c;
    gwe_signed_fields f;
    long t, last_refresh = NOW;
    unsigned refreshes = 0;
    size_t n;

    ids_of(keys, ids);
    memset(&c, 0, sizeof c);
    c.mac = fake_mac;
    c.mac_ctx = (void *)keys;
    c.key_ids = ids;
    c.nkeys = 1;
    c.cookie_name.ptr = "ROUTEID";
    c.cookie_name.len = 7;
    c.balancer.ptr = "balancer://b";
    c.balancer.len = 12;
    c.maxidle = maxidle;
    c.maxlife = maxlife;
    n = sign(v, sizeof v, 'A', NOW, NOW, "n1", 2, "ROUTEID", "balancer://b");
    for (t = NOW + gap; t <= NOW + maxlife; t += gap) {
        ck_assert_msg(gwe_signed_verify(v, n, &c, t, &f) == GWE_COOKIE_VALID,
                      "%s: lost at +%ld s", visit_rows[_i].name, t - NOW);
        if (gwe_signed_needs_refresh(&f, t, maxidle)) {
            ck_assert_int_ge(t - last_refresh, maxidle / 4);
            n = sign(v, sizeof v, 'A', f.issued, t, "n1", 2, "ROUTEID",
                     "balancer://b");
            last_refresh = t;
            refreshes++;
        }
    }
    ck_assert_uint_le(refreshes, maxlife / (maxidle / 4));
    ck_assert_uint_ge(refreshes, maxlife / (maxidle / 2 + gap));
    ck_assert_int_eq(gwe_signed_verify(v, n, &c, NOW + maxlife + 1, NULL),
                     GWE_COOKIE_EXPIRED);
}
END_TEST

/* ---- small helpers -------------------------------------------------------
 */

START_TEST(status_names)
{
    ck_assert_str_eq(gwe_cookie_status_name(GWE_COOKIE_ABSENT), "absent");
    ck_assert_str_eq(gwe_cookie_status_name(GWE_COOKIE_LEGACY), "legacy");
    ck_assert_str_eq(gwe_cookie_status_name(GWE_COOKIE_FORGED), "forged");
    ck_assert_str_eq(gwe_cookie_status_name(GWE_COOKIE_EXPIRED), "expired");
    ck_assert_str_eq(gwe_cookie_status_name(GWE_COOKIE_VALID), "valid");
}
END_TEST

START_TEST(key_id_from_digest)
{
    static const unsigned char d0[2] = {0, 0}, d1[2] = {0xff, 0xff},
                               d2[2] = {0x04, 0x10};
    char id[2];

    gwe_signed_key_id(d0, id);
    ck_assert(id[0] == 'A' && id[1] == 'A');
    gwe_signed_key_id(d1, id);
    ck_assert(id[0] == '_' && id[1] == '_');
    gwe_signed_key_id(d2, id);
    ck_assert(id[0] == 'B' && id[1] == 'B');
    ck_assert(gwe_signed_key_id_char('-') && gwe_signed_key_id_char('z') &&
              !gwe_signed_key_id_char('.') && !gwe_signed_key_id_char('='));
}
END_TEST

/* ---- opaque=on: gwe_signed_opaque_id, gwe_signed_member_index -----------
 */

/* A gwe_opaque_id_fn over fake_mac with the keys in ctx, as the glue's is
 * over its start-up table; member "GWE_X" has none. */
static int fake_opaque_id(void *ctx, int key_index, size_t member,
                          gwe_slice route, char out[GWE_OPAQUE_ID_LEN])
{
    (void)member;
    if (route.len == 5 && memcmp(route.ptr, "GWE_X", 5) == 0)
        return -1;
    return gwe_signed_opaque_id(fake_mac, ctx, key_index, route, out);
}

static void opaque_id_of(const char *keys, int key_index, const char *route,
                         char out[GWE_OPAQUE_ID_LEN])
{
    gwe_slice r = {route, strlen(route)};

    ck_assert_int_eq(
        gwe_signed_opaque_id(fake_mac, (void *)keys, key_index, r, out), 0);
}

START_TEST(opaque_id_shape)
{
    char a[GWE_OPAQUE_ID_LEN], a2[GWE_OPAQUE_ID_LEN], b[GWE_OPAQUE_ID_LEN],
        other[GWE_OPAQUE_ID_LEN], longest[GWE_ROUTE_MAX + 1];
    gwe_slice empty = {"", 0}, too_long = {longest, GWE_ROUTE_MAX + 1};
    size_t i;

    opaque_id_of("AB", 0, "GWE_Backend_1", a);
    opaque_id_of("AB", 0, "GWE_Backend_1", a2);
    opaque_id_of("AB", 1, "GWE_Backend_1", b);
    opaque_id_of("AB", 0, "GWE_Backend_2", other);
    for (i = 0; i < GWE_OPAQUE_ID_LEN; i++)
        ck_assert_msg(gwe_signed_key_id_char(a[i]), "char %zu not base64url",
                      i);
    ck_assert_msg(memcmp(a, a2, sizeof a) == 0, "not deterministic");
    ck_assert_msg(memcmp(a, b, sizeof a) != 0, "same under two keys");
    ck_assert_msg(memcmp(a, other, sizeof a) != 0, "same for two routes");
    ck_assert_msg(memchr(a, '_', sizeof a) == NULL ||
                      memcmp(a, "GWE_", 4) != 0,
                  "shows the route");
    memset(longest, 'r', sizeof longest);
    ck_assert_int_eq(gwe_signed_opaque_id(fake_mac, "A", 0, empty, a), -1);
    ck_assert_int_eq(gwe_signed_opaque_id(fake_mac, "A", 0, too_long, a), -1);
    too_long.len = GWE_ROUTE_MAX;
    ck_assert_int_eq(gwe_signed_opaque_id(fake_mac, "A", 0, too_long, a), 0);
    /* key 2 of "AB" does not exist: fake_mac fails */
    ck_assert_int_eq(gwe_signed_opaque_id(fake_mac, "AB", 2, empty, a), -1);
    too_long.len = 3;
    ck_assert_int_eq(gwe_signed_opaque_id(fake_mac, "AB", 2, too_long, a), -1);
    ck_assert_int_eq(gwe_signed_opaque_id(NULL, "A", 0, too_long, a), -1);
}
END_TEST

enum opaque_slot {
    OS_ROUTE,      /* the route itself */
    OS_ID,         /* its identifier under the verifying key */
    OS_OTHER_KEY,  /* its identifier under the other key */
    OS_NOT_BASE64, /* the identifier with one '.' in it */
    OS_SHORT       /* the identifier without its last character */
};

static const struct {
    const char *name;
    const char *route; /* whose slot */
    enum opaque_slot slot;
    int key_index; /* the key that verified it */
    int callback;  /* opaque_id set */
    int want;
} member_rows[] = {
    {"plain route names its member", "GWE_B", OS_ROUTE, 0, 1, 1},
    {"plain route without a callback", "GWE_B", OS_ROUTE, 0, 0, 1},
    {"identifier names its member", "GWE_B", OS_ID, 0, 1, 1},
    {"identifier under the second key", "GWE_C", OS_ID, 1, 1, 2},
    {"identifier made under the other key names none", "GWE_B", OS_OTHER_KEY,
     1, 1, -1},
    {"identifier without a callback names none", "GWE_B", OS_ID, 0, 0, -1},
    {"identifier of no member", "GWE_Z", OS_ID, 0, 1, -1},
    {"member the callback has no identifier for", "GWE_X", OS_ID, 0, 1, -1},
    {"slot of 16 characters, not base64url", "GWE_B", OS_NOT_BASE64, 0, 1, -1},
    {"slot one character short", "GWE_B", OS_SHORT, 0, 1, -1},
    {"no verifying key", "GWE_B", OS_ID, -1, 1, -1},
};

START_TEST(member_row_test)
{
    static const gwe_slice routes[] = {
        {"GWE_A", 5}, {"GWE_B", 5}, {"GWE_C", 5}, {"GWE_X", 5}, {"", 0}};
    char id[GWE_OPAQUE_ID_LEN];
    gwe_verify_conf c;
    gwe_signed_fields f;
    guard g;
    int k = member_rows[_i].key_index;

    memset(&c, 0, sizeof c);
    if (member_rows[_i].callback) {
        c.opaque_id = fake_opaque_id;
        c.opaque_ctx = (void *)"AB";
    }
    memset(&f, 0, sizeof f);
    f.key_index = k;
    if (member_rows[_i].slot == OS_ROUTE) {
        snprintf(id, sizeof id, "%s", member_rows[_i].route);
        f.route.len = strlen(id);
    } else {
        gwe_slice r = {member_rows[_i].route, strlen(member_rows[_i].route)};
        int under = member_rows[_i].slot == OS_OTHER_KEY ? 1 - k : k;

        ck_assert_int_eq(
            gwe_signed_opaque_id(fake_mac, "AB", under < 0 ? 0 : under, r, id),
            0);
        f.route.len = sizeof id;
        if (member_rows[_i].slot == OS_NOT_BASE64)
            id[7] = '.';
        if (member_rows[_i].slot == OS_SHORT)
            f.route.len--;
    }
    guard_init(&g);
    f.route.ptr = guard_dup(&g, id, f.route.len);
    ck_assert_msg(gwe_signed_member_index(&f, &c, routes, NELEMS(routes)) ==
                      member_rows[_i].want,
                  "%s", member_rows[_i].name);
    guard_release(&g);
}
END_TEST

/* ---- gwe_sticky_extract with keys ----------------------------------------
 */

enum part_kind { P_NONE, P_SIGNED, P_FLIPPED, P_TEXT, P_OPAQUE };

typedef struct cookie_part {
    enum part_kind kind;
    const char *text; /* P_SIGNED / P_FLIPPED / P_OPAQUE: the route (P_OPAQUE:
                         signed with its identifier); P_TEXT: the value */
    long issued, refreshed; /* seconds relative to NOW */
} cookie_part;

typedef struct sx_row {
    const char *name;
    cookie_part parts[3]; /* ROUTEID pairs of one Cookie line, in order */
    const char *url;
    int legacy_accept;
    enum gwe_cookie_status status;
    enum gwe_route_source source;
    int route, cookie_route, refresh;
} sx_row;

#define SIGNED(r, i, f)                                                       \
    {                                                                         \
        P_SIGNED, r, i, f                                                     \
    }
#define FRESH(r) SIGNED(r, -10, -10)

static const sx_row sx_rows[] = {
    {"no cookie",
     {{P_NONE, NULL, 0, 0}},
     "/",
     0,
     GWE_COOKIE_ABSENT,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"a fresh signed cookie routes, no refresh",
     {FRESH("GWE_B")},
     "/",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_COOKIE,
     1,
     1,
     0},
    {"refreshed maxidle/4 ago: due a refresh",
     {SIGNED("GWE_B", -HOUR, -450)},
     "/",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_COOKIE,
     1,
     1,
     1},
    {"refreshed past maxidle: expired, no route",
     {SIGNED("GWE_B", -HOUR, -1801)},
     "/",
     0,
     GWE_COOKIE_EXPIRED,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"issued past maxlife: expired",
     {SIGNED("GWE_B", -DAY - 1, -10)},
     "/",
     0,
     GWE_COOKIE_EXPIRED,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"dated a day and a second ahead: forged",
     {SIGNED("GWE_B", DAY + 1, DAY + 1)},
     "/",
     0,
     GWE_COOKIE_FORGED,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"flipped route: forged",
     {{P_FLIPPED, "GWE_B", -10, -10}},
     "/",
     0,
     GWE_COOKIE_FORGED,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"legacy value refused",
     {{P_TEXT, ".GWE_B", 0, 0}},
     "/",
     0,
     GWE_COOKIE_LEGACY,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"legacy value accepted: routes, to be replaced",
     {{P_TEXT, "sess.GWE_B", 0, 0}},
     "/",
     1,
     GWE_COOKIE_LEGACY,
     GWE_SOURCE_COOKIE,
     1,
     -1,
     0},
    {"unsigned value naming no member: forged",
     {{P_TEXT, ".GWE_Z", 0, 0}},
     "/",
     1,
     GWE_COOKIE_FORGED,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"forged, then valid: the valid one routes",
     {{P_FLIPPED, "GWE_A", -10, -10}, FRESH("GWE_C")},
     "/",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_COOKIE,
     2,
     2,
     0},
    {"accepted legacy, then valid: the valid one routes",
     {{P_TEXT, ".GWE_A", 0, 0}, FRESH("GWE_C")},
     "/",
     1,
     GWE_COOKIE_VALID,
     GWE_SOURCE_COOKIE,
     2,
     2,
     0},
    {"expired, then forged: reported expired",
     {SIGNED("GWE_B", -HOUR, -1801), {P_FLIPPED, "GWE_A", -10, -10}},
     "/",
     0,
     GWE_COOKIE_EXPIRED,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"verified but naming no member: valid, no route",
     {FRESH("GWE_Z")},
     "/",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"the parameter comes first; the cookie still counts",
     {FRESH("GWE_C")},
     "/p?alias=x.GWE_A",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_PARAM,
     0,
     2,
     0},
    {"another cookie's valid value is not the route cookie",
     {{P_TEXT, "x", 0, 0}},
     "/",
     0,
     GWE_COOKIE_FORGED,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"opaque value routes to its member",
     {{P_OPAQUE, "GWE_B", -10, -10}},
     "/",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_COOKIE,
     1,
     1,
     0},
    {"opaque value of no member is valid but routes nowhere",
     {{P_OPAQUE, "GWE_Z", -10, -10}},
     "/",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_NONE,
     -1,
     -1,
     0},
    {"opaque value due a refresh",
     {{P_OPAQUE, "GWE_C", -HOUR, -900}},
     "/",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_COOKIE,
     2,
     2,
     1},
    {"expired opaque value, then a plain one",
     {{P_OPAQUE, "GWE_A", -HOUR, -1801}, FRESH("GWE_C")},
     "/",
     0,
     GWE_COOKIE_VALID,
     GWE_SOURCE_COOKIE,
     2,
     2,
     0},
};

START_TEST(sx_row_test)
{
    const sx_row *r = &sx_rows[_i];
    static const gwe_slice params[] = {{"alias", 5}};
    static const gwe_slice routes[] = {
        {"GWE_A", 5}, {"GWE_B", 5}, {"GWE_C", 5}};
    char ids[2], line[1024], v[GWE_SIGNED_MAX + 1];
    gwe_verify_conf vc;
    gwe_sticky_conf sc = {params, 1, {"ROUTEID", 7}, '.', &vc, NOW, 0};
    gwe_sticky_result res;
    gwe_slice cookie;
    size_t i, len = 0;
    guard g;

    ids_of("A", ids);
    memset(&vc, 0, sizeof vc);
    vc.mac = fake_mac;
    vc.mac_ctx = (void *)"A";
    vc.key_ids = ids;
    vc.nkeys = 1;
    vc.cookie_name = (gwe_slice){"ROUTEID", 7};
    vc.balancer = (gwe_slice){"balancer://gwe", 14};
    vc.maxidle = 1800;
    vc.maxlife = DAY;
    vc.opaque_id = fake_opaque_id;
    vc.opaque_ctx = (void *)"A";
    sc.legacy_accept = r->legacy_accept;
    line[0] = '\0';
    for (i = 0; i < 3 && r->parts[i].kind != P_NONE; i++) {
        const cookie_part *pt = &r->parts[i];

        if (pt->kind == P_TEXT) {
            snprintf(v, sizeof v, "%s", pt->text);
        } else {
            char id[GWE_OPAQUE_ID_LEN];
            const char *slot = pt->text;
            size_t slot_len = strlen(pt->text);

            if (pt->kind == P_OPAQUE) {
                gwe_slice route = {pt->text, slot_len};

                ck_assert_int_eq(
                    gwe_signed_opaque_id(fake_mac, "A", 0, route, id), 0);
                slot = id;
                slot_len = sizeof id;
            }
            sign(v, sizeof v, 'A', NOW + pt->issued, NOW + pt->refreshed, slot,
                 slot_len, "ROUTEID", "balancer://gwe");
            if (pt->kind == P_FLIPPED)
                v[GWE_SIGNED_PREFIX_LEN] ^= 1;
        }
        len += (size_t)snprintf(line + len, sizeof line - len,
                                "%sother=1; ROUTEID=%s", i ? "; " : "", v);
    }
    guard_init(&g);
    cookie.ptr = guard_dup(&g, line, len);
    cookie.len = len;
    gwe_sticky_extract(&sc, r->url, strlen(r->url), &cookie, len ? 1 : 0,
                       routes, 3, &res);
    ck_assert_msg(res.cookie_status == (int)r->status &&
                      res.source == r->source && res.route == r->route &&
                      res.cookie_route == r->cookie_route &&
                      res.cookie_refresh == r->refresh,
                  "%s: status %d source %d route %d cookie_route %d "
                  "refresh %d",
                  r->name, res.cookie_status, res.source, res.route,
                  res.cookie_route, res.cookie_refresh);
    if (r->cookie_route >= 0) { /* the issue time of the one that routes */
        for (i = 0;
             r->parts[i].kind != P_SIGNED &&
             !(r->parts[i].kind == P_OPAQUE && r->parts[i].refreshed > -1800);
             i++)
            ;
        ck_assert_int_eq(res.cookie_issued, NOW + r->parts[i].issued);
    }
    guard_release(&g);
}
END_TEST

Suite *suite_signed(void)
{
    Suite *s = suite_create("signed");
    TCase *tv = tcase_create("gwe_signed_verify");
    TCase *tp = tcase_create("gwe_signed_parse");
    TCase *tb = tcase_create("gwe_signed_build");
    TCase *tr = tcase_create("route and refresh");
    TCase *tx = tcase_create("gwe_sticky_extract with keys");

    tcase_add_loop_test(tv, verify_row_test, 0, (int)NELEMS(verify_rows));
    tcase_add_test(tv, memo_is_scoped);
    tcase_add_test(tv, garbage_is_malformed);
    tcase_add_test(tv, value_before_guard_page);
    tcase_add_loop_test(tp, parse_row_test, 0, (int)NELEMS(parse_rows));
    tcase_add_loop_test(tp, long_row_test, 0, (int)NELEMS(long_rows));
    tcase_add_loop_test(tb, only_cookie_octets_appear, 0, 16);
    tcase_add_test(tb, build_measures_then_writes);
    tcase_add_loop_test(tb, refuse_row_test, 0, (int)NELEMS(refuse_rows));
    tcase_add_test(tb, key_id_from_digest);
    tcase_add_loop_test(tr, index_row_test, 0, (int)NELEMS(index_rows));
    tcase_add_loop_test(tr, refresh_row_test, 0, (int)NELEMS(refresh_rows));
    tcase_add_loop_test(tr, visit_row_test, 0, (int)NELEMS(visit_rows));
    tcase_add_test(tr, status_names);
    tcase_add_test(tr, opaque_id_shape);
    tcase_add_loop_test(tr, member_row_test, 0, (int)NELEMS(member_rows));
    suite_add_tcase(s, tv);
    suite_add_tcase(s, tp);
    suite_add_tcase(s, tb);
    suite_add_tcase(s, tr);
    tcase_add_loop_test(tx, sx_row_test, 0, (int)NELEMS(sx_rows));
    suite_add_tcase(s, tx);
    return s;
}
