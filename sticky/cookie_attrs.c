/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * cookie_attrs.c - the attributes of GWELBRouteCookie (README 3): defaults,
 * one "key=value" word at a time, and the cross-attribute check.
 *
 * Errors are returned as full sentences that name the directive, the
 * attribute and what is allowed, for httpd to print at start-up.
 */
#include "sticky.h"
#include "chars.h"

#define DIRECTIVE "GWELBRouteCookie"
#define KEYS                                                                  \
    "path, domain, secure, httponly, samesite, max-age, partitioned, "        \
    "maxidle, maxlife, opaque, indirect, nocache, issue, legacy"
#define MAX_AGE_MAX 2147483647L /* the largest delta-seconds browsers keep */
#define QUOTE_MAX 64            /* bytes of a bad value quoted in errors */

enum {
    ATTR_PATH = 1u << 0,
    ATTR_DOMAIN = 1u << 1,
    ATTR_SECURE = 1u << 2,
    ATTR_HTTPONLY = 1u << 3,
    ATTR_SAMESITE = 1u << 4,
    ATTR_MAX_AGE = 1u << 5,
    ATTR_PARTITIONED = 1u << 6,
    ATTR_MAXIDLE = 1u << 7,
    ATTR_MAXLIFE = 1u << 8,
    ATTR_OPAQUE = 1u << 9,
    ATTR_INDIRECT = 1u << 10,
    ATTR_NOCACHE = 1u << 11,
    ATTR_ISSUE = 1u << 12,
    ATTR_LEGACY = 1u << 13
};

void gwe_cookie_attrs_init(gwe_cookie_attrs *a)
{
    a->path.ptr = "/";
    a->path.len = 1;
    a->domain.ptr = "";
    a->domain.len = 0;
    a->secure = GWE_AUTO;
    a->httponly = GWE_ON;
    a->samesite = GWE_SAMESITE_UNSET;
    a->max_age = 0;
    a->partitioned = GWE_OFF;
    a->maxidle = 0;
    a->maxlife = 0;
    a->opaque = GWE_OFF;
    a->indirect = GWE_OFF;
    a->nocache = GWE_OFF;
    a->issue = GWE_ON;
    a->legacy = GWE_OFF;
    a->set = 0;
}

int gwe_cookie_name_valid(const char *name, size_t len)
{
    size_t i;

    if (name == NULL || len == 0)
        return 0;
    for (i = 0; i < len; i++) {
        if (!gwe_is_tchar((unsigned char)name[i]))
            return 0;
    }
    return 1;
}

int gwe_separator_valid(char c)
{
    return c != '\0' &&
           memchr(GWE_SEPARATORS, c, sizeof(GWE_SEPARATORS) - 1) != NULL;
}

/* ---- error messages ---------------------------------------------------- */

/* Appends to a NUL-terminated message, truncating at the capacity. */
typedef struct msg {
    char *buf;
    size_t cap;
    size_t len;
} msg;

static void msg_init(msg *m, char *buf, size_t cap)
{
    m->buf = buf;
    m->cap = buf ? cap : 0;
    m->len = 0;
    if (m->cap > 0)
        buf[0] = '\0';
}

static void msg_put(msg *m, const char *s, size_t n)
{
    size_t room;

    if (m->cap == 0)
        return;
    room = m->cap - 1 - m->len;
    if (n > room)
        n = room;
    memcpy(m->buf + m->len, s, n);
    m->len += n;
    m->buf[m->len] = '\0';
}

static void msg_str(msg *m, const char *s)
{
    msg_put(m, s, strlen(s));
}

/* Appends "s" in double quotes; bytes outside printable ASCII (and '"',
 * '\') as \xHH, at most QUOTE_MAX input bytes, then "...". */
static void msg_quoted(msg *m, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    msg_put(m, "\"", 1);
    for (i = 0; i < n && i < QUOTE_MAX; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
            msg_put(m, (const char *)&s[i], 1);
        } else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};

            msg_put(m, e, sizeof e);
        }
    }
    if (n > QUOTE_MAX)
        msg_put(m, "...", 3);
    msg_put(m, "\"", 1);
}

/* ---- attribute values -------------------------------------------------- */

/* RFC 6265 path-value, restricted further to visible ASCII: no ';' (it
 * would end the attribute), no space, no control character. */
static int parse_path(gwe_cookie_attrs *a, const char *v, size_t n)
{
    size_t i;

    if (n == 0 || v[0] != '/')
        return -1;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c <= 0x20 || c >= 0x7f || c == ';')
            return -1;
    }
    a->path.ptr = v;
    a->path.len = n;
    return 0;
}

/* A host name: an optional leading '.' (ignored by browsers, RFC 6265
 * 5.2.3), then dot-separated labels of 1 to 63 letters, digits and '-',
 * not starting or ending with '-'; 253 bytes at most. */
static int parse_domain(gwe_cookie_attrs *a, const char *v, size_t n)
{
    size_t i = (n > 0 && v[0] == '.') ? 1 : 0;
    size_t label = 0;

    if (n - i == 0 || n - i > 253)
        return -1;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)v[i];

        if (c == '.') {
            if (label == 0 || v[i - 1] == '-')
                return -1;
            label = 0;
        } else if (gwe_is_alpha(c) || gwe_is_digit(c) ||
                   (c == '-' && label > 0)) {
            if (++label > 63)
                return -1;
        } else {
            return -1;
        }
    }
    if (label == 0 || v[n - 1] == '-')
        return -1;
    a->domain.ptr = v;
    a->domain.len = n;
    return 0;
}

static int parse_switch(enum gwe_switch *out, const char *v, size_t n,
                        int allow_auto)
{
    if (gwe_ieq(v, n, "on"))
        *out = GWE_ON;
    else if (gwe_ieq(v, n, "off"))
        *out = GWE_OFF;
    else if (allow_auto && gwe_ieq(v, n, "auto"))
        *out = GWE_AUTO;
    else
        return -1;
    return 0;
}

static int parse_secure(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_switch(&a->secure, v, n, 1);
}

static int parse_httponly(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_switch(&a->httponly, v, n, 0);
}

static int parse_partitioned(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_switch(&a->partitioned, v, n, 0);
}

static int parse_samesite(gwe_cookie_attrs *a, const char *v, size_t n)
{
    if (gwe_ieq(v, n, "strict"))
        a->samesite = GWE_SAMESITE_STRICT;
    else if (gwe_ieq(v, n, "lax"))
        a->samesite = GWE_SAMESITE_LAX;
    else if (gwe_ieq(v, n, "none"))
        a->samesite = GWE_SAMESITE_NONE;
    else
        return -1;
    return 0;
}

/* Decimal digits only (no sign, no spaces), 1 .. max. */
static int parse_seconds(long *out, const char *v, size_t n, long max)
{
    long s = 0;
    size_t i;

    if (n == 0)
        return -1;
    for (i = 0; i < n; i++) {
        if (!gwe_is_digit((unsigned char)v[i]))
            return -1;
        s = s * 10 + (v[i] - '0');
        if (s > max)
            return -1;
    }
    if (s == 0)
        return -1;
    *out = s;
    return 0;
}

static int parse_max_age(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_seconds(&a->max_age, v, n, MAX_AGE_MAX);
}

static int parse_maxidle(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_seconds(&a->maxidle, v, n, GWE_COOKIE_AGE_MAX);
}

static int parse_maxlife(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_seconds(&a->maxlife, v, n, GWE_COOKIE_AGE_MAX);
}

static int parse_opaque(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_switch(&a->opaque, v, n, 0);
}

static int parse_indirect(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_switch(&a->indirect, v, n, 0);
}

static int parse_nocache(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_switch(&a->nocache, v, n, 0);
}

static int parse_issue(gwe_cookie_attrs *a, const char *v, size_t n)
{
    return parse_switch(&a->issue, v, n, 0);
}

/* accept | refuse, kept as ON | OFF */
static int parse_legacy(gwe_cookie_attrs *a, const char *v, size_t n)
{
    if (gwe_ieq(v, n, "accept"))
        a->legacy = GWE_ON;
    else if (gwe_ieq(v, n, "refuse"))
        a->legacy = GWE_OFF;
    else
        return -1;
    return 0;
}

static const char *switch_name(enum gwe_switch s)
{
    return s == GWE_ON ? "on" : s == GWE_OFF ? "off" : "auto";
}

static const char *samesite_name(enum gwe_samesite s)
{
    return s == GWE_SAMESITE_STRICT ? "Strict"
           : s == GWE_SAMESITE_LAX  ? "Lax"
           : s == GWE_SAMESITE_NONE ? "None"
                                    : "unset";
}

typedef struct attr_def {
    const char *key; /* lower case */
    unsigned bit;
    int (*parse)(gwe_cookie_attrs *a, const char *v, size_t n);
    const char *allowed;
} attr_def;

static const attr_def attr_defs[] = {
    {"path", ATTR_PATH, parse_path,
     "a path that starts with '/' and has no spaces, ';' or control "
     "characters"},
    {"domain", ATTR_DOMAIN, parse_domain,
     "a host name such as example.com or .example.com"},
    {"secure", ATTR_SECURE, parse_secure, "on, off or auto"},
    {"httponly", ATTR_HTTPONLY, parse_httponly, "on or off"},
    {"samesite", ATTR_SAMESITE, parse_samesite, "Strict, Lax or None"},
    {"max-age", ATTR_MAX_AGE, parse_max_age,
     "a number of seconds from 1 to 2147483647"},
    {"partitioned", ATTR_PARTITIONED, parse_partitioned, "on or off"},
    {"maxidle", ATTR_MAXIDLE, parse_maxidle,
     "a number of seconds from 1 to 315360000 (ten years)"},
    {"maxlife", ATTR_MAXLIFE, parse_maxlife,
     "a number of seconds from 1 to 315360000 (ten years)"},
    {"opaque", ATTR_OPAQUE, parse_opaque, "on or off"},
    {"indirect", ATTR_INDIRECT, parse_indirect, "on or off"},
    {"nocache", ATTR_NOCACHE, parse_nocache, "on or off"},
    {"issue", ATTR_ISSUE, parse_issue, "on or off"},
    {"legacy", ATTR_LEGACY, parse_legacy, "accept or refuse"},
};

/* 1 if attribute bit holds the same value in a and b. */
static int same_value(const gwe_cookie_attrs *a, const gwe_cookie_attrs *b,
                      unsigned bit)
{
    switch (bit) {
    case ATTR_PATH:
        return a->path.len == b->path.len &&
               memcmp(a->path.ptr, b->path.ptr, a->path.len) == 0;
    case ATTR_DOMAIN: {
        size_t i;

        if (a->domain.len != b->domain.len)
            return 0;
        for (i = 0; i < a->domain.len; i++) {
            if (gwe_ascii_lower((unsigned char)a->domain.ptr[i]) !=
                gwe_ascii_lower((unsigned char)b->domain.ptr[i]))
                return 0;
        }
        return 1;
    }
    case ATTR_SECURE:
        return a->secure == b->secure;
    case ATTR_HTTPONLY:
        return a->httponly == b->httponly;
    case ATTR_SAMESITE:
        return a->samesite == b->samesite;
    case ATTR_MAX_AGE:
        return a->max_age == b->max_age;
    case ATTR_MAXIDLE:
        return a->maxidle == b->maxidle;
    case ATTR_MAXLIFE:
        return a->maxlife == b->maxlife;
    case ATTR_OPAQUE:
        return a->opaque == b->opaque;
    case ATTR_INDIRECT:
        return a->indirect == b->indirect;
    case ATTR_NOCACHE:
        return a->nocache == b->nocache;
    case ATTR_ISSUE:
        return a->issue == b->issue;
    case ATTR_LEGACY:
        return a->legacy == b->legacy;
    default:
        return a->partitioned == b->partitioned;
    }
}

/* Appends the value of attribute bit in a, quoted. */
static void msg_value(msg *m, const gwe_cookie_attrs *a, unsigned bit)
{
    char d[GWE_DECIMAL_MAX];
    const char *word;
    size_t i;

    switch (bit) {
    case ATTR_PATH:
        msg_quoted(m, a->path.ptr, a->path.len);
        return;
    case ATTR_DOMAIN:
        msg_quoted(m, a->domain.ptr, a->domain.len);
        return;
    case ATTR_MAX_AGE:
    case ATTR_MAXIDLE:
    case ATTR_MAXLIFE:
        i = gwe_decimal(d, bit == ATTR_MAX_AGE   ? a->max_age
                           : bit == ATTR_MAXIDLE ? a->maxidle
                                                 : a->maxlife);
        msg_quoted(m, d + i, GWE_DECIMAL_MAX - i);
        return;
    case ATTR_OPAQUE:
        word = switch_name(a->opaque);
        break;
    case ATTR_INDIRECT:
        word = switch_name(a->indirect);
        break;
    case ATTR_NOCACHE:
        word = switch_name(a->nocache);
        break;
    case ATTR_ISSUE:
        word = switch_name(a->issue);
        break;
    case ATTR_LEGACY:
        word = a->legacy == GWE_ON ? "accept" : "refuse";
        break;
    case ATTR_SECURE:
        word = switch_name(a->secure);
        break;
    case ATTR_HTTPONLY:
        word = switch_name(a->httponly);
        break;
    case ATTR_SAMESITE:
        word = samesite_name(a->samesite);
        break;
    default:
        word = switch_name(a->partitioned);
        break;
    }
    msg_quoted(m, word, strlen(word));
}

int gwe_cookie_attr_parse(gwe_cookie_attrs *a, const char *word, size_t len,
                          char *err, size_t errcap)
{
    const char *eq = word ? memchr(word, '=', len) : NULL;
    const char *v;
    size_t klen, vlen, i;
    gwe_cookie_attrs t;
    msg m;

    msg_init(&m, err, errcap);
    if (eq == NULL) {
        msg_str(&m, DIRECTIVE ": ");
        msg_quoted(&m, word, word ? len : 0);
        msg_str(&m,
                " is not an attribute=value pair; allowed attributes: " KEYS);
        return -1;
    }
    klen = (size_t)(eq - word);
    v = eq + 1;
    vlen = len - klen - 1;
    for (i = 0; i < sizeof attr_defs / sizeof attr_defs[0]; i++) {
        const attr_def *d = &attr_defs[i];

        if (!gwe_ieq(word, klen, d->key))
            continue;
        t = *a;
        if (d->parse(&t, v, vlen) < 0) {
            msg_str(&m, DIRECTIVE ": invalid ");
            msg_str(&m, d->key);
            msg_str(&m, " ");
            msg_quoted(&m, v, vlen);
            msg_str(&m, "; allowed: ");
            msg_str(&m, d->allowed);
            return -1;
        }
        if ((a->set & d->bit) && !same_value(a, &t, d->bit)) {
            msg_str(&m, DIRECTIVE ": ");
            msg_str(&m, d->key);
            msg_str(&m, " given twice with different values (");
            msg_value(&m, a, d->bit);
            msg_str(&m, ", then ");
            msg_value(&m, &t, d->bit);
            msg_str(&m, ")");
            return -1;
        }
        if (!(a->set & d->bit))
            *a = t;
        a->set |= d->bit;
        return 0;
    }
    msg_str(&m, DIRECTIVE ": unknown attribute ");
    msg_quoted(&m, word, klen);
    msg_str(&m, "; allowed attributes: " KEYS);
    return -1;
}

int gwe_cookie_attrs_check(const gwe_cookie_attrs *a, char *err, size_t errcap)
{
    msg m;

    msg_init(&m, err, errcap);
    if (a->secure != GWE_OFF)
        return 0;
    if (a->samesite == GWE_SAMESITE_NONE) {
        msg_str(&m,
                DIRECTIVE ": samesite=None needs secure=on or "
                          "secure=auto; browsers drop a SameSite=None cookie "
                          "without Secure");
        return -1;
    }
    if (a->partitioned == GWE_ON) {
        msg_str(&m,
                DIRECTIVE ": partitioned=on needs secure=on or "
                          "secure=auto; browsers drop a Partitioned cookie "
                          "without Secure");
        return -1;
    }
    return 0;
}

int gwe_cookie_attrs_check_keys(const gwe_cookie_attrs *a, size_t nkeys,
                                char *err, size_t errcap)
{
    const char *need = a->maxidle            ? "maxidle"
                       : a->maxlife          ? "maxlife"
                       : a->opaque == GWE_ON ? "opaque=on"
                                             : NULL;
    msg m;

    msg_init(&m, err, errcap);
    if (a->issue == GWE_OFF && (nkeys || need)) {
        msg_str(&m, DIRECTIVE ": issue=off cannot be combined with ");
        msg_str(&m, nkeys ? "GWELBCookieKey" : need);
        msg_str(&m, ": the members set the cookie, so the load balancer "
                    "cannot sign or date it");
        return -1;
    }
    if (need && !nkeys) {
        msg_str(&m, DIRECTIVE ": ");
        msg_str(&m, need);
        msg_str(&m, " needs GWELBCookieKey: only a signed cookie carries "
                    "dates and hides its route");
        return -1;
    }
    return 0;
}
