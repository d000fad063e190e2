/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_route.c - gwe_route_match (README 4.3).
 */
#include "testutil.h"

#define MAXR 5

typedef struct route_row {
    const char *name;
    lit value;
    char sep;
    lit routes[MAXR];
    size_t nroutes;
    int want;
} route_row;

#define R2(a, b) {L(a), L(b)}, 2
#define GWE3 {L("1"), L("Frontend.1"), L("GWE.Frontend.1")}, 3

static const route_row rows[] = {
    {"separator + route at the end names the member", L("sid.n1"), '.',
     R2("n1", "n2"), 0},
    {"second member", L("sid.n2"), '.', R2("n1", "n2"), 1},
    {"value of only separator + route", L(".n1"), '.', R2("n1", "n2"), 0},
    {"longest suffix wins: routes containing the separator",
     L("x.y.GWE.Frontend.1"), '.', GWE3, 2},
    {"longest suffix wins whatever the order of the members",
     L("x.y.GWE.Frontend.1"),
     '.',
     {L("GWE.Frontend.1"), L("Frontend.1"), L("1")},
     3,
     0},
    {"shorter route when the longer is not a whole suffix",
     L("x.yGWE.Frontend.1"), '.', GWE3, 1},
    {"route containing the separator as the whole value after one sep",
     L(".GWE.Frontend.1"), '.', GWE3, 2},
    {"route not preceded by the separator is not a match", L("sidn1"), '.',
     R2("n1", "n2"), -1},
    {"route at the end of a longer word is not a match", L("sid.xn1"), '.',
     R2("n1", "n2"), -1},
    {"value equal to the route without separator is not a match", L("n1"), '.',
     R2("n1", "n2"), -1},
    {"text after the route is not a match", L("sid.n1x"), '.', R2("n1", "n2"),
     -1},
    {"value ending with the separator is not a match", L("sid.n1."), '.',
     R2("n1", "n2"), -1},
    {"route text in the middle is not a match", L("sid.n1.zz"), '.',
     R2("n1", "n2"), -1},
    {"lone separator is no route", L("."), '.', R2("n1", "n2"), -1},
    {"value of only separators is no route", L("...."), '.', R2("n1", "n2"),
     -1},
    {"empty value is no route", L(""), '.', R2("n1", "n2"), -1},
    {"empty route never matches", L("sid."), '.', R2("", "n2"), -1},
    {"empty route is skipped, a route that is the separator matches", L("..."),
     '.', R2("", "."), 1},
    {"route matching is case-sensitive", L("sid.N1"), '.', R2("n1", "n2"), -1},
    {"unknown route is no route", L("sid.n9"), '.', R2("n1", "n2"), -1},
    {"other separator", L("sid-n1"), '-', R2("n1", "n2"), 0},
    {"default separator is not used when another is configured", L("sid.n1"),
     '-', R2("n1", "n2"), -1},
    {"duplicate routes: the first member",
     L("sid.n1"),
     '.',
     {L("n1"), L("n1")},
     2,
     0},
    {"NUL byte before the route is opaque", L("a\0b.n1"), '.', R2("n1", "n2"),
     0},
    {"control and non-ASCII bytes before the route are opaque",
     L("\x01\xff.n1"), '.', R2("n1", "n2"), 0},
    {"route with bytes a cookie must encode", L("sid.a b;c"), '.',
     R2("n1", "a b;c"), 1},
    {"route longer than the value", L(".n1"), '.', R2("xn1", "n2"), -1},
    {"no members", L("sid.n1"), '.', {NOLIT}, 0, -1},
};

START_TEST(route_row_test)
{
    const route_row *r = &rows[_i];
    gwe_slice routes[MAXR];
    const char *v;
    size_t i;
    int idx;
    guard g;

    guard_init(&g);
    for (i = 0; i < r->nroutes; i++) {
        routes[i].ptr = guard_dup(&g, r->routes[i].p, r->routes[i].n);
        routes[i].len = r->routes[i].n;
    }
    v = guard_dup(&g, r->value.p, r->value.n);
    idx = gwe_route_match(v, r->value.n, r->sep, routes, r->nroutes);
    ck_assert_msg(idx == r->want, "%s: route %d, want %d", r->name, idx,
                  r->want);
    guard_release(&g);
}
END_TEST

Suite *suite_route(void)
{
    Suite *s = suite_create("route");
    TCase *tc = tcase_create("gwe_route_match");

    tcase_add_loop_test(tc, route_row_test, 0, (int)NELEMS(rows));
    suite_add_tcase(s, tc);
    return s;
}
