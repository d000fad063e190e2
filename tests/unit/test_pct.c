/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_pct.c - gwe_pct_decode_tail and gwe_cookie_encode.
 */
#include "testutil.h"

#define CAP (GWE_ROUTE_MAX + 1)

typedef struct decode_row {
    const char *name;
    lit in;
    size_t cap;
    int rc;
    lit want; /* the decoded tail when rc == 0 */
    /* Large inputs: fills in and the expected tail instead. */
    void (*build)(sb *in, sb *want);
} decode_row;

static void big_plain(sb *in, sb *want)
{
    sb_rep(in, "a%2Eb", 4000);
    sb_str(in, "%2Ex.GWE%2EFrontend%2E1");
    sb_rep(want, "a.b", 80); /* 240 bytes + 16 */
    sb_str(want, ".x.GWE.Frontend.1");
    /* want holds the last CAP bytes of the decoded value */
    memmove(want->p, want->p + (want->n - CAP), CAP);
    want->n = CAP;
}

static void big_bad_at_start(sb *in, sb *want)
{
    (void)want;
    sb_str(in, "%z1");
    sb_rep(in, "x", 8192);
    sb_str(in, ".n1");
}

static void big_bad_at_end(sb *in, sb *want)
{
    (void)want;
    sb_rep(in, "%41", 3000);
    sb_str(in, ".n1%4");
}

static const decode_row decode_rows[] = {
    {"plain text is copied", L("abc"), CAP, 0, L("abc"), NULL},
    {"%2E is .", L("a%2Eb"), CAP, 0, L("a.b"), NULL},
    {"lower-case hex digits", L("a%2eb"), CAP, 0, L("a.b"), NULL},
    {"escaped separators in a route", L("x%2EGWE%2EFrontend%2E1"), CAP, 0,
     L("x.GWE.Frontend.1"), NULL},
    {"%zz is malformed", L("a%zz.n1"), CAP, -1, NOLIT, NULL},
    {"trailing % is malformed", L("abc.n1%"), CAP, -1, NOLIT, NULL},
    {"%4 at the end is malformed", L("abc.n1%4"), CAP, -1, NOLIT, NULL},
    {"%4 followed by a non-hex byte is malformed", L("%4g.n1"), CAP, -1, NOLIT,
     NULL},
    {"%% is malformed", L("a%%41"), CAP, -1, NOLIT, NULL},
    {"malformed escape before the tail spoils the value", L("%zzaaaaaaa.n1"),
     3, -1, NOLIT, NULL},
    {"%00 decodes to a NUL byte", L("a%00.n1"), CAP, 0, L("a\0.n1"), NULL},
    {"%FF decodes to byte 0xFF", L("%FF%ff"), CAP, 0, L("\xff\xff"), NULL},
    {"+ stays +", L("a+b"), CAP, 0, L("a+b"), NULL},
    {"%25 decodes to % and is not decoded again", L("%2541"), CAP, 0, L("%41"),
     NULL},
    {"raw NUL and non-ASCII bytes pass through", L("\0\xe9.n1"), CAP, 0,
     L("\0\xe9.n1"), NULL},
    {"empty input", L(""), CAP, 0, L(""), NULL},
    {"only escapes", L("%2E%2E"), CAP, 0, L(".."), NULL},
    {"only the tail is written when cap is smaller", L("abcdef"), 3, 0,
     L("def"), NULL},
    {"tail that starts inside an escape", L("ab%2Ecd"), 3, 0, L(".cd"), NULL},
    {"tail that ends with an escape", L("abc%2E"), 2, 0, L("c."), NULL},
    {"cap equal to the decoded length", L("a%2Eb"), 3, 0, L("a.b"), NULL},
    {"cap 0 writes nothing but still validates", L("a%zz"), 0, -1, NOLIT,
     NULL},
    {"cap 0 on a valid value", L("abc"), 0, 0, L(""), NULL},
    {"8 KB of escapes: the tail is decoded", NOLIT, CAP, 0, NOLIT, big_plain},
    {"malformed escape before 8 KB of text", NOLIT, CAP, -1, NOLIT,
     big_bad_at_start},
    {"malformed escape after 9 KB of escapes", NOLIT, CAP, -1, NOLIT,
     big_bad_at_end},
};

START_TEST(decode_row_test)
{
    const decode_row *r = &decode_rows[_i];
    sb in = {0}, want = {0};
    char out[CAP + 1];
    size_t n = 999;
    const char *p;
    int rc;
    guard g;

    guard_init(&g);
    if (r->build)
        r->build(&in, &want);
    else {
        sb_add(&in, r->in.p, r->in.n);
        sb_add(&want, r->want.p, r->want.n);
    }
    p = guard_dup(&g, in.p, in.n);
    memset(out, '#', sizeof out);
    rc = gwe_pct_decode_tail(p, in.n, out, r->cap, &n);
    ck_assert_msg(rc == r->rc, "%s: rc %d, want %d", r->name, rc, r->rc);
    ck_assert_msg(out[r->cap] == '#', "%s: wrote past cap", r->name);
    if (rc == 0)
        ck_assert_msg(n == want.n && (n == 0 || memcmp(out, want.p, n) == 0),
                      "%s: decoded \"%.*s\", want \"%.*s\"", r->name, (int)n,
                      out, (int)want.n, want.p);
    sb_free(&in);
    sb_free(&want);
    guard_release(&g);
}
END_TEST

typedef struct encode_row {
    const char *name;
    lit in;
    lit want;
} encode_row;

static const encode_row encode_rows[] = {
    {"cookie-octets are unchanged", L("GWE_Frontend.1-a~b!#$&'()*+/:<=>?@[]"),
     L("GWE_Frontend.1-a~b!#$&'()*+/:<=>?@[]")},
    {"space is encoded", L("a b"), L("a%20b")},
    {"; is encoded", L("a;b"), L("a%3Bb")},
    {", is encoded", L("a,b"), L("a%2Cb")},
    {"double quote is encoded", L("a\"b"), L("a%22b")},
    {"backslash is encoded", L("a\\b"), L("a%5Cb")},
    {"% is encoded so decoding gives it back", L("100%"), L("100%25")},
    {"non-ASCII bytes are encoded upper-case", L("caf\xc3\xa9"),
     L("caf%C3%A9")},
    {"control bytes, NUL and DEL are encoded", L("\x01\0\x7f"),
     L("%01%00%7F")},
    {"empty route", L(""), L("")},
};

START_TEST(encode_row_test)
{
    const encode_row *r = &encode_rows[_i];
    const char *p;
    char out[128];
    size_t n;
    guard g;

    guard_init(&g);
    p = guard_dup(&g, r->in.p, r->in.n);
    n = gwe_cookie_encode(p, r->in.n, NULL, 0);
    ck_assert_msg(n == r->want.n, "%s: measured %zu, want %zu", r->name, n,
                  r->want.n);
    if (n > 0) {
        memset(out, '#', sizeof out);
        ck_assert_uint_eq(gwe_cookie_encode(p, r->in.n, out, n - 1), n);
        ck_assert_msg(out[0] == '#', "%s: wrote with a short buffer", r->name);
    }
    memset(out, '#', sizeof out);
    ck_assert_uint_eq(gwe_cookie_encode(p, r->in.n, out, n), n);
    ck_assert_msg(memcmp(out, r->want.p, n) == 0 && out[n] == '#',
                  "%s: encoded \"%.*s\", want \"%s\"", r->name, (int)n, out,
                  r->want.p);
    guard_release(&g);
}
END_TEST

/* Every byte alone: it stands for itself exactly when it is an RFC 6265
 * cookie-octet other than '%' (README 4.5), else it becomes %XX. */
START_TEST(encode_every_byte)
{
    static const char hex[] = "0123456789ABCDEF";
    int c;

    for (c = 0; c < 256; c++) {
        char in = (char)c, out[4] = {0};
        int plain = c >= 0x21 && c <= 0x7e && c != '"' && c != ',' &&
                    c != ';' && c != '\\' && c != '%';
        size_t n = gwe_cookie_encode(&in, 1, out, sizeof out);

        ck_assert_msg(n == (plain ? 1u : 3u), "byte 0x%02x: length %zu", c, n);
        if (plain)
            ck_assert_msg(out[0] == in, "byte 0x%02x changed", c);
        else
            ck_assert_msg(out[0] == '%' && out[1] == hex[c >> 4] &&
                              out[2] == hex[c & 15],
                          "byte 0x%02x: \"%.3s\"", c, out);
    }
}
END_TEST

Suite *suite_pct(void)
{
    Suite *s = suite_create("pct");
    TCase *tc = tcase_create("gwe_pct_decode_tail");
    TCase *te = tcase_create("gwe_cookie_encode");

    tcase_add_loop_test(tc, decode_row_test, 0, (int)NELEMS(decode_rows));
    tcase_add_loop_test(te, encode_row_test, 0, (int)NELEMS(encode_rows));
    tcase_add_test(te, encode_every_byte);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, te);
    return s;
}
