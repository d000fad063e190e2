/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_set_cookie.c - gwe_set_cookie_build: exact header values, and the
 * round trip of every route through Set-Cookie, the browser's Cookie header
 * and gwe_sticky_extract.
 */
#include <stdio.h>
#include "testutil.h"

#define MAXW 8

typedef struct build_row {
    const char *name;
    const char *cookie; /* NULL: ROUTEID */
    char sep;           /* 0: '.' */
    lit route;
    const char *words[MAXW]; /* GWELBRouteCookie attributes */
    int is_tls;
    const char *want;
} build_row;

static const build_row build_rows[] = {
    {"defaults over HTTP",
     NULL,
     0,
     L("n1"),
     {NULL},
     0,
     "ROUTEID=.n1; Path=/; HttpOnly"},
    {"defaults over TLS: secure=auto gives Secure",
     NULL,
     0,
     L("n1"),
     {NULL},
     1,
     "ROUTEID=.n1; Path=/; Secure; HttpOnly"},
    {"secure=on over HTTP",
     NULL,
     0,
     L("n1"),
     {"secure=on", NULL},
     0,
     "ROUTEID=.n1; Path=/; Secure; HttpOnly"},
    {"secure=off over TLS",
     NULL,
     0,
     L("n1"),
     {"secure=off", NULL},
     1,
     "ROUTEID=.n1; Path=/; HttpOnly"},
    {"httponly=off",
     NULL,
     0,
     L("n1"),
     {"httponly=off", NULL},
     0,
     "ROUTEID=.n1; Path=/"},
    {"path",
     NULL,
     0,
     L("n1"),
     {"path=/gwe", NULL},
     0,
     "ROUTEID=.n1; Path=/gwe; HttpOnly"},
    {"domain",
     NULL,
     0,
     L("n1"),
     {"domain=.example.com", NULL},
     0,
     "ROUTEID=.n1; Path=/; Domain=.example.com; HttpOnly"},
    {"max-age",
     NULL,
     0,
     L("n1"),
     {"max-age=3600", NULL},
     0,
     "ROUTEID=.n1; Path=/; Max-Age=3600; HttpOnly"},
    {"max-age at its maximum",
     NULL,
     0,
     L("n1"),
     {"max-age=2147483647", NULL},
     0,
     "ROUTEID=.n1; Path=/; Max-Age=2147483647; HttpOnly"},
    {"every attribute, in the documented order",
     NULL,
     0,
     L("n1"),
     {"path=/gwe", "domain=example.com", "max-age=3600", "secure=on",
      "httponly=on", "samesite=None", "partitioned=on", NULL},
     0,
     "ROUTEID=.n1; Path=/gwe; Domain=example.com; Max-Age=3600; Secure; "
     "HttpOnly; SameSite=None; Partitioned"},
    {"attribute order does not follow the order of the words",
     NULL,
     0,
     L("n1"),
     {"partitioned=on", "samesite=None", "httponly=on", "secure=on",
      "max-age=3600", "domain=example.com", "path=/gwe", NULL},
     0,
     "ROUTEID=.n1; Path=/gwe; Domain=example.com; Max-Age=3600; Secure; "
     "HttpOnly; SameSite=None; Partitioned"},
    {"samesite=None dropped over HTTP with secure=auto",
     NULL,
     0,
     L("n1"),
     {"samesite=None", NULL},
     0,
     "ROUTEID=.n1; Path=/; HttpOnly"},
    {"partitioned dropped over HTTP with secure=auto",
     NULL,
     0,
     L("n1"),
     {"partitioned=on", NULL},
     0,
     "ROUTEID=.n1; Path=/; HttpOnly"},
    {"cross-site recipe over HTTP with secure=auto",
     NULL,
     0,
     L("n1"),
     {"samesite=None", "partitioned=on", NULL},
     0,
     "ROUTEID=.n1; Path=/; HttpOnly"},
    {"cross-site recipe over TLS with secure=auto",
     NULL,
     0,
     L("n1"),
     {"samesite=None", "partitioned=on", NULL},
     1,
     "ROUTEID=.n1; Path=/; Secure; HttpOnly; SameSite=None; Partitioned"},
    {"samesite=Lax kept without Secure",
     NULL,
     0,
     L("n1"),
     {"samesite=Lax", NULL},
     0,
     "ROUTEID=.n1; Path=/; HttpOnly; SameSite=Lax"},
    {"samesite=Strict kept without Secure",
     NULL,
     0,
     L("n1"),
     {"samesite=strict", NULL},
     0,
     "ROUTEID=.n1; Path=/; HttpOnly; SameSite=Strict"},
    {"samesite written in canonical case",
     NULL,
     0,
     L("n1"),
     {"samesite=NONE", NULL},
     1,
     "ROUTEID=.n1; Path=/; Secure; HttpOnly; SameSite=None"},
    {"route containing the separator",
     NULL,
     0,
     L("GWE.Frontend.1"),
     {NULL},
     0,
     "ROUTEID=.GWE.Frontend.1; Path=/; HttpOnly"},
    {"other cookie name and separator",
     "GWE_BE",
     '-',
     L("BE_2"),
     {NULL},
     0,
     "GWE_BE=-BE_2; Path=/; HttpOnly"},
    {"route with a space is encoded",
     NULL,
     0,
     L("a b"),
     {NULL},
     0,
     "ROUTEID=.a%20b; Path=/; HttpOnly"},
    {"route with ; , \" \\ % is encoded",
     NULL,
     0,
     L(";,\"\\%"),
     {NULL},
     0,
     "ROUTEID=.%3B%2C%22%5C%25; Path=/; HttpOnly"},
    {"route with non-ASCII bytes is encoded upper-case",
     NULL,
     0,
     L("caf\xc3\xa9"),
     {NULL},
     0,
     "ROUTEID=.caf%C3%A9; Path=/; HttpOnly"},
    {"route with CR LF cannot split the header",
     NULL,
     0,
     L("a\r\nSet-Cookie: x=y"),
     {NULL},
     0,
     "ROUTEID=.a%0D%0ASet-Cookie:%20x=y; Path=/; HttpOnly"},
};

START_TEST(build_row_test)
{
    const build_row *r = &build_rows[_i];
    const char *cname = r->cookie ? r->cookie : "ROUTEID";
    char sep = r->sep ? r->sep : '.';
    size_t wlen = strlen(r->want);
    gwe_cookie_attrs a;
    char out[512], err[256];
    const char *route;
    size_t i, n;
    guard g;

    guard_init(&g);
    gwe_cookie_attrs_init(&a);
    for (i = 0; r->words[i]; i++)
        ck_assert_msg(gwe_cookie_attr_parse(&a, r->words[i],
                                            strlen(r->words[i]), err,
                                            sizeof err) == 0,
                      "%s: %s", r->name, err);
    ck_assert_int_eq(gwe_cookie_attrs_check(&a, err, sizeof err), 0);
    route = guard_dup(&g, r->route.p, r->route.n);

    n = gwe_set_cookie_build(NULL, 0, cname, strlen(cname), sep, route,
                             r->route.n, &a, r->is_tls);
    ck_assert_msg(n == wlen, "%s: measured %zu, want %zu", r->name, n, wlen);
    memset(out, '#', sizeof out);
    n = gwe_set_cookie_build(out, wlen, cname, strlen(cname), sep, route,
                             r->route.n, &a, r->is_tls);
    ck_assert_msg(n == wlen && out[0] == '#',
                  "%s: wrote without room for the NUL", r->name);
    n = gwe_set_cookie_build(out, wlen + 1, cname, strlen(cname), sep, route,
                             r->route.n, &a, r->is_tls);
    ck_assert_msg(n == wlen && strcmp(out, r->want) == 0,
                  "%s:\n got  \"%s\"\n want \"%s\"", r->name, out, r->want);
    ck_assert_msg(out[wlen + 1] == '#', "%s: wrote past the NUL", r->name);
    {
        /* the two-step form gives the same bytes, with the same room rule */
        char attrs[512];
        size_t alen =
            gwe_set_cookie_attrs_build(attrs, sizeof attrs, &a, r->is_tls);

        ck_assert_uint_lt(alen, sizeof attrs);
        memset(out, '#', sizeof out);
        n = gwe_set_cookie_line(out, wlen, cname, strlen(cname), sep, route,
                                r->route.n, attrs, alen);
        ck_assert_msg(n == wlen && out[0] == '#',
                      "%s: line wrote without room for the NUL", r->name);
        n = gwe_set_cookie_line(out, wlen + 1, cname, strlen(cname), sep,
                                route, r->route.n, attrs, alen);
        ck_assert_msg(n == wlen && strcmp(out, r->want) == 0,
                      "%s (two steps):\n got  \"%s\"\n want \"%s\"", r->name,
                      out, r->want);
        ck_assert_msg(out[wlen + 1] == '#', "%s: line wrote past the NUL",
                      r->name);
        ck_assert_msg(wlen <= gwe_set_cookie_line_max(strlen(cname),
                                                      r->route.n, alen),
                      "%s: longer than gwe_set_cookie_line_max", r->name);
    }
    guard_release(&g);
}
END_TEST

/*
 * Round trip: the Set-Cookie value the module writes for a route, sent back
 * by the browser in a Cookie header, resolves to that same member.
 */
typedef struct trip_row {
    const char *name;
    lit route;
} trip_row;

static const trip_row trip_rows[] = {
    {"round trip: plain route", L("GWE_Frontend_1")},
    {"round trip: route containing the separator", L("GWE.Frontend.1")},
    {"round trip: route with a space", L("a b")},
    {"round trip: route with ;", L("a;b")},
    {"round trip: route with ,", L("a,b")},
    {"round trip: route with a double quote", L("a\"b")},
    {"round trip: route with a backslash", L("a\\b")},
    {"round trip: route with %", L("100%")},
    {"round trip: route that looks escaped", L("%2E")},
    {"round trip: route with a non-ASCII byte", L("caf\xc3\xa9")},
    {"round trip: route with a NUL and control bytes", L("a\0\x01\x7f")},
    {"round trip: route of only separators", L("...")},
    {"round trip: route of GWE_ROUTE_MAX bytes",
     L("rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
       "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
       "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr"
       "rrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrrr;")},
};

START_TEST(trip_row_test)
{
    const trip_row *r = &trip_rows[_i];
    static const gwe_slice params[] = {{"alias", 5}};
    gwe_sticky_conf conf = {params, 1, {"ROUTEID", 7}, '.', NULL, 0, 0};
    gwe_slice routes[3], cookie;
    gwe_sticky_result res;
    char out[1024], header[1100];
    const char *v, *semi;
    size_t n, hlen;
    guard g;

    ck_assert_uint_le(r->route.n, GWE_ROUTE_MAX);
    guard_init(&g);
    routes[0].ptr = guard_str(&g, "other");
    routes[0].len = 5;
    routes[1].ptr = guard_dup(&g, r->route.p, r->route.n);
    routes[1].len = r->route.n;
    routes[2].ptr = guard_str(&g, "b");
    routes[2].len = 1;
    n = gwe_set_cookie_build(out, sizeof out, "ROUTEID", 7, '.', routes[1].ptr,
                             routes[1].len, NULL, 1);
    ck_assert_uint_lt(n, sizeof out);
    ck_assert_msg(strlen(out) == n, "%s: NUL inside the header", r->name);
    for (v = out; *v; v++)
        ck_assert_msg(*v >= 0x20 && *v < 0x7f, "%s: byte 0x%02x in header",
                      r->name, (unsigned char)*v);
    v = strchr(out, '=') + 1;
    semi = strchr(v, ';');
    hlen = (size_t)snprintf(header, sizeof header, "a=1, ROUTEID=%.*s; z=2",
                            (int)(semi - v), v);
    cookie.ptr = guard_dup(&g, header, hlen);
    cookie.len = hlen;
    gwe_sticky_extract(&conf, "/p", 2, &cookie, 1, routes, 3, &res);
    ck_assert_msg(res.source == GWE_SOURCE_COOKIE && res.route == 1 &&
                      res.cookie_route == 1,
                  "%s: %s resolved to source %d route %d", r->name, header,
                  res.source, res.route);
    guard_release(&g);
}
END_TEST

/* Where the wstunnel 101 gets its Set-Cookie line. */
static const struct {
    const char *why;
    const char *data;
    size_t len;
    int first;
    long want;
} head_rows[] = {
    {"after the status line's LF", "HTTP/1.1 101 Switching\r\nUpgrade: x\r\n",
     36, 1, 24},
    {"a bare LF ends the line too", "HTTP/1.1 101 OK\nX: y\n", 21, 1, 16},
    {"no LF yet: look on", "HTTP/1.1 101 Swit", 17, 1, -1},
    {"later bytes need no HTTP/ prefix", "ching\r\nX: y", 11, 0, 7},
    {"not a response head: insert nothing", "\x81\x05hello", 7, 1, -2},
    {"fewer than five first bytes: insert nothing", "HTTP", 4, 1, -2},
    {"no bytes at all", "", 0, 1, -2},
    {"a NUL byte is only a byte", "HTTP/1.1 1\0\n", 12, 1, 12},
};

START_TEST(head_row_test)
{
    guard g;
    const char *d;

    guard_init(&g);
    d = guard_dup(&g, head_rows[_i].data, head_rows[_i].len);
    ck_assert_msg(
        gwe_status_line_end(d, head_rows[_i].len, head_rows[_i].first) ==
            head_rows[_i].want,
        "%s", head_rows[_i].why);
    guard_release(&g);
}
END_TEST

/* ---- a member's own Set-Cookie, and nocache=on ---------------------- */

static const struct {
    const char *name;
    const char *line;
    int sets;
} sets_rows[] = {
    {"the route cookie", "ROUTEID=.n1; Path=/", 1},
    {"the route cookie emptied", "ROUTEID=; Max-Age=0", 1},
    {"spaces around the name", "  ROUTEID \t= x", 1},
    {"another cookie", "JSESSIONID=abc; Path=/", 0},
    {"a longer name", "ROUTEIDX=1", 0},
    {"a shorter name", "ROUTEI=1", 0},
    {"the name only in an attribute", "a=1; Path=/ROUTEID=", 0},
    {"the name in another case", "routeid=.n1", 0},
    {"no '=' at all", "ROUTEID", 0},
    {"empty line", "", 0},
};

START_TEST(sets_row_test)
{
    guard g;
    const char *l;

    guard_init(&g);
    l = guard_str(&g, sets_rows[_i].line);
    ck_assert_msg(gwe_set_cookie_sets(l, strlen(sets_rows[_i].line), "ROUTEID",
                                      7) == sets_rows[_i].sets,
                  "%s", sets_rows[_i].name);
    guard_release(&g);
}
END_TEST

static const struct {
    const char *name;
    const char *cc;
    const char *want; /* NULL: the member's is kept */
} cc_rows[] = {
    {"none sent", "", "private"},
    {"max-age kept", "max-age=600", "private, max-age=600"},
    {"public dropped", "public, max-age=600", "private, max-age=600"},
    {"PUBLIC in capitals dropped", "PUBLIC,s-maxage=60",
     "private, s-maxage=60"},
    {"no-store is stronger", "no-store", NULL},
    {"No-Store among others", "max-age=0, No-Store", NULL},
    {"private is already there", "private, max-age=60", NULL},
    {"private=\"Set-Cookie\" is not private enough", "private=\"Set-Cookie\"",
     "private, private=\"Set-Cookie\""},
    {"no-cache kept", "no-cache", "private, no-cache"},
    {"quoted comma is one directive", "ext=\"a, public\", public",
     "private, ext=\"a, public\""},
    {"empty directives dropped", " , max-age=1 ,, ", "private, max-age=1"},
    {"publicx is not public", "publicx", "private, publicx"},
};

START_TEST(cc_row_test)
{
    char out[128];
    guard g;
    const char *c;
    size_t n, len = strlen(cc_rows[_i].cc);

    guard_init(&g);
    c = guard_str(&g, cc_rows[_i].cc);
    memset(out, '#', sizeof out);
    n = gwe_cache_control_private(len ? c : NULL, len, out, sizeof out);
    if (!cc_rows[_i].want) {
        ck_assert_msg(n == 0, "%s: changed to \"%s\"", cc_rows[_i].name, out);
    } else {
        ck_assert_msg(n == strlen(cc_rows[_i].want) &&
                          strcmp(out, cc_rows[_i].want) == 0,
                      "%s: got \"%.*s\"", cc_rows[_i].name, (int)n, out);
        /* measured without writing when the buffer is short */
        memset(out, '#', sizeof out);
        ck_assert_uint_eq(
            gwe_cache_control_private(len ? c : NULL, len, out, n), n);
        ck_assert(out[0] == '#');
    }
    guard_release(&g);
}
END_TEST

Suite *suite_set_cookie(void)
{
    Suite *s = suite_create("set_cookie");
    TCase *tb = tcase_create("gwe_set_cookie_build");
    TCase *tt = tcase_create("round trip");
    TCase *tm = tcase_create("member cookies and nocache");

    tcase_add_loop_test(tb, build_row_test, 0, (int)NELEMS(build_rows));
    tcase_add_loop_test(tt, trip_row_test, 0, (int)NELEMS(trip_rows));
    tcase_add_loop_test(tt, head_row_test, 0, (int)NELEMS(head_rows));
    suite_add_tcase(s, tb);
    suite_add_tcase(s, tt);
    tcase_add_loop_test(tm, sets_row_test, 0, (int)NELEMS(sets_rows));
    tcase_add_loop_test(tm, cc_row_test, 0, (int)NELEMS(cc_rows));
    suite_add_tcase(s, tm);
    return s;
}
