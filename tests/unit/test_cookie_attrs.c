/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * test_cookie_attrs.c - GWELBRouteCookie attributes: gwe_cookie_attrs_init,
 * gwe_cookie_attr_parse, gwe_cookie_attrs_check, gwe_cookie_name_valid and
 * gwe_separator_valid.  Error messages are compared exactly: they are what
 * an administrator reads when Apache refuses to start.
 */
#include "testutil.h"

#define MAXW 10
#define KEYS                                                                  \
    "path, domain, secure, httponly, samesite, max-age, partitioned, "        \
    "maxidle, maxlife, opaque, indirect, nocache, issue, legacy"
#define P "GWELBRouteCookie: "

/* The attributes after every word was applied. */
typedef struct attrs_want {
    const char *path;
    const char *domain;
    enum gwe_switch secure, httponly;
    enum gwe_samesite samesite;
    long max_age;
    enum gwe_switch partitioned;
} attrs_want;

#define DEFAULTS                                                              \
    {                                                                         \
        "/", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_OFF             \
    }

typedef struct parse_row {
    const char *name;
    const char *words[MAXW]; /* applied in order; only the last may fail */
    const char *err;         /* NULL: every word is accepted */
    attrs_want want;         /* when err is NULL */
} parse_row;

static const parse_row parse_rows[] = {
    /* accepted */
    {"defaults", {NULL}, NULL, DEFAULTS},
    {"path",
     {"path=/gwe", NULL},
     NULL,
     {"/gwe", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_OFF}},
    {"domain",
     {"domain=example.com", NULL},
     NULL,
     {"/", "example.com", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_OFF}},
    {"domain with a leading dot",
     {"domain=.example.com", NULL},
     NULL,
     {"/", ".example.com", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_OFF}},
    {"domain that is an IPv4 address",
     {"domain=127.0.0.1", NULL},
     NULL,
     {"/", "127.0.0.1", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_OFF}},
    {"secure=on",
     {"secure=on", NULL},
     NULL,
     {"/", "", GWE_ON, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_OFF}},
    {"secure=off",
     {"secure=off", NULL},
     NULL,
     {"/", "", GWE_OFF, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_OFF}},
    {"secure=auto", {"secure=auto", NULL}, NULL, DEFAULTS},
    {"httponly=off",
     {"httponly=off", NULL},
     NULL,
     {"/", "", GWE_AUTO, GWE_OFF, GWE_SAMESITE_UNSET, 0, GWE_OFF}},
    {"samesite=Strict",
     {"samesite=Strict", NULL},
     NULL,
     {"/", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_STRICT, 0, GWE_OFF}},
    {"samesite=Lax",
     {"samesite=Lax", NULL},
     NULL,
     {"/", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_LAX, 0, GWE_OFF}},
    {"samesite=None",
     {"samesite=None", NULL},
     NULL,
     {"/", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_NONE, 0, GWE_OFF}},
    {"max-age=1 is the minimum",
     {"max-age=1", NULL},
     NULL,
     {"/", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 1, GWE_OFF}},
    {"max-age=2147483647 is the maximum",
     {"max-age=2147483647", NULL},
     NULL,
     {"/", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 2147483647L, GWE_OFF}},
    {"max-age with leading zeros",
     {"max-age=007", NULL},
     NULL,
     {"/", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 7, GWE_OFF}},
    {"partitioned=on",
     {"partitioned=on", NULL},
     NULL,
     {"/", "", GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_ON}},
    {"keys and keywords are case-insensitive",
     {"PATH=/X", "Domain=Example.COM", "SECURE=ON", "HttpOnly=Off",
      "SameSite=lax", "Max-Age=60", "Partitioned=ON", NULL},
     NULL,
     {"/X", "Example.COM", GWE_ON, GWE_OFF, GWE_SAMESITE_LAX, 60, GWE_ON}},
    {"same key twice with the same value is accepted",
     {"secure=on", "Secure=ON", "path=/a", "path=/a", "max-age=60",
      "max-age=060", "domain=a.example", "domain=A.example", NULL},
     NULL,
     {"/a", "a.example", GWE_ON, GWE_ON, GWE_SAMESITE_UNSET, 60, GWE_OFF}},
    /* refused: shape of the word */
    {"word without = is refused",
     {"secure", NULL},
     P "\"secure\" is not an attribute=value pair; allowed attributes: " KEYS,
     DEFAULTS},
    {"unknown attribute is refused",
     {"expires=1", NULL},
     P "unknown attribute \"expires\"; allowed attributes: " KEYS,
     DEFAULTS},
    {"empty key is refused",
     {"=on", NULL},
     P "unknown attribute \"\"; allowed attributes: " KEYS,
     DEFAULTS},
    {"key with a prefix of a real one is refused",
     {"max=5", NULL},
     P "unknown attribute \"max\"; allowed attributes: " KEYS,
     DEFAULTS},
    {"control bytes in a bad word are escaped",
     {"se\x01=on", NULL},
     P "unknown attribute \"se\\x01\"; allowed attributes: " KEYS,
     DEFAULTS},
    /* refused: values */
    {"path without a leading / is refused",
     {"path=gwe", NULL},
     P "invalid path \"gwe\"; allowed: a path that starts with '/' and has "
       "no spaces, ';' or control characters",
     DEFAULTS},
    {"empty path is refused",
     {"path=", NULL},
     P "invalid path \"\"; allowed: a path that starts with '/' and has no "
       "spaces, ';' or control characters",
     DEFAULTS},
    {"path with ; is refused",
     {"path=/a;b", NULL},
     P "invalid path \"/a;b\"; allowed: a path that starts with '/' and has "
       "no spaces, ';' or control characters",
     DEFAULTS},
    {"path with a control byte is refused",
     {"path=/a\rb", NULL},
     P "invalid path \"/a\\x0db\"; allowed: a path that starts with '/' and "
       "has no spaces, ';' or control characters",
     DEFAULTS},
    {"empty domain is refused",
     {"domain=", NULL},
     P "invalid domain \"\"; allowed: a host name such as example.com or "
       ".example.com",
     DEFAULTS},
    {"domain with an empty label is refused",
     {"domain=a..b", NULL},
     P "invalid domain \"a..b\"; allowed: a host name such as example.com or "
       ".example.com",
     DEFAULTS},
    {"domain with a trailing dot is refused",
     {"domain=example.com.", NULL},
     P "invalid domain \"example.com.\"; allowed: a host name such as "
       "example.com or .example.com",
     DEFAULTS},
    {"domain with a label starting with - is refused",
     {"domain=-a.com", NULL},
     P "invalid domain \"-a.com\"; allowed: a host name such as example.com "
       "or .example.com",
     DEFAULTS},
    {"domain with a / is refused",
     {"domain=a.com/x", NULL},
     P "invalid domain \"a.com/x\"; allowed: a host name such as example.com "
       "or .example.com",
     DEFAULTS},
    {"domain label of 64 bytes is refused",
     {"domain=a234567890123456789012345678901234567890123456789012345678901234"
      ".com",
      NULL},
     P "invalid domain "
       "\"a234567890123456789012345678901234567890123456789012345678901234..."
       "\"; allowed: a host name such as example.com or .example.com",
     DEFAULTS},
    {"domain label of 63 bytes is accepted",
     {"domain=a23456789012345678901234567890123456789012345678901234567890123"
      ".com",
      NULL},
     NULL,
     {"/",
      "a23456789012345678901234567890123456789012345678901234567890123.com",
      GWE_AUTO, GWE_ON, GWE_SAMESITE_UNSET, 0, GWE_OFF}},
    {"domain of only a dot is refused",
     {"domain=.", NULL},
     P "invalid domain \".\"; allowed: a host name such as example.com or "
       ".example.com",
     DEFAULTS},
    {"secure=yes is refused",
     {"secure=yes", NULL},
     P "invalid secure \"yes\"; allowed: on, off or auto",
     DEFAULTS},
    {"empty secure is refused",
     {"secure=", NULL},
     P "invalid secure \"\"; allowed: on, off or auto",
     DEFAULTS},
    {"httponly=auto is refused",
     {"httponly=auto", NULL},
     P "invalid httponly \"auto\"; allowed: on or off",
     DEFAULTS},
    {"samesite=lax2 is refused",
     {"samesite=lax2", NULL},
     P "invalid samesite \"lax2\"; allowed: Strict, Lax or None",
     DEFAULTS},
    {"empty samesite is refused",
     {"samesite=", NULL},
     P "invalid samesite \"\"; allowed: Strict, Lax or None",
     DEFAULTS},
    {"max-age=0 is refused",
     {"max-age=0", NULL},
     P "invalid max-age \"0\"; allowed: a number of seconds from 1 to "
       "2147483647",
     DEFAULTS},
    {"negative max-age is refused",
     {"max-age=-1", NULL},
     P "invalid max-age \"-1\"; allowed: a number of seconds from 1 to "
       "2147483647",
     DEFAULTS},
    {"max-age with a + sign is refused",
     {"max-age=+5", NULL},
     P "invalid max-age \"+5\"; allowed: a number of seconds from 1 to "
       "2147483647",
     DEFAULTS},
    {"max-age with a unit is refused",
     {"max-age=10s", NULL},
     P "invalid max-age \"10s\"; allowed: a number of seconds from 1 to "
       "2147483647",
     DEFAULTS},
    {"empty max-age is refused",
     {"max-age=", NULL},
     P "invalid max-age \"\"; allowed: a number of seconds from 1 to "
       "2147483647",
     DEFAULTS},
    {"max-age=2147483648 overflows",
     {"max-age=2147483648", NULL},
     P "invalid max-age \"2147483648\"; allowed: a number of seconds from 1 "
       "to 2147483647",
     DEFAULTS},
    {"max-age of 30 digits overflows",
     {"max-age=999999999999999999999999999999", NULL},
     P "invalid max-age \"999999999999999999999999999999\"; allowed: a "
       "number of seconds from 1 to 2147483647",
     DEFAULTS},
    {"partitioned=auto is refused",
     {"partitioned=auto", NULL},
     P "invalid partitioned \"auto\"; allowed: on or off",
     DEFAULTS},
    {"long bad value is cut in the message",
     {"secure=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaa",
      NULL},
     P "invalid secure "
       "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
       "...\"; allowed: on, off or auto",
     DEFAULTS},
    /* refused: given twice */
    {"path twice with different values",
     {"path=/a", "path=/b", NULL},
     P "path given twice with different values (\"/a\", then \"/b\")",
     DEFAULTS},
    {"domain twice with different values",
     {"domain=a.example", "domain=b.example", NULL},
     P "domain given twice with different values (\"a.example\", then "
       "\"b.example\")",
     DEFAULTS},
    {"secure twice with different values",
     {"secure=on", "secure=auto", NULL},
     P "secure given twice with different values (\"on\", then \"auto\")",
     DEFAULTS},
    {"httponly twice with different values",
     {"httponly=on", "httponly=off", NULL},
     P "httponly given twice with different values (\"on\", then \"off\")",
     DEFAULTS},
    {"samesite twice with different values",
     {"samesite=Lax", "samesite=strict", NULL},
     P "samesite given twice with different values (\"Lax\", then "
       "\"Strict\")",
     DEFAULTS},
    {"max-age twice with different values",
     {"max-age=60", "max-age=61", NULL},
     P "max-age given twice with different values (\"60\", then \"61\")",
     DEFAULTS},
    {"partitioned twice with different values",
     {"partitioned=on", "partitioned=off", NULL},
     P "partitioned given twice with different values (\"on\", then "
       "\"off\")",
     DEFAULTS},
};

/* Applies words (NULL-terminated) to fresh attributes a, each word in its
 * own guarded copy; every word but the last must be accepted, and the last
 * too unless may_fail.  Returns the last word's result, its message in err
 * (0 and "" for no words). */
static int apply_words(gwe_cookie_attrs *a, const char *const *words,
                       const char *name, int may_fail, guard *g, char *err,
                       size_t errcap)
{
    size_t i;
    int rc = 0;

    gwe_cookie_attrs_init(a);
    err[0] = '\0';
    for (i = 0; words[i]; i++) {
        const char *w = guard_str(g, words[i]);

        memset(err, '#', errcap);
        rc = gwe_cookie_attr_parse(a, w, strlen(words[i]), err, errcap);
        if (!may_fail || words[i + 1] != NULL)
            ck_assert_msg(rc == 0, "%s: word \"%s\" refused: %s", name,
                          words[i], err);
    }
    return rc;
}

/* rc and err are what want (NULL: accepted) says. */
static void expect_refusal(const char *name, int rc, const char *err,
                           const char *want)
{
    if (want) {
        ck_assert_msg(rc == -1, "%s: accepted", name);
        ck_assert_msg(strcmp(err, want) == 0,
                      "%s:\n got  \"%s\"\n want \"%s\"", name, err, want);
    } else {
        ck_assert_msg(rc == 0, "%s: refused: %s", name, err);
    }
}

START_TEST(parse_row_test)
{
    const parse_row *r = &parse_rows[_i];
    gwe_cookie_attrs a;
    char err[512];
    int rc;
    guard g;

    guard_init(&g);
    rc = apply_words(&a, r->words, r->name, r->err != NULL, &g, err,
                     sizeof err);
    expect_refusal(r->name, rc, err, r->err);
    if (!r->err) {
        const attrs_want *w = &r->want;

        ck_assert_msg(a.path.len == strlen(w->path) &&
                          memcmp(a.path.ptr, w->path, a.path.len) == 0,
                      "%s: path \"%.*s\"", r->name, (int)a.path.len,
                      a.path.ptr);
        ck_assert_msg(a.domain.len == strlen(w->domain) &&
                          (a.domain.len == 0 ||
                           memcmp(a.domain.ptr, w->domain, a.domain.len) == 0),
                      "%s: domain \"%.*s\"", r->name, (int)a.domain.len,
                      a.domain.ptr);
        ck_assert_msg(a.secure == w->secure && a.httponly == w->httponly &&
                          a.samesite == w->samesite &&
                          a.max_age == w->max_age &&
                          a.partitioned == w->partitioned,
                      "%s: secure %d httponly %d samesite %d max-age %ld "
                      "partitioned %d",
                      r->name, a.secure, a.httponly, a.samesite, a.max_age,
                      a.partitioned);
    }
    guard_release(&g);
}
END_TEST

typedef struct check_row {
    const char *name;
    const char *words[MAXW];
    const char *err; /* NULL: accepted */
} check_row;

static const check_row check_rows[] = {
    {"samesite=None with secure=off is refused",
     {"secure=off", "samesite=None", NULL},
     P "samesite=None needs secure=on or secure=auto; browsers drop a "
       "SameSite=None cookie without Secure"},
    {"partitioned=on with secure=off is refused",
     {"secure=off", "partitioned=on", NULL},
     P "partitioned=on needs secure=on or secure=auto; browsers drop a "
       "Partitioned cookie without Secure"},
    {"samesite=None with secure=auto is accepted",
     {"samesite=None", NULL},
     NULL},
    {"samesite=None with secure=on is accepted",
     {"secure=on", "samesite=None", NULL},
     NULL},
    {"partitioned=on with secure=auto is accepted",
     {"partitioned=on", NULL},
     NULL},
    {"cross-site recipe is accepted",
     {"secure=on", "samesite=None", "partitioned=on", NULL},
     NULL},
    {"samesite=Lax with secure=off is accepted",
     {"secure=off", "samesite=Lax", NULL},
     NULL},
    {"partitioned=off with secure=off is accepted",
     {"secure=off", "partitioned=off", NULL},
     NULL},
    {"defaults are accepted", {NULL}, NULL},
};

START_TEST(check_row_test)
{
    const check_row *r = &check_rows[_i];
    gwe_cookie_attrs a;
    char err[512];
    guard g;

    guard_init(&g);
    apply_words(&a, r->words, r->name, 0, &g, err, sizeof err);
    memset(err, '#', sizeof err);
    expect_refusal(r->name, gwe_cookie_attrs_check(&a, err, sizeof err), err,
                   r->err);
    guard_release(&g);
}
END_TEST

/* The hardened cookie's attributes (README 4.8). */
typedef struct hard_row {
    const char *name;
    const char *words[MAXW]; /* applied in order; only the last may fail */
    const char *err;         /* NULL: every word is accepted */
    long maxidle, maxlife;
    enum gwe_switch opaque, indirect, nocache, issue, legacy;
} hard_row;

#define HARD_DEFAULTS 0, 0, GWE_OFF, GWE_OFF, GWE_OFF, GWE_ON, GWE_OFF
#define TEN_YEARS "a number of seconds from 1 to 315360000 (ten years)"

static const hard_row hard_rows[] = {
    {"hardened defaults", {NULL}, NULL, HARD_DEFAULTS},
    {"maxidle and maxlife",
     {"maxidle=1800", "MaxLife=86400", NULL},
     NULL,
     1800,
     86400,
     GWE_OFF,
     GWE_OFF,
     GWE_OFF,
     GWE_ON,
     GWE_OFF},
    {"ten years is the longest maxlife",
     {"maxlife=315360000", NULL},
     NULL,
     0,
     315360000,
     GWE_OFF,
     GWE_OFF,
     GWE_OFF,
     GWE_ON,
     GWE_OFF},
    {"every switch on, legacy accepted",
     {"opaque=on", "indirect=ON", "nocache=on", "issue=off", "legacy=Accept",
      NULL},
     NULL,
     0,
     0,
     GWE_ON,
     GWE_ON,
     GWE_ON,
     GWE_OFF,
     GWE_ON},
    {"legacy=refuse is the default spelled out",
     {"legacy=refuse", NULL},
     NULL,
     HARD_DEFAULTS},
    {"the same maxidle twice is accepted",
     {"maxidle=60", "maxidle=60", NULL},
     NULL,
     60,
     0,
     GWE_OFF,
     GWE_OFF,
     GWE_OFF,
     GWE_ON,
     GWE_OFF},
    {"maxidle=0 is refused",
     {"maxidle=0", NULL},
     P "invalid maxidle \"0\"; allowed: " TEN_YEARS,
     HARD_DEFAULTS},
    {"maxlife over ten years is refused",
     {"maxlife=315360001", NULL},
     P "invalid maxlife \"315360001\"; allowed: " TEN_YEARS,
     HARD_DEFAULTS},
    {"maxidle with a sign is refused",
     {"maxidle=+60", NULL},
     P "invalid maxidle \"+60\"; allowed: " TEN_YEARS,
     HARD_DEFAULTS},
    {"maxidle with a unit is refused",
     {"maxidle=30m", NULL},
     P "invalid maxidle \"30m\"; allowed: " TEN_YEARS,
     HARD_DEFAULTS},
    {"maxidle of twenty digits is refused, not wrapped",
     {"maxidle=18446744073709551617", NULL},
     P "invalid maxidle \"18446744073709551617\"; allowed: " TEN_YEARS,
     HARD_DEFAULTS},
    {"opaque=auto is refused",
     {"opaque=auto", NULL},
     P "invalid opaque \"auto\"; allowed: on or off",
     HARD_DEFAULTS},
    {"legacy=on is refused",
     {"legacy=on", NULL},
     P "invalid legacy \"on\"; allowed: accept or refuse",
     HARD_DEFAULTS},
    {"issue given twice differently is refused",
     {"issue=on", "issue=off", NULL},
     P "issue given twice with different values (\"on\", then \"off\")",
     HARD_DEFAULTS},
    {"maxidle given twice differently is refused",
     {"maxidle=60", "maxidle=61", NULL},
     P "maxidle given twice with different values (\"60\", then \"61\")",
     HARD_DEFAULTS},
    {"legacy given twice differently is refused",
     {"legacy=accept", "legacy=refuse", NULL},
     P "legacy given twice with different values (\"accept\", then "
       "\"refuse\")",
     HARD_DEFAULTS},
};

START_TEST(hard_row_test)
{
    const hard_row *r = &hard_rows[_i];
    gwe_cookie_attrs a;
    char err[512];
    int rc;
    guard g;

    guard_init(&g);
    rc = apply_words(&a, r->words, r->name, r->err != NULL, &g, err,
                     sizeof err);
    expect_refusal(r->name, rc, err, r->err);
    if (!r->err) {
        ck_assert_msg(a.maxidle == r->maxidle && a.maxlife == r->maxlife &&
                          a.opaque == r->opaque && a.indirect == r->indirect &&
                          a.nocache == r->nocache && a.issue == r->issue &&
                          a.legacy == r->legacy,
                      "%s: maxidle %ld maxlife %ld opaque %d indirect %d "
                      "nocache %d issue %d legacy %d",
                      r->name, a.maxidle, a.maxlife, a.opaque, a.indirect,
                      a.nocache, a.issue, a.legacy);
    }
    guard_release(&g);
}
END_TEST

/* Which attributes need keys, and what issue=off excludes (README 4.8). */
typedef struct keys_row {
    const char *name;
    const char *words[MAXW];
    size_t nkeys;
    const char *err; /* NULL: accepted */
} keys_row;

#define NEEDS_KEY(a)                                                          \
    P a " needs GWELBCookieKey: only a signed cookie carries dates and "      \
        "hides its route"
#define ISSUE_OFF_WITH(a)                                                     \
    P "issue=off cannot be combined with " a ": the members set the cookie, " \
      "so the load balancer cannot sign or date it"

static const keys_row keys_rows[] = {
    {"no key, no hardened attribute", {NULL}, 0, NULL},
    {"a key alone", {NULL}, 1, NULL},
    {"eight keys with every dated attribute",
     {"maxidle=60", "maxlife=600", "opaque=on", "legacy=accept", NULL},
     8,
     NULL},
    {"maxidle without a key", {"maxidle=60", NULL}, 0, NEEDS_KEY("maxidle")},
    {"maxlife without a key", {"maxlife=60", NULL}, 0, NEEDS_KEY("maxlife")},
    {"opaque=on without a key",
     {"opaque=on", NULL},
     0,
     NEEDS_KEY("opaque=on")},
    {"opaque=off without a key", {"opaque=off", NULL}, 0, NULL},
    {"indirect and nocache need no key",
     {"indirect=on", "nocache=on", NULL},
     0,
     NULL},
    {"legacy=accept without a key is allowed",
     {"legacy=accept", NULL},
     0,
     NULL},
    {"issue=off alone", {"issue=off", NULL}, 0, NULL},
    {"issue=off with indirect and nocache",
     {"issue=off", "indirect=on", "nocache=on", NULL},
     0,
     NULL},
    {"issue=off with a key",
     {"issue=off", NULL},
     1,
     ISSUE_OFF_WITH("GWELBCookieKey")},
    {"issue=off with maxidle",
     {"issue=off", "maxidle=60", NULL},
     0,
     ISSUE_OFF_WITH("maxidle")},
    {"issue=off with maxlife",
     {"issue=off", "maxlife=60", NULL},
     0,
     ISSUE_OFF_WITH("maxlife")},
    {"issue=off with opaque",
     {"issue=off", "opaque=on", NULL},
     0,
     ISSUE_OFF_WITH("opaque=on")},
};

START_TEST(keys_row_test)
{
    const keys_row *r = &keys_rows[_i];
    gwe_cookie_attrs a;
    char err[512];
    guard g;

    guard_init(&g);
    apply_words(&a, r->words, r->name, 0, &g, err, sizeof err);
    memset(err, '#', sizeof err);
    expect_refusal(r->name,
                   gwe_cookie_attrs_check_keys(&a, r->nkeys, err, sizeof err),
                   err, r->err);
    guard_release(&g);
}
END_TEST

/* A message longer than the caller's buffer is cut and NUL-terminated. */
typedef struct errcap_row {
    const char *name;
    size_t cap;
    const char *want;
} errcap_row;

static const errcap_row errcap_rows[] = {
    {"short error buffer: message cut and NUL-terminated", 17,
     "GWELBRouteCookie"},
    {"error buffer of one byte holds just the NUL", 1, ""},
    {"error buffer of zero bytes is left alone", 0, "#"},
};

START_TEST(errcap_row_test)
{
    const errcap_row *r = &errcap_rows[_i];
    gwe_cookie_attrs a;
    char err[64];

    gwe_cookie_attrs_init(&a);
    memset(err, '#', sizeof err);
    err[sizeof err - 1] = '\0';
    ck_assert_int_eq(gwe_cookie_attr_parse(&a, "bogus", 5, err, r->cap), -1);
    ck_assert_msg(strncmp(err, r->want, strlen(r->want) + (r->cap > 0)) == 0,
                  "%s: got \"%s\"", r->name, err);
}
END_TEST

typedef struct name_row {
    const char *name;
    lit cookie;
    int valid;
} name_row;

static const name_row name_rows[] = {
    {"cookie name ROUTEID is valid", L("ROUTEID"), 1},
    {"cookie name of every tchar is valid", L("!#$%&'*+-.^_`|~09AZaz"), 1},
    {"empty cookie name is invalid", L(""), 0},
    {"cookie name with a space is invalid", L("ROUTE ID"), 0},
    {"cookie name with = is invalid", L("a=b"), 0},
    {"cookie name with ; is invalid", L("a;b"), 0},
    {"cookie name with , is invalid", L("a,b"), 0},
    {"cookie name with a double quote is invalid", L("\"a\""), 0},
    {"cookie name with a control byte is invalid", L("a\x01"), 0},
    {"cookie name with DEL is invalid", L("a\x7f"), 0},
    {"cookie name with a non-ASCII byte is invalid", L("caf\xc3\xa9"), 0},
    {"cookie name with a NUL byte is invalid", L("a\0b"), 0},
};

START_TEST(name_row_test)
{
    const name_row *r = &name_rows[_i];
    guard g;
    const char *p;

    guard_init(&g);
    p = guard_dup(&g, r->cookie.p, r->cookie.n);
    ck_assert_msg(gwe_cookie_name_valid(p, r->cookie.n) == r->valid, "%s",
                  r->name);
    guard_release(&g);
}
END_TEST

static const struct {
    const char *name;
    char c;
    int valid;
} sep_rows[] = {
    {"separator . is valid", '.', 1},
    {"separator - is valid", '-', 1},
    {"separator _ is valid", '_', 1},
    {"separator ~ is valid", '~', 1},
    {"separator ! is valid", '!', 1},
    {"separator * is valid", '*', 1},
    {"separator + is valid", '+', 1},
    {"separator : is valid", ':', 1},
    {"separator @ is valid", '@', 1},
    {"separator | is valid", '|', 1},
    {"separator $ is valid", '$', 1},
    {"separator ; is invalid", ';', 0},
    {"separator = is invalid", '=', 0},
    {"separator , is invalid", ',', 0},
    {"separator & is invalid", '&', 0},
    {"separator % is invalid", '%', 0},
    {"separator / is invalid", '/', 0},
    {"separator space is invalid", ' ', 0},
    {"separator NUL is invalid", '\0', 0},
    {"separator letter is invalid", 'a', 0},
    {"separator digit is invalid", '1', 0},
    {"separator non-ASCII is invalid", '\xe9', 0},
};

START_TEST(sep_row_test)
{
    ck_assert_msg(gwe_separator_valid(sep_rows[_i].c) == sep_rows[_i].valid,
                  "%s", sep_rows[_i].name);
}
END_TEST

Suite *suite_cookie_attrs(void)
{
    Suite *s = suite_create("cookie_attrs");
    TCase *tp = tcase_create("gwe_cookie_attr_parse");
    TCase *tc = tcase_create("gwe_cookie_attrs_check");
    TCase *te = tcase_create("error buffer");
    TCase *tn = tcase_create("gwe_cookie_name_valid");
    TCase *ts = tcase_create("gwe_separator_valid");
    TCase *th = tcase_create("hardened attributes");
    TCase *tk = tcase_create("gwe_cookie_attrs_check_keys");

    tcase_add_loop_test(tp, parse_row_test, 0, (int)NELEMS(parse_rows));
    tcase_add_loop_test(tc, check_row_test, 0, (int)NELEMS(check_rows));
    tcase_add_loop_test(th, hard_row_test, 0, (int)NELEMS(hard_rows));
    tcase_add_loop_test(tk, keys_row_test, 0, (int)NELEMS(keys_rows));
    tcase_add_loop_test(te, errcap_row_test, 0, (int)NELEMS(errcap_rows));
    tcase_add_loop_test(tn, name_row_test, 0, (int)NELEMS(name_rows));
    tcase_add_loop_test(ts, sep_row_test, 0, (int)NELEMS(sep_rows));
    suite_add_tcase(s, tp);
    suite_add_tcase(s, tc);
    suite_add_tcase(s, te);
    suite_add_tcase(s, tn);
    suite_add_tcase(s, ts);
    suite_add_tcase(s, th);
    suite_add_tcase(s, tk);
    return s;
}
