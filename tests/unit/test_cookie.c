/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_cookie.c - gwe_cookie_iter_init / gwe_cookie_next (README 4.2).
 */
#include <stdio.h>
#include "testutil.h"

#define MAXV 4

typedef struct cookie_row {
    const char *name;
    lit header;
    const char *cookie; /* the name looked for; NULL: "ROUTEID" */
    lit want[MAXV];     /* the values, in order; unused entries NOLIT */
    size_t nwant;
    /* Large inputs: fills the header and the one expected value. */
    void (*build)(sb *header, sb *value);
} cookie_row;

#define V1(a) {L(a)}, 1
#define V2(a, b) {L(a), L(b)}, 2
#define V3(a, b, c) {L(a), L(b), L(c)}, 3
#define V0 {NOLIT}, 0

static void big_value(sb *h, sb *v)
{
    sb_str(h, "a=1; ROUTEID=");
    sb_rep(v, "x", 8192);
    sb_str(v, ".n1");
    sb_add(h, v->p, v->n);
    sb_str(h, "; b=2");
}

static void many_cookies(sb *h, sb *v)
{
    sb_rep(h, "c=v; ", 5000);
    sb_str(h, "ROUTEID=.n1");
    sb_str(v, ".n1");
}

static void many_commas(sb *h, sb *v)
{
    sb_str(h, "ROUTEID=");
    sb_rep(v, ",a b", 5000);
    sb_str(v, ".n1");
    sb_add(h, v->p, v->n);
}

static void many_joined_lines(sb *h, sb *v)
{
    sb_rep(h, "c=v, ", 5000);
    sb_str(h, "ROUTEID=.n1");
    sb_str(v, ".n1");
}

static void many_near_misses(sb *h, sb *v)
{
    (void)v;
    sb_rep(h, "XROUTEID=.n1;ROUTEIDX=.n1;ROUTEID;", 5000);
}

static const cookie_row rows[] = {
    {"single pair", L("ROUTEID=.n1"), NULL, V1(".n1"), NULL},
    {"pair between others with spaces", L("a=1; ROUTEID=.n1; b=2"), NULL,
     V1(".n1"), NULL},
    {"pairs without spaces", L("a=1;ROUTEID=.x;b=2"), NULL, V1(".x"), NULL},
    {"tab as optional whitespace", L("a=1;\tROUTEID=.x"), NULL, V1(".x"),
     NULL},
    {"leading separators are skipped", L("; ;ROUTEID=.x"), NULL, V1(".x"),
     NULL},
    {"spaces around = are tolerated", L("ROUTEID = .x"), NULL, V1(".x"), NULL},
    {"trailing whitespace is trimmed", L("ROUTEID=.x \t; a=1"), NULL, V1(".x"),
     NULL},
    /* exact names */
    {"substring name is not a match (XROUTEID)", L("XROUTEID=.x"), NULL, V0,
     NULL},
    {"longer name is not a match (ROUTEIDX)", L("ROUTEIDX=.x"), NULL, V0,
     NULL},
    {"name is case-sensitive", L("routeid=.x"), NULL, V0, NULL},
    {"name inside a value is not a pair", L("a=ROUTEID=.x"), NULL, V0, NULL},
    {"name alone is not a pair", L("ROUTEID"), NULL, V0, NULL},
    {"pair without = is skipped", L("foo; ROUTEID=.x"), NULL, V1(".x"), NULL},
    {"pair with an empty name is skipped", L("=x; ROUTEID=.y"), NULL, V1(".y"),
     NULL},
    {"other cookie name", L("ROUTEID=.a; JSESSIONID=s.b"), "JSESSIONID",
     V1("s.b"), NULL},
    /* quotes */
    {"quoted value is returned without quotes", L("ROUTEID=\".x\""), NULL,
     V1(".x"), NULL},
    {"quoted value with spaces around", L("ROUTEID= \".x\" ;a=1"), NULL,
     V1(".x"), NULL},
    {"empty quoted value", L("ROUTEID=\"\""), NULL, V1(""), NULL},
    {"lone quote is kept", L("ROUTEID=\""), NULL, V1("\""), NULL},
    {"unbalanced opening quote is kept", L("ROUTEID=\".x"), NULL, V1("\".x"),
     NULL},
    {"comma inside quotes stays in the value", L("ROUTEID=\"a,b.x\""), NULL,
     V1("a,b.x"), NULL},
    {"; inside quotes still ends the pair", L("ROUTEID=\"a;b.x\""), NULL,
     V1("\"a"), NULL},
    /* empty values */
    {"empty value", L("ROUTEID=; a=1"), NULL, V1(""), NULL},
    {"empty value at the end", L("ROUTEID="), NULL, V1(""), NULL},
    {"empty value does not take the next pair", L("ROUTEID=;b=.n2"), NULL,
     V1(""), NULL},
    {"value that is a lone separator", L("ROUTEID=."), NULL, V1("."), NULL},
    /* repeated names */
    {"repeated names are iterated in order",
     L("ROUTEID=.a; x=1; ROUTEID=.b; ROUTEID=.c"), NULL, V3(".a", ".b", ".c"),
     NULL},
    {"repeated names without spaces", L("ROUTEID=.a;ROUTEID=.b"), NULL,
     V2(".a", ".b"), NULL},
    /* commas: joined header lines */
    {"comma inside a value does not cut it", L("ROUTEID=abc,def.BE_2"), NULL,
     V1("abc,def.BE_2"), NULL},
    {"joined headers: comma, space, name= starts a pair", L("a=1, ROUTEID=.x"),
     NULL, V1(".x"), NULL},
    {"joined headers: comma without space", L("a=1,ROUTEID=.x"), NULL,
     V1(".x"), NULL},
    {"joined headers: route cookie before the comma", L("ROUTEID=.x, a=1"),
     NULL, V1(".x"), NULL},
    {"joined headers: repeated route cookies", L("ROUTEID=.a, ROUTEID=.b"),
     NULL, V2(".a", ".b"), NULL},
    {"joined headers: line without = before the comma", L("foo, ROUTEID=.x"),
     NULL, V1(".x"), NULL},
    {"comma followed by text without = stays in the value",
     L("ROUTEID=a, b c.x"), NULL, V1("a, b c.x"), NULL},
    {"comma followed by a non-token stays in the value", L("ROUTEID=a,/b=c.x"),
     NULL, V1("a,/b=c.x"), NULL},
    {"trailing comma stays in the value", L("ROUTEID=.x,"), NULL, V1(".x,"),
     NULL},
    /* bytes */
    {"value keeps its = signs", L("ROUTEID=a=b.x"), NULL, V1("a=b.x"), NULL},
    {"NUL byte in a value is data", L("ROUTEID=a\0b.x; c=1"), NULL,
     V1("a\0b.x"), NULL},
    {"control and non-ASCII bytes in a value are data",
     L("ROUTEID=\x01\xff.x"), NULL, V1("\x01\xff.x"), NULL},
    {"value stays percent-encoded", L("ROUTEID=.a%20b"), NULL, V1(".a%20b"),
     NULL},
    {"empty header", L(""), NULL, V0, NULL},
    {"header of separators only", L(";;; , ;\t,"), NULL, V0, NULL},
    {"empty cookie name never matches", L("=x"), "", V0, NULL},
    /* large inputs */
    {"8 KB value is returned whole", NOLIT, NULL, {NOLIT}, 1, big_value},
    {"5,000 cookies before the route cookie",
     NOLIT,
     NULL,
     {NOLIT},
     1,
     many_cookies},
    {"5,000 commas inside a value", NOLIT, NULL, {NOLIT}, 1, many_commas},
    {"5,000 joined header lines before the route cookie",
     NOLIT,
     NULL,
     {NOLIT},
     1,
     many_joined_lines},
    {"15,000 near-miss pairs never match",
     NOLIT,
     NULL,
     {NOLIT},
     0,
     many_near_misses},
};

START_TEST(cookie_row_test)
{
    const cookie_row *r = &rows[_i];
    const char *cname = r->cookie ? r->cookie : "ROUTEID";
    sb h = {0}, big = {0};
    gwe_cookie_iter it;
    gwe_slice v;
    const char *hp, *np;
    size_t k;
    guard g;

    guard_init(&g);
    if (r->build)
        r->build(&h, &big);
    else
        sb_add(&h, r->header.p, r->header.n);
    hp = guard_dup(&g, h.p, h.n);
    np = guard_str(&g, cname);
    gwe_cookie_iter_init(&it, hp, h.n);
    for (k = 0; k < r->nwant; k++) {
        const char *wp = r->build ? big.p : r->want[k].p;
        size_t wn = r->build ? big.n : r->want[k].n;

        ck_assert_msg(gwe_cookie_next(&it, np, strlen(cname), &v) == 1,
                      "%s: value %zu missing", r->name, k);
        ck_assert_msg(v.ptr >= hp && v.ptr + v.len <= hp + h.n,
                      "%s: value outside the header", r->name);
        ck_assert_msg(v.len == wn && (wn == 0 || memcmp(v.ptr, wp, wn) == 0),
                      "%s: value %zu is \"%.*s\", want \"%.*s\"", r->name, k,
                      (int)(v.len > 80 ? 80 : v.len), v.ptr,
                      (int)(wn > 80 ? 80 : wn), wp);
    }
    ck_assert_msg(gwe_cookie_next(&it, np, strlen(cname), &v) == 0,
                  "%s: unexpected value \"%.*s\"", r->name,
                  (int)(v.len > 80 ? 80 : v.len), v.ptr);
    ck_assert_msg(gwe_cookie_next(&it, np, strlen(cname), &v) == 0,
                  "%s: iterator does not stay at its end", r->name);
    sb_free(&h);
    sb_free(&big);
    guard_release(&g);
}
END_TEST

/*
 * The pair scanner works on blocks of 16 and 8 bytes and then byte by
 * byte: one row per value length from 0 to LEN_ROWS - 1 puts the end of
 * the value at every offset of a block, once at the very end of the
 * header (right before the unreadable page) and once before "; b=2".
 */
#define LEN_ROWS 48

START_TEST(value_length_row)
{
    char header[128], want[LEN_ROWS];
    int len = _i % LEN_ROWS, at_end = _i < LEN_ROWS;
    gwe_cookie_iter it;
    size_t hl;
    gwe_slice v;
    const char *h;
    guard g;
    int k;

    for (k = 0; k < len; k++)
        want[k] = (char)('a' + k % 26);
    hl = (size_t)snprintf(header, sizeof header, "a=1; ROUTEID=%.*s%s", len,
                          want, at_end ? "" : "; b=2");
    guard_init(&g);
    h = guard_dup(&g, header, hl);
    gwe_cookie_iter_init(&it, h, hl);
    ck_assert_msg(gwe_cookie_next(&it, "ROUTEID", 7, &v) == 1 &&
                      v.len == (size_t)len &&
                      memcmp(v.ptr, want, (size_t)len) == 0,
                  "value of %d bytes %s: got %zu bytes", len,
                  at_end ? "ending the header" : "before ;", v.len);
    ck_assert_int_eq(gwe_cookie_next(&it, "ROUTEID", 7, &v), 0);
    guard_release(&g);
}
END_TEST

/* ---- gwe_cookie_strip (indirect=on) ---------------------------------- */

typedef struct strip_row {
    const char *name;
    const char *header;
    const char *want; /* "" : the header goes */
    size_t removed;
} strip_row;

static const strip_row strip_rows[] = {
    {"only the route cookie: header goes", "ROUTEID=.n1", "", 1},
    {"first of three", "ROUTEID=.n1; a=1; b=2", "a=1; b=2", 1},
    {"middle of three", "a=1; ROUTEID=.n1; b=2", "a=1; b=2", 1},
    {"last of three", "a=1; b=2; ROUTEID=.n1", "a=1; b=2", 1},
    {"no spaces kept as sent", "a=1;ROUTEID=.n1;b=2", "a=1;b=2", 1},
    {"odd spacing of the others kept", "a = 1 ;  ROUTEID=.n1 ;b=\"q w\"",
     "a = 1 ;  b=\"q w\"", 1},
    {"quoted value with a ';'-free comma", "a=1; ROUTEID=\"x,y.n1\"; b=2",
     "a=1; b=2", 1},
    {"two route cookies", "ROUTEID=.n1; a=1; ROUTEID=.n2", "a=1", 2},
    {"joined lines (', ')", "a=1, ROUTEID=.n1, b=2", "a=1, b=2", 1},
    {"a name that only ends like it stays", "XROUTEID=1; ROUTEID=.n1",
     "XROUTEID=1", 1},
    {"a value that holds the name stays", "a=ROUTEID=.n1", "a=ROUTEID=.n1", 0},
    {"no route cookie: unchanged", "a=1; b=2", "a=1; b=2", 0},
    {"pair without '=' kept", "flag; ROUTEID=.n1; b=2", "flag; b=2", 1},
    {"empty route cookie value removed too", "a=1; ROUTEID=", "a=1", 1},
    {"trailing separator after the last pair", "a=1; ROUTEID=.n1;", "a=1; ",
     1},
    {"route cookie twice, nothing else", "ROUTEID=a; ROUTEID=b", "", 2},
};

START_TEST(strip_row_test)
{
    const strip_row *r = &strip_rows[_i];
    size_t len = strlen(r->header), n, removed = 99;
    char out[256];
    guard g;
    const char *h;

    guard_init(&g);
    h = guard_str(&g, r->header);
    memset(out, '#', sizeof out);
    n = gwe_cookie_strip(h, len, "ROUTEID", 7, out, len, &removed);
    ck_assert_msg(n == strlen(r->want) && memcmp(out, r->want, n) == 0 &&
                      removed == r->removed,
                  "%s: got \"%.*s\" (%zu removed), want \"%s\"", r->name,
                  (int)n, out, removed, r->want);
    guard_release(&g);
}
END_TEST

Suite *suite_cookie(void)
{
    Suite *s = suite_create("cookie");
    TCase *tc = tcase_create("gwe_cookie_next");
    TCase *tl = tcase_create("value lengths");
    TCase *ts = tcase_create("gwe_cookie_strip");

    tcase_add_loop_test(tc, cookie_row_test, 0, (int)NELEMS(rows));
    tcase_add_loop_test(tl, value_length_row, 0, 2 * LEN_ROWS);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tl);
    tcase_add_loop_test(ts, strip_row_test, 0, (int)NELEMS(strip_rows));
    suite_add_tcase(s, ts);
    return s;
}
