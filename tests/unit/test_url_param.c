/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_url_param.c - gwe_url_param_find (README 4.1).
 */
#include <stdio.h>
#include "testutil.h"

#define ALIAS                                                                 \
    {                                                                         \
        "alias", NULL                                                         \
    }

typedef struct url_row {
    const char *name;
    lit url;
    const char *names[4]; /* NULL-terminated */
    int want;             /* index of the name found, or -1 */
    lit value;            /* the raw value when want >= 0 */
    /* Large inputs: fills url and the expected value instead. */
    void (*build)(sb *url, sb *value);
} url_row;

static void big_value(sb *url, sb *value)
{
    sb_str(url, "/gwe/p?x=1&alias=");
    sb_rep(value, "v", 8192);
    sb_str(value, ".n1");
    sb_add(url, value->p, value->n);
    sb_str(url, "&y=2");
}

static void many_params_then_hit(sb *url, sb *value)
{
    sb_str(url, "/p?");
    sb_rep(url, "p=v&", 5000);
    sb_str(url, "alias=s.n1");
    sb_str(value, "s.n1");
}

static void many_params_miss(sb *url, sb *value)
{
    (void)value;
    sb_str(url, "/p?");
    sb_rep(url, "xalias=s.n1&aliasx=s.n1;", 5000);
}

static void many_path_params_then_hit(sb *url, sb *value)
{
    sb_str(url, "/a");
    sb_rep(url, ";p=v", 5000);
    sb_str(url, ";alias=s.n1/b");
    sb_str(value, "s.n1");
}

static void many_empty_params(sb *url, sb *value)
{
    (void)value;
    sb_str(url, "/p?");
    sb_rep(url, "&;", 5000);
    sb_str(url, "alias");
}

static void many_segments_then_hit(sb *url, sb *value)
{
    sb_rep(url, "/seg;x=1", 5000);
    sb_str(url, "?alias=s.n1");
    sb_str(value, "s.n1");
}

static const url_row rows[] = {
    /* query parameters */
    {"query param at the start of the query", L("/p?alias=s.n1"), ALIAS, 0,
     L("s.n1"), NULL},
    {"query param after &", L("/p?x=1&alias=s.n1"), ALIAS, 0, L("s.n1"), NULL},
    {"query param after ;", L("/p?x=1;alias=s.n1"), ALIAS, 0, L("s.n1"), NULL},
    {"query value ends at &", L("/p?alias=s.n1&y=2"), ALIAS, 0, L("s.n1"),
     NULL},
    {"query value ends at ;", L("/p?alias=s.n1;y=2"), ALIAS, 0, L("s.n1"),
     NULL},
    {"query value ends at #", L("/p?alias=s.n1#frag"), ALIAS, 0, L("s.n1"),
     NULL},
    {"query without a path", L("?alias=s.n1"), ALIAS, 0, L("s.n1"), NULL},
    {"the '?' itself starts no parameter (fuzz: read before the URL)",
     L("?s=x.n1"),
     {"?s", NULL},
     -1,
     NOLIT,
     NULL},
    {"a name starting with '?' still matches after '&'",
     L("/p?a=1&?s=x.n1"),
     {"?s", NULL},
     0,
     L("x.n1"),
     NULL},
    {"empty parameters before the name are skipped", L("/p?&&;;alias=s.n1"),
     ALIAS, 0, L("s.n1"), NULL},
    /* exact name bounds */
    {"substring name is not a match (xalias=)", L("/p?xalias=s.n1"), ALIAS, -1,
     NOLIT, NULL},
    {"longer name is not a match (aliasx=)", L("/p?aliasx=s.n1"), ALIAS, -1,
     NOLIT, NULL},
    {"substring name skipped, the real one later is found",
     L("/p?xalias=s.n1&alias=t.n2"), ALIAS, 0, L("t.n2"), NULL},
    {"name without = is not a match", L("/p?alias&x=s.n1"), ALIAS, -1, NOLIT,
     NULL},
    {"name at the very end of the URL is not a match", L("/p?alias"), ALIAS,
     -1, NOLIT, NULL},
    {"name with a space before = is not a match", L("/p?alias =s.n1"), ALIAS,
     -1, NOLIT, NULL},
    {"name inside another value is not a match", L("/p?x=alias=s.n1"), ALIAS,
     -1, NOLIT, NULL},
    {"? inside the query does not start a parameter", L("/p?x=1?alias=s.n1"),
     ALIAS, -1, NOLIT, NULL},
    {"name comparison is case-sensitive", L("/p?ALIAS=s.n1"), ALIAS, -1, NOLIT,
     NULL},
    {"percent-encoded name is not decoded", L("/p?al%69as=s.n1"), ALIAS, -1,
     NOLIT, NULL},
    {"configured name holding = never matches",
     L("/p?alias=x=s.n1"),
     {"alias=x", NULL},
     -1,
     NOLIT,
     NULL},
    /* values */
    {"empty value does not take the next token", L("/p?alias=&x=a.node2"),
     ALIAS, 0, L(""), NULL},
    {"empty value at the end of the URL", L("/p?alias="), ALIAS, 0, L(""),
     NULL},
    {"empty value before ;", L("/p?alias=;x=a.node2"), ALIAS, 0, L(""), NULL},
    {"value that is a lone separator", L("/p?alias=."), ALIAS, 0, L("."),
     NULL},
    {"value that is only separators", L("/p?alias=...."), ALIAS, 0, L("...."),
     NULL},
    {"value keeps its = signs", L("/p?alias=a=b.n1"), ALIAS, 0, L("a=b.n1"),
     NULL},
    {"value stays percent-encoded (%2E)", L("/p?alias=s%2En1"), ALIAS, 0,
     L("s%2En1"), NULL},
    {"value with a malformed escape is returned raw", L("/p?alias=%zz.n1"),
     ALIAS, 0, L("%zz.n1"), NULL},
    {"NUL byte in a value is data", L("/p?alias=a\0b.n1&y"), ALIAS, 0,
     L("a\0b.n1"), NULL},
    {"control and non-ASCII bytes in a value are data",
     L("/p?alias=\x01\xff.n1"), ALIAS, 0, L("\x01\xff.n1"), NULL},
    /* first occurrence */
    {"first occurrence wins", L("/p?alias=s.n1&alias=t.n2"), ALIAS, 0,
     L("s.n1"), NULL},
    {"first occurrence wins even when empty", L("/p?alias=&alias=t.n2"), ALIAS,
     0, L(""), NULL},
    {"path parameter comes before the query", L("/a;alias=p.n1?alias=q.n2"),
     ALIAS, 0, L("p.n1"), NULL},
    {"earliest of several names wins, whichever name",
     L("/p?sid=s.n2&alias=t.n1"),
     {"alias", "sid", NULL},
     1,
     L("s.n2"),
     NULL},
    {"second configured name alone is found",
     L("/p?x=1&sid=s.n2"),
     {"alias", "sid", NULL},
     1,
     L("s.n2"),
     NULL},
    {"shorter configured name that prefixes the parameter does not match",
     L("/p?alias=s.n1"),
     {"al", "alias", NULL},
     1,
     L("s.n1"),
     NULL},
    {"empty configured name is ignored",
     L("/p?=x&alias=s.n1"),
     {"", "alias", NULL},
     1,
     L("s.n1"),
     NULL},
    /* path parameters */
    {"path param in the last segment", L("/a/b;alias=s.n1"), ALIAS, 0,
     L("s.n1"), NULL},
    {"path param in a middle segment", L("/a;alias=s.n1/b/c"), ALIAS, 0,
     L("s.n1"), NULL},
    {"path param after another path param", L("/a;x=1;alias=s.n1/b"), ALIAS, 0,
     L("s.n1"), NULL},
    {"path param value ends at ?", L("/a;alias=s.n1?q=1"), ALIAS, 0, L("s.n1"),
     NULL},
    {"path param value ends at #", L("/a;alias=s.n1#f"), ALIAS, 0, L("s.n1"),
     NULL},
    {"path param value ends at ;", L("/a;alias=s.n1;x=2"), ALIAS, 0, L("s.n1"),
     NULL},
    {"path param value does not end at &", L("/a;alias=s&t.n1/b"), ALIAS, 0,
     L("s&t.n1"), NULL},
    {"empty path param value stays empty", L("/a;alias=/b.n1"), ALIAS, 0,
     L(""), NULL},
    {"path param at the very start", L(";alias=s.n1"), ALIAS, 0, L("s.n1"),
     NULL},
    {"path text without ; is not a parameter", L("/alias=s.n1/x"), ALIAS, -1,
     NOLIT, NULL},
    {"& in the path does not start a parameter", L("/a&alias=s.n1"), ALIAS, -1,
     NOLIT, NULL},
    {"segment named like the parameter is not a parameter", L("/alias/s.n1"),
     ALIAS, -1, NOLIT, NULL},
    {"substring path param is not a match", L("/a;xalias=s.n1"), ALIAS, -1,
     NOLIT, NULL},
    /* URL forms */
    {"scheme and host are skipped", L("http://h/p?alias=s.n1"), ALIAS, 0,
     L("s.n1"), NULL},
    {"; in the authority is not a path parameter", L("http://h;alias=s.n1/p"),
     ALIAS, -1, NOLIT, NULL},
    {"balancer URL with a query", L("balancer://gwe/p?alias=s.n1"), ALIAS, 0,
     L("s.n1"), NULL},
    {"mod_proxy filename form", L("proxy:balancer://gwe/p;alias=s.n1"), ALIAS,
     0, L("s.n1"), NULL},
    {"host and no path", L("http://h?alias=s.n1"), ALIAS, 0, L("s.n1"), NULL},
    {"fragment is not searched", L("/p#?alias=s.n1"), ALIAS, -1, NOLIT, NULL},
    {"fragment ends the path", L("/p#;alias=s.n1"), ALIAS, -1, NOLIT, NULL},
    {"empty URL", L(""), ALIAS, -1, NOLIT, NULL},
    {"URL that is only ?", L("?"), ALIAS, -1, NOLIT, NULL},
    {"URL that is only ;", L(";"), ALIAS, -1, NOLIT, NULL},
    {"no configured names", L("/p?alias=s.n1"), {NULL}, -1, NOLIT, NULL},
    /* large inputs */
    {"8 KB value is returned whole", NOLIT, ALIAS, 0, NOLIT, big_value},
    {"5,000 parameters before the one that matches", NOLIT, ALIAS, 0, NOLIT,
     many_params_then_hit},
    {"10,000 near-miss names (xalias=, aliasx=) never match", NOLIT, ALIAS, -1,
     NOLIT, many_params_miss},
    {"5,000 path parameters before the one that matches", NOLIT, ALIAS, 0,
     NOLIT, many_path_params_then_hit},
    {"10,000 empty parameters then a bare name", NOLIT, ALIAS, -1, NOLIT,
     many_empty_params},
    {"5,000 segments with path parameters, then the query", NOLIT, ALIAS, 0,
     NOLIT, many_segments_then_hit},
};

START_TEST(url_param_row)
{
    const url_row *r = &rows[_i];
    sb url = {0}, want = {0};
    gwe_slice names[4];
    gwe_slice v = {NULL, 12345};
    size_t n = 0;
    const char *u;
    int idx;
    guard g;

    guard_init(&g);
    if (r->build)
        r->build(&url, &want);
    else {
        sb_add(&url, r->url.p, r->url.n);
        sb_add(&want, r->value.p, r->value.n);
    }
    for (n = 0; r->names[n]; n++) {
        names[n].ptr = guard_str(&g, r->names[n]);
        names[n].len = strlen(r->names[n]);
    }
    u = guard_dup(&g, url.p, url.n);
    idx = gwe_url_param_find(u, url.n, names, n, &v);
    ck_assert_msg(idx == r->want, "%s: index %d, want %d", r->name, idx,
                  r->want);
    /* the module skips the search when this says there is nothing */
    ck_assert_msg(idx < 0 || gwe_url_has_params(u, url.n),
                  "%s: found a parameter gwe_url_has_params ruled out",
                  r->name);
    if (r->want >= 0) {
        ck_assert_msg(v.ptr >= u && v.ptr + v.len <= u + url.n,
                      "%s: value outside the URL", r->name);
        ck_assert_msg(v.len == want.n &&
                          (want.n == 0 || memcmp(v.ptr, want.p, want.n) == 0),
                      "%s: value \"%.*s\", want \"%.*s\"", r->name,
                      (int)(v.len > 80 ? 80 : v.len), v.ptr,
                      (int)(want.n > 80 ? 80 : want.n), want.p);
    }
    sb_free(&url);
    sb_free(&want);
    guard_release(&g);
}
END_TEST

/*
 * The delimiter scanner works on blocks of 16 and 8 bytes and then byte by
 * byte: one row per value length from 0 to LEN_ROWS - 1 puts the end of
 * the value at every offset of a block, once at the very end of the input
 * (right before the unreadable page) and once before a '&'.
 */
#define LEN_ROWS 48

START_TEST(value_length_row)
{
    char url[128], want[LEN_ROWS];
    static const gwe_slice name = {"alias", 5};
    int len = _i % LEN_ROWS, at_end = _i < LEN_ROWS;
    size_t ul;
    gwe_slice v;
    const char *u;
    guard g;
    int k;

    for (k = 0; k < len; k++)
        want[k] = (char)('a' + k % 26);
    ul = (size_t)snprintf(url, sizeof url, "/p?x=1&alias=%.*s%s", len, want,
                          at_end ? "" : "&y=2");
    guard_init(&g);
    u = guard_dup(&g, url, ul);
    ck_assert_msg(gwe_url_param_find(u, ul, &name, 1, &v) == 0 &&
                      v.len == (size_t)len &&
                      memcmp(v.ptr, want, (size_t)len) == 0,
                  "value of %d bytes %s: got %zu bytes", len,
                  at_end ? "ending the URL" : "before &", v.len);
    guard_release(&g);
}
END_TEST

/* GWELBStickyParam names: exactly what the parser can match whole. */
static const struct {
    const char *why;
    const char *name;
    size_t len;
    int valid;
} name_rows[] = {
    {"a plain name is valid", "alias", 5, 1},
    {"token characters are valid", "gwe.alias-1_x~", 14, 1},
    {"the empty name is refused", "", 0, 0},
    {"'=' would end the name early", "a=b", 3, 0},
    {"'&' is a parameter bound", "a&b", 3, 0},
    {"';' is a parameter bound", "a;b", 3, 0},
    {"'?' starts the query", "?a", 2, 0},
    {"'#' ends the URL", "a#", 2, 0},
    {"'/' ends a path parameter", "a/b", 3, 0},
    {"'%' would be an escape", "a%2E", 4, 0},
    {"a space is not a token", "a b", 3, 0},
    {"a NUL byte is not a token", "a\0b", 3, 0},
    {"a non-ASCII byte is not a token", "\xc3\xa9", 2, 0},
};

START_TEST(param_name_row)
{
    guard g;
    const char *n;

    guard_init(&g);
    n = guard_dup(&g, name_rows[_i].name, name_rows[_i].len);
    ck_assert_msg(gwe_param_name_valid(n, name_rows[_i].len) ==
                      name_rows[_i].valid,
                  "%s", name_rows[_i].why);
    guard_release(&g);
}
END_TEST

/* '?' or ';' anywhere, and only those, can start a parameter. */
START_TEST(has_params)
{
    ck_assert_int_eq(gwe_url_has_params(NULL, 0), 0);
    ck_assert_int_eq(gwe_url_has_params("", 0), 0);
    ck_assert_int_eq(gwe_url_has_params("/a/b&alias=x.n1", 15), 0);
    ck_assert_int_eq(gwe_url_has_params("/?", 2), 1);
    ck_assert_int_eq(gwe_url_has_params("/a;alias=x.n1", 13), 1);
    /* the length bounds the look: a '?' past it is not seen */
    ck_assert_int_eq(gwe_url_has_params("/a?b", 2), 0);
}
END_TEST

Suite *suite_url_param(void)
{
    Suite *s = suite_create("url_param");
    TCase *tc = tcase_create("gwe_url_param_find");
    TCase *tl = tcase_create("value lengths");

    tcase_add_loop_test(tc, url_param_row, 0, (int)NELEMS(rows));
    tcase_add_test(tc, has_params);
    tcase_add_loop_test(tl, value_length_row, 0, 2 * LEN_ROWS);
    tcase_add_loop_test(tl, param_name_row, 0, (int)NELEMS(name_rows));
    suite_add_tcase(s, tc);
    suite_add_tcase(s, tl);
    return s;
}
