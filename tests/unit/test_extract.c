/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_extract.c - gwe_sticky_extract (README 4.1 - 4.3): the order of the
 * sources and what counts as "no route".
 */
#include "testutil.h"

/* The members of the balancer in every row. */
static const char *const members[] = {"n1", "n2", "GWE.Frontend.1", "1"};
enum { N1, N2, GFE1, ONE };

#define NONE GWE_SOURCE_NONE
#define PARAM GWE_SOURCE_PARAM
#define COOKIE GWE_SOURCE_COOKIE

typedef struct extract_row {
    const char *name;
    lit url;
    lit cookies[2];
    size_t ncookies;
    int conf; /* 0: alias + ROUTEID, '.'; see confs[] */
    enum gwe_route_source source;
    int route, param, cookie_route;
    /* Large inputs: fills url and the first Cookie header instead. */
    void (*build)(sb *url, sb *cookie);
} extract_row;

static const gwe_slice alias_sid[] = {{"alias", 5}, {"sid", 3}};

static const gwe_sticky_conf confs[] = {
    {alias_sid, 1, {"ROUTEID", 7}, '.', NULL, 0, 0}, /* 0: the usual */
    {alias_sid, 2, {"ROUTEID", 7}, '.', NULL, 0, 0}, /* 1: two parameter names
                                                      */
    {alias_sid, 1, {"", 0}, '.', NULL, 0, 0},        /* 2: no route cookie */
    {NULL, 0, {"ROUTEID", 7}, '.', NULL, 0, 0},      /* 3: no parameter */
    {alias_sid, 1, {"ROUTEID", 7}, '-', NULL, 0, 0}, /* 4: separator '-' */
};

#define C0 {NOLIT}, 0
#define C1(a) {L(a)}, 1
#define C2(a, b) {L(a), L(b)}, 2

static void typical_param(sb *url, sb *cookie)
{
    sb_str(url, "/gwe/api/v1/notifications?");
    sb_rep(url, "field=value&", 20);
    sb_str(url, "alias=7d1c0a66-9b2e-4e0f-8f53-1b2d3c4e5f60.n2&x=1");
    sb_str(cookie, "_ga=GA1.2.3; lang=en; sess=abcdef; ROUTEID=.n1");
}

static void big_param_value(sb *url, sb *cookie)
{
    sb_str(url, "/p?alias=");
    sb_rep(url, "%41", 3000);
    sb_str(url, "%2EGWE%2EFrontend%2E1");
    (void)cookie;
}

static void big_bad_cookie(sb *url, sb *cookie)
{
    sb_str(url, "/p");
    sb_str(cookie, "ROUTEID=%zz");
    sb_rep(cookie, "x", 8192);
    sb_str(cookie, ".n1");
}

static void many_params(sb *url, sb *cookie)
{
    sb_str(url, "/p?");
    sb_rep(url, "alias2=x.n2&", 5000);
    sb_str(url, "alias=x.n1");
    (void)cookie;
}

static void many_cookies(sb *url, sb *cookie)
{
    sb_str(url, "/p?x=1");
    sb_rep(cookie, "ROUTEID=.nope; ", 5000);
    sb_str(cookie, "ROUTEID=.n2");
}

static const extract_row rows[] = {
    {"param names a member", L("/p?alias=s.n1"), C0, 0, PARAM, N1, 0, -1,
     NULL},
    {"param beats the cookie; cookie_route still computed", L("/p?alias=s.n1"),
     C1("ROUTEID=.n2"), 0, PARAM, N1, 0, N2, NULL},
    {"param and cookie agree", L("/p?alias=s.n1"), C1("ROUTEID=.n1"), 0, PARAM,
     N1, 0, N1, NULL},
    {"unknown param route falls back to the cookie", L("/p?alias=s.n9"),
     C1("ROUTEID=.n2"), 0, COOKIE, N2, -1, N2, NULL},
    {"malformed escape in the param falls back to the cookie",
     L("/p?alias=%zz.n1"), C1("ROUTEID=.n2"), 0, COOKIE, N2, -1, N2, NULL},
    {"empty param value does not take the next token", L("/p?alias=&x=a.n2"),
     C0, 0, NONE, -1, -1, -1, NULL},
    {"lone separator in the param is no route", L("/p?alias=."), C0, 0, NONE,
     -1, -1, -1, NULL},
    {"substring param name is not a match", L("/p?xalias=s.n1"), C0, 0, NONE,
     -1, -1, -1, NULL},
    {"%2E in the param is the separator", L("/p?alias=s%2En1"), C0, 0, PARAM,
     N1, 0, -1, NULL},
    {"%00 before the route does not spoil the param", L("/p?alias=a%00.n1"),
     C0, 0, PARAM, N1, 0, -1, NULL},
    {"longest route suffix from the param", L("/p?alias=x.y.GWE.Frontend.1"),
     C0, 0, PARAM, GFE1, 0, -1, NULL},
    {"path param in a middle segment", L("/a;alias=s.n2/b?x=1"), C0, 0, PARAM,
     N2, 0, -1, NULL},
    {"first occurrence decides: a later valid param is ignored",
     L("/p?alias=s.n9&alias=s.n1"), C0, 0, NONE, -1, -1, -1, NULL},
    {"second configured param name", L("/p?sid=s.n2"), C0, 1, PARAM, N2, 1, -1,
     NULL},
    {"no parameter configured: the URL is ignored", L("/p?alias=s.n1"),
     C1("ROUTEID=.n2"), 3, COOKIE, N2, -1, N2, NULL},
    {"separator '-'", L("/p?alias=s-n1"), C0, 4, PARAM, N1, 0, -1, NULL},
    {"separator '-': a '.' value is no route", L("/p?alias=s.n1"), C0, 4, NONE,
     -1, -1, -1, NULL},
    /* cookies */
    {"no param, no cookie", L("/p"), C0, 0, NONE, -1, -1, -1, NULL},
    {"cookie only", L("/p"), C1("a=1; ROUTEID=.n2"), 0, COOKIE, N2, -1, N2,
     NULL},
    {"first cookie value that names a member wins", L("/p"),
     C1("ROUTEID=.zz; ROUTEID=.n2; ROUTEID=.n1"), 0, COOKIE, N2, -1, N2, NULL},
    {"malformed cookie escape is skipped, the next value is used", L("/p"),
     C1("ROUTEID=%zz.n1; ROUTEID=.n2"), 0, COOKIE, N2, -1, N2, NULL},
    {"route cookie over two header lines, in order", L("/p"),
     C2("ROUTEID=.bad", "ROUTEID=.n1"), 0, COOKIE, N1, -1, N1, NULL},
    {"first header line wins over the second", L("/p"),
     C2("ROUTEID=.n2", "ROUTEID=.n1"), 0, COOKIE, N2, -1, N2, NULL},
    {"joined header lines", L("/p"), C1("a=1, ROUTEID=.n2"), 0, COOKIE, N2, -1,
     N2, NULL},
    {"quoted cookie", L("/p"), C1("ROUTEID=\".n1\""), 0, COOKIE, N1, -1, N1,
     NULL},
    {"comma inside the cookie value", L("/p"), C1("ROUTEID=abc,def.n2"), 0,
     COOKIE, N2, -1, N2, NULL},
    {"percent-encoded cookie value", L("/p"),
     C1("ROUTEID=.GWE%2EFrontend%2E1"), 0, COOKIE, GFE1, -1, GFE1, NULL},
    {"empty cookie value is no route", L("/p"), C1("ROUTEID="), 0, NONE, -1,
     -1, -1, NULL},
    {"cookie of another name is ignored", L("/p"), C1("XROUTEID=.n1"), 0, NONE,
     -1, -1, -1, NULL},
    {"no route cookie configured: cookies are ignored", L("/p"),
     C1("ROUTEID=.n1"), 2, NONE, -1, -1, -1, NULL},
    {"unknown cookie route with a param hit", L("/p?alias=s.n1"),
     C1("ROUTEID=.n9"), 0, PARAM, N1, 0, -1, NULL},
    {"empty URL", L(""), C1("ROUTEID=.1"), 0, COOKIE, ONE, -1, ONE, NULL},
    /* large inputs */
    {"typical GWE request, param hit",
     NOLIT,
     {NOLIT},
     1,
     0,
     PARAM,
     N2,
     0,
     N1,
     typical_param},
    {"9 KB param value of escapes", NOLIT, C0, 0, PARAM, GFE1, 0, -1,
     big_param_value},
    {"8 KB cookie value with a malformed escape first",
     NOLIT,
     {NOLIT},
     1,
     0,
     NONE,
     -1,
     -1,
     -1,
     big_bad_cookie},
    {"5,000 near-miss params before the param", NOLIT, C0, 0, PARAM, N1, 0, -1,
     many_params},
    {"5,000 unknown cookie values before the member's",
     NOLIT,
     {NOLIT},
     1,
     0,
     COOKIE,
     N2,
     -1,
     N2,
     many_cookies},
};

/* The members' routes, each in its own guarded copy. */
static void guard_members(guard *g, gwe_slice routes[NELEMS(members)])
{
    size_t i;

    for (i = 0; i < NELEMS(members); i++) {
        routes[i].ptr = guard_str(g, members[i]);
        routes[i].len = strlen(members[i]);
    }
}

START_TEST(extract_row_test)
{
    const extract_row *r = &rows[_i];
    gwe_slice routes[NELEMS(members)], cookies[2];
    gwe_sticky_result res;
    sb url = {0}, big = {0};
    const char *u;
    size_t i;
    guard g;

    guard_init(&g);
    guard_members(&g, routes);
    if (r->build) {
        r->build(&url, &big);
        cookies[0].ptr = guard_dup(&g, big.p, big.n);
        cookies[0].len = big.n;
    } else {
        sb_add(&url, r->url.p, r->url.n);
        for (i = 0; i < r->ncookies; i++) {
            cookies[i].ptr = guard_dup(&g, r->cookies[i].p, r->cookies[i].n);
            cookies[i].len = r->cookies[i].n;
        }
    }
    u = guard_dup(&g, url.p, url.n);
    memset(&res, 0x55, sizeof res);
    gwe_sticky_extract(&confs[r->conf], u, url.n, cookies, r->ncookies, routes,
                       NELEMS(members), &res);
    ck_assert_msg(res.source == r->source && res.route == r->route &&
                      res.param == r->param &&
                      res.cookie_route == r->cookie_route,
                  "%s: got source %d route %d param %d cookie_route %d, "
                  "want %d %d %d %d",
                  r->name, res.source, res.route, res.param, res.cookie_route,
                  r->source, r->route, r->param, r->cookie_route);
    sb_free(&url);
    sb_free(&big);
    guard_release(&g);
}
END_TEST

/* gwe_sticky_result.unknown: a value that was sent but names no member
 * (server-status counts it as Unknown). */
#define UP GWE_UNKNOWN_PARAM
#define UC GWE_UNKNOWN_COOKIE

typedef struct unknown_row {
    const char *name;
    lit url;
    lit cookies[2];
    size_t ncookies;
    int conf;
    unsigned unknown;
} unknown_row;

static const unknown_row unknown_rows[] = {
    {"no param, no cookie: nothing unknown", L("/p?x=1"), C1("a=1"), 0, 0},
    {"param naming a member is not unknown", L("/p?alias=s.n1"), C0, 0, 0},
    {"param naming no member", L("/p?alias=s.n9"), C0, 0, UP},
    {"empty param value names no member", L("/p?alias="), C0, 0, UP},
    {"malformed escape in the param", L("/p?alias=%zz.n1"), C0, 0, UP},
    {"substring param name was not sent", L("/p?xalias=s.n9"), C0, 0, 0},
    {"only the first occurrence counts", L("/p?alias=s.n1&alias=s.n9"), C0, 0,
     0},
    {"unknown param, then the cookie routes", L("/p?alias=s.n9"),
     C1("ROUTEID=.n2"), 0, UP},
    {"cookie naming no member", L("/p"), C1("ROUTEID=.n9"), 0, UC},
    {"empty cookie value", L("/p"), C1("ROUTEID="), 0, UC},
    {"a later value names a member: not unknown", L("/p"),
     C1("ROUTEID=.n9; ROUTEID=.n2"), 0, 0},
    {"a value on the second line names a member", L("/p"),
     C2("ROUTEID=.n9", "ROUTEID=.n1"), 0, 0},
    {"cookie of another name was not sent", L("/p"), C1("XROUTEID=.n9"), 0, 0},
    {"both unknown", L("/p?alias=x"), C1("ROUTEID=.n9"), 0, UP | UC},
    {"param routes, the cookie is still unknown", L("/p?alias=s.n1"),
     C1("ROUTEID=.zz"), 0, UC},
    {"no route cookie configured: cookies are not looked at", L("/p"),
     C1("ROUTEID=.n9"), 2, 0},
    {"no parameter configured: the URL is not looked at", L("/p?alias=s.n9"),
     C0, 3, 0},
};

START_TEST(unknown_row_test)
{
    const unknown_row *r = &unknown_rows[_i];
    gwe_slice routes[NELEMS(members)], cookies[2];
    gwe_sticky_result res;
    const char *u;
    size_t i;
    guard g;

    guard_init(&g);
    guard_members(&g, routes);
    for (i = 0; i < r->ncookies; i++) {
        cookies[i].ptr = guard_dup(&g, r->cookies[i].p, r->cookies[i].n);
        cookies[i].len = r->cookies[i].n;
    }
    u = guard_dup(&g, r->url.p, r->url.n);
    memset(&res, 0x55, sizeof res);
    gwe_sticky_extract(&confs[r->conf], u, r->url.n, cookies, r->ncookies,
                       routes, NELEMS(members), &res);
    ck_assert_msg(res.unknown == r->unknown, "%s: got unknown %u, want %u",
                  r->name, res.unknown, r->unknown);
    guard_release(&g);
}
END_TEST

Suite *suite_extract(void)
{
    Suite *s = suite_create("extract");
    TCase *tc = tcase_create("gwe_sticky_extract");

    tcase_add_loop_test(tc, extract_row_test, 0, (int)NELEMS(rows));
    tcase_add_loop_test(tc, unknown_row_test, 0, (int)NELEMS(unknown_rows));
    suite_add_tcase(s, tc);
    return s;
}
