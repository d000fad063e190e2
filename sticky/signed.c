/*
 * signed.c - the signed route cookie value (issue 13): building, parsing and
 * verifying it.  The format and the MAC input are described in sticky.h;
 * the MAC itself comes from the caller's gwe_mac_fn, so this file holds
 * no cryptography, only the layout, the constant-time comparison and the
 * time rules.
 */
#include "sticky.h"
#include "chars.h"
#include <stdint.h>
#include <string.h>

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Offsets of the fixed fields. */
#define OFF_KEY_ID 2
#define OFF_ISSUED 4
#define OFF_REFRESHED 10
#define OFF_DOT 16
/* Shortest value: a 1-byte route slot. */
#define SIGNED_MIN (GWE_SIGNED_PREFIX_LEN + 1 + 1 + GWE_SIGNED_MAC_LEN)
/* Bytes of the MAC kept: 22 base64url characters carry 132 bits, of which
 * the last 4 are zero. */
#define MAC_BYTES 16

static const char mac_label[] = "mod_gwe_lb route cookie";    /* and its NUL */
static const char opaque_label[] = "mod_gwe_lb opaque route"; /* and NUL */

/* Value of a base64url character, or -1. */
static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

int gwe_signed_key_id_char(char c)
{
    return b64_value((unsigned char)c) >= 0;
}

void gwe_signed_key_id(const unsigned char digest[2],
                       char id[GWE_SIGNED_KEY_ID_LEN])
{
    id[0] = b64[digest[0] >> 2];
    id[1] = b64[((digest[0] & 3) << 4) | (digest[1] >> 4)];
}

static void put_time(char *d, long long t)
{
    int i;

    for (i = GWE_SIGNED_TIME_LEN - 1; i >= 0; i--) {
        d[i] = b64[t & 63];
        t >>= 6;
    }
}

/* The time in d[0..6), or -1 if a character is not base64url. */
static long long get_time(const char *d)
{
    long long t = 0;
    int i;

    for (i = 0; i < GWE_SIGNED_TIME_LEN; i++) {
        int v = b64_value((unsigned char)d[i]);

        if (v < 0)
            return -1;
        t = t << 6 | v;
    }
    return t;
}

static void put_len(unsigned char d[8], size_t n)
{
    uint64_t u = (uint64_t)n;
    int i;

    for (i = 7; i >= 0; i--) {
        d[i] = (unsigned char)(u & 0xff);
        u >>= 8;
    }
}

/* Base64url of h[0..n), n a multiple of 3, into out; returns the number
 * of characters written (4 per 3 bytes). */
static size_t b64_groups(const unsigned char *h, size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 3 <= n; i += 3) {
        out[o++] = b64[h[i] >> 2];
        out[o++] = b64[((h[i] & 3) << 4) | (h[i + 1] >> 4)];
        out[o++] = b64[((h[i + 1] & 15) << 2) | (h[i + 2] >> 6)];
        out[o++] = b64[h[i + 2] & 63];
    }
    return o;
}

size_t gwe_signed_scope(gwe_slice cookie_name, gwe_slice balancer,
                        unsigned char lens[16],
                        gwe_slice out[GWE_SIGNED_SCOPE_PARTS])
{
    put_len(lens, cookie_name.len);
    put_len(lens + 8, balancer.len);
    out[0].ptr = mac_label;
    out[0].len = sizeof mac_label; /* with the NUL */
    out[1].ptr = (const char *)lens;
    out[1].len = 8;
    out[2] = cookie_name;
    out[3].ptr = (const char *)lens + 8;
    out[3].len = 8;
    out[4] = balancer;
    return GWE_SIGNED_SCOPE_PARTS;
}

/* The 22 MAC characters of a signed part, under key key_index derived for
 * the cookie name and balancer.  Returns 0, or -1 when mac fails. */
static int mac_chars(gwe_mac_fn mac, void *ctx, int key_index,
                     gwe_slice cookie_name, gwe_slice balancer,
                     const char *signed_part, size_t signed_len,
                     char out[GWE_SIGNED_MAC_LEN])
{
    unsigned char lens[16], h[32];
    gwe_slice scope[GWE_SIGNED_SCOPE_PARTS], part;
    size_t i, o, nscope = gwe_signed_scope(cookie_name, balancer, lens, scope);

    part.ptr = signed_part;
    part.len = signed_len;
    if (mac(ctx, key_index, scope, nscope, &part, 1, h) != 0)
        return -1;
    i = MAC_BYTES / 3 * 3; /* 15 bytes in groups, then the 16th */
    o = b64_groups(h, i, out);
    out[o++] = b64[h[i] >> 2];
    out[o++] = b64[(h[i] & 3) << 4];
    return 0;
}

/* Constant time for a fixed length: no branch on the bytes. */
static int same_mac(const char *a, const char *b)
{
    unsigned char d = 0;
    size_t i;

    for (i = 0; i < GWE_SIGNED_MAC_LEN; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int fields_ok(const gwe_signed_fields *f)
{
    return gwe_signed_key_id_char(f->key_id[0]) &&
           gwe_signed_key_id_char(f->key_id[1]) && f->issued >= 0 &&
           f->refreshed >= f->issued &&
           (long long)f->refreshed <= GWE_SIGNED_TIME_MAX &&
           f->route.len >= 1 && f->route.len <= GWE_ROUTE_MAX;
}

size_t gwe_signed_build(char *out, size_t cap, const gwe_signed_fields *f,
                        gwe_mac_fn mac, void *ctx, gwe_slice cookie_name,
                        gwe_slice balancer)
{
    size_t enc, len, signed_len;

    if (!fields_ok(f))
        return 0;
    enc = gwe_cookie_encode(f->route.ptr, f->route.len, NULL, 0);
    signed_len = GWE_SIGNED_PREFIX_LEN + enc;
    len = signed_len + 1 + GWE_SIGNED_MAC_LEN;
    if (out == NULL || cap <= len)
        return len;
    memcpy(out, GWE_SIGNED_TAG, 2);
    out[OFF_KEY_ID] = f->key_id[0];
    out[OFF_KEY_ID + 1] = f->key_id[1];
    put_time(out + OFF_ISSUED, f->issued);
    put_time(out + OFF_REFRESHED, f->refreshed);
    out[OFF_DOT] = '.';
    gwe_cookie_encode(f->route.ptr, f->route.len, out + OFF_DOT + 1, enc);
    out[signed_len] = '.';
    if (mac == NULL || mac_chars(mac, ctx, f->key_index, cookie_name, balancer,
                                 out, signed_len, out + signed_len + 1) != 0) {
        memset(out, 0, len);
        return 0;
    }
    out[len] = '\0';
    return len;
}

/* 1 if the route slot [p, end) is cookie-octets with well-formed escapes
 * and decodes to 1..GWE_ROUTE_MAX bytes. */
static int route_slot_ok(const char *p, const char *end)
{
    size_t decoded = 0;

    while (p < end) {
        unsigned char c = (unsigned char)*p;

        if (!gwe_is_cookie_octet(c))
            return 0;
        if (c == '%') {
            if (end - p < 3 || gwe_hex_value((unsigned char)p[1]) < 0 ||
                gwe_hex_value((unsigned char)p[2]) < 0)
                return 0;
            p += 3;
        } else {
            p++;
        }
        decoded++;
    }
    return decoded >= 1 && decoded <= GWE_ROUTE_MAX;
}

int gwe_signed_parse(const char *v, size_t len, gwe_signed_fields *out,
                     gwe_slice *signed_part, gwe_slice *mac_part)
{
    const char *mac;
    long long issued, refreshed;
    size_t i;

    if (len < SIGNED_MIN || len > GWE_SIGNED_MAX ||
        memcmp(v, GWE_SIGNED_TAG, 2) != 0 ||
        !gwe_signed_key_id_char(v[OFF_KEY_ID]) ||
        !gwe_signed_key_id_char(v[OFF_KEY_ID + 1]) || v[OFF_DOT] != '.')
        return -1;
    mac = v + len - GWE_SIGNED_MAC_LEN;
    if (mac[-1] != '.')
        return -1;
    for (i = 0; i < GWE_SIGNED_MAC_LEN; i++) {
        if (b64_value((unsigned char)mac[i]) < 0)
            return -1;
    }
    issued = get_time(v + OFF_ISSUED);
    refreshed = get_time(v + OFF_REFRESHED);
    if (issued < 0 || refreshed < issued ||
        !route_slot_ok(v + OFF_DOT + 1, mac - 1))
        return -1;
    if (out) {
        out->key_index = -1;
        out->key_id[0] = v[OFF_KEY_ID];
        out->key_id[1] = v[OFF_KEY_ID + 1];
        out->issued = (long)issued;
        out->refreshed = (long)refreshed;
        out->route.ptr = v + OFF_DOT + 1;
        out->route.len = (size_t)(mac - 1 - out->route.ptr);
    }
    if (signed_part) {
        signed_part->ptr = v;
        signed_part->len = (size_t)(mac - 1 - v);
    }
    if (mac_part) {
        mac_part->ptr = mac;
        mac_part->len = GWE_SIGNED_MAC_LEN;
    }
    return 0;
}

const char *gwe_cookie_status_name(enum gwe_cookie_status s)
{
    switch (s) {
    case GWE_COOKIE_ABSENT:
        return "absent";
    case GWE_COOKIE_LEGACY:
        return "legacy";
    case GWE_COOKIE_FORGED:
        return "forged";
    case GWE_COOKIE_EXPIRED:
        return "expired";
    case GWE_COOKIE_VALID:
        return "valid";
    default:
        return "forged";
    }
}

/* An unsigned value names a member the way gwe_sticky_extract resolves
 * it: its decoded tail is separator + route. */
static int is_legacy(const char *v, size_t len, const gwe_verify_conf *c)
{
    char tail[GWE_ROUTE_MAX + 1];
    size_t tlen;

    if (c->routes == NULL || c->nroutes == 0 ||
        gwe_pct_decode_tail(v, len, tail, sizeof tail, &tlen) < 0)
        return 0;
    return gwe_route_match(tail, tlen, c->separator, c->routes, c->nroutes) >=
           0;
}

/* The index of the first configured key with the value's id whose MAC
 * matches, or -1. */
static int verifying_key(const gwe_verify_conf *c, const gwe_signed_fields *f,
                         gwe_slice signed_part, gwe_slice mac_part)
{
    size_t i,
        n = c->nkeys < GWE_SIGNED_KEYS_MAX ? c->nkeys : GWE_SIGNED_KEYS_MAX;
    char want[GWE_SIGNED_MAC_LEN];

    if (c->mac == NULL || c->key_ids == NULL)
        return -1;
    for (i = 0; i < n; i++) {
        if (c->key_ids[2 * i] != f->key_id[0] ||
            c->key_ids[2 * i + 1] != f->key_id[1])
            continue;
        if (mac_chars(c->mac, c->mac_ctx, (int)i, c->cookie_name, c->balancer,
                      signed_part.ptr, signed_part.len, want) == 0 &&
            same_mac(want, mac_part.ptr))
            return (int)i;
    }
    return -1;
}

/* now - t without overflow: t is at most GWE_SIGNED_TIME_MAX. */
static long long age(long now, long t)
{
    return (long long)now - (long long)t;
}

/* 1 when the memo holds v, verified under what c verifies with. */
static int memo_holds(const gwe_verified *m, const gwe_verify_conf *c,
                      const char *v, size_t len)
{
    return m->len == len && m->mac == c->mac && m->mac_ctx == c->mac_ctx &&
           m->key_ids == c->key_ids && m->nkeys == c->nkeys &&
           m->cookie_name.ptr == c->cookie_name.ptr &&
           m->cookie_name.len == c->cookie_name.len &&
           m->balancer.ptr == c->balancer.ptr &&
           m->balancer.len == c->balancer.len &&
           /* not constant time, and need not be: both are values this
            * client sent, and the memo's verified */
           memcmp(m->value, v, len) == 0;
}

static void memo_keep(gwe_verified *m, const gwe_verify_conf *c, const char *v,
                      size_t len, const gwe_signed_fields *f)
{
    if (len > sizeof m->value)
        return; /* gwe_signed_parse refuses such values */
    m->mac = c->mac;
    m->mac_ctx = c->mac_ctx;
    m->key_ids = c->key_ids;
    m->nkeys = c->nkeys;
    m->cookie_name = c->cookie_name;
    m->balancer = c->balancer;
    memcpy(m->value, v, len);
    m->len = len;
    m->f = *f;
    m->route_at = (size_t)(f->route.ptr - v);
}

/* The verdict on the dates of a value whose MAC verified. */
static enum gwe_cookie_status judge_dates(const gwe_verify_conf *c,
                                          const gwe_signed_fields *f, long now)
{
    if (age(now, f->issued) < -GWE_SIGNED_FUTURE_MAX ||
        age(now, f->refreshed) < -GWE_SIGNED_FUTURE_MAX)
        return GWE_COOKIE_FORGED;
    if ((c->maxidle > 0 && age(now, f->refreshed) > c->maxidle) ||
        (c->maxlife > 0 && age(now, f->issued) > c->maxlife))
        return GWE_COOKIE_EXPIRED;
    return GWE_COOKIE_VALID;
}

enum gwe_cookie_status gwe_signed_verify(const char *v, size_t len,
                                         const gwe_verify_conf *c, long now,
                                         gwe_signed_fields *out)
{
    gwe_signed_fields f;
    gwe_slice signed_part, mac_part;

    memset(&f, 0, sizeof f);
    f.key_index = -1;
    if (out)
        *out = f;
    if (v == NULL || len == 0)
        return GWE_COOKIE_ABSENT;
    if (c->memo && memo_holds(c->memo, c, v, len)) {
        f = c->memo->f;
        f.route.ptr = v + c->memo->route_at;
        if (out)
            *out = f;
        return judge_dates(c, &f, now);
    }
    if (gwe_signed_parse(v, len, &f, &signed_part, &mac_part) != 0) {
        if (!is_legacy(v, len, c))
            return GWE_COOKIE_FORGED;
        if (out) {
            out->route.ptr = v;
            out->route.len = len;
        }
        return GWE_COOKIE_LEGACY;
    }
    f.key_index = verifying_key(c, &f, signed_part, mac_part);
    if (out)
        *out = f;
    if (f.key_index < 0)
        return GWE_COOKIE_FORGED;
    if (c->memo)
        memo_keep(c->memo, c, v, len, &f);
    return judge_dates(c, &f, now);
}

int gwe_signed_route_index(const gwe_signed_fields *f, const gwe_slice *routes,
                           size_t nroutes)
{
    char route[GWE_ROUTE_MAX + 1];
    size_t rlen, i;

    if (f->route.len == 0 ||
        gwe_pct_decode_tail(f->route.ptr, f->route.len, route, sizeof route,
                            &rlen) < 0 ||
        rlen > GWE_ROUTE_MAX)
        return -1;
    for (i = 0; i < nroutes; i++) {
        if (routes[i].len == rlen && rlen > 0 &&
            memcmp(routes[i].ptr, route, rlen) == 0)
            return (int)i;
    }
    return -1;
}

int gwe_signed_needs_refresh(const gwe_signed_fields *f, long now,
                             long maxidle)
{
    long quarter = maxidle / 4 > 0 ? maxidle / 4 : 1;

    if (maxidle <= 0)
        return 0;
    return age(now, f->refreshed) >= quarter;
}

int gwe_signed_opaque_id(gwe_mac_fn mac, void *ctx, int key_index,
                         gwe_slice route, char out[GWE_OPAQUE_ID_LEN])
{
    unsigned char h[32];
    gwe_slice parts[2];

    if (mac == NULL || route.len == 0 || route.len > GWE_ROUTE_MAX)
        return -1;
    parts[0].ptr = opaque_label;
    parts[0].len = sizeof opaque_label; /* with the NUL */
    parts[1] = route;
    if (mac(ctx, key_index, NULL, 0, parts, 2, h) != 0)
        return -1;
    b64_groups(h, GWE_OPAQUE_ID_LEN / 4 * 3, out); /* 12 bytes */
    return 0;
}

int gwe_signed_member_index(const gwe_signed_fields *f,
                            const gwe_verify_conf *c, const gwe_slice *routes,
                            size_t nroutes)
{
    char id[GWE_OPAQUE_ID_LEN];
    size_t i;
    int r = gwe_signed_route_index(f, routes, nroutes);

    if (r >= 0 || c->opaque_id == NULL || f->key_index < 0 ||
        f->route.len != GWE_OPAQUE_ID_LEN)
        return r;
    for (i = 0; i < GWE_OPAQUE_ID_LEN; i++) {
        if (b64_value((unsigned char)f->route.ptr[i]) < 0)
            return -1;
    }
    for (i = 0; i < nroutes; i++) {
        if (routes[i].len &&
            c->opaque_id(c->opaque_ctx, f->key_index, i, routes[i], id) == 0 &&
            memcmp(id, f->route.ptr, GWE_OPAQUE_ID_LEN) == 0)
            return (int)i;
    }
    return -1;
}
