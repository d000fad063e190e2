/*
 * fuzz_signed.c - gwe_signed_verify over arbitrary values, and the round
 * trip gwe_signed_build -> gwe_signed_verify over fuzzed fields, with a
 * fake MAC (not cryptography: the fuzzer tests the layout, not HMAC).
 *
 * Input: byte 0 = options (bits 0-2: number of keys - 1, bits 3-5: the
 * signing key, bit 6: the verifier's keys reversed); bytes 1-5 = issued
 * (36 bits used); bytes 6-7 = refreshed - issued; bytes 8-9 = maxidle,
 * byte 10 = maxlife in hours; bytes 11-12 = now - refreshed, signed; the
 * rest is both the value verified and (its first GWE_ROUTE_MAX bytes) the
 * route signed.
 * Checks: a VALID or EXPIRED value has the signed syntax, a verifying key
 * and times inside the rules; a LEGACY one has not the syntax; the built
 * value is cookie-octets, measured and written lengths agree, and it
 * verifies to the same fields and route, and only for its cookie name;
 * the same fields with the route's opaque identifier verify and name the
 * route through the verifier's gwe_opaque_id_fn (opaque=on); a memo of the
 * last verified value (README 4.8) changes no verdict and no field.
 */
#include "fuzz.h"

#define NOW_BASE 1765000000L

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int cookie_octet(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
           c != '\\';
}

/* The connection's memo of its last verified value (README 4.8); zeroed
 * per input. */
static gwe_verified memo;

/* With the memo, whatever it holds, the verdict and fields are the ones
 * without, twice (the second time perhaps from the memo). */
static void memo_agrees(const gwe_slice *v, const gwe_verify_conf *c, long now,
                        enum gwe_cookie_status st, const gwe_signed_fields *f)
{
    gwe_verify_conf mc = *c;
    gwe_signed_fields g;
    int i;

    mc.memo = &memo;
    for (i = 0; i < 2; i++) {
        FUZZ_ASSERT(gwe_signed_verify(v->ptr, v->len, &mc, now, &g) == st);
        FUZZ_ASSERT(g.key_index == f->key_index && g.issued == f->issued &&
                    g.refreshed == f->refreshed &&
                    g.route.ptr == f->route.ptr &&
                    g.route.len == f->route.len);
    }
}

static void check_verdict(const gwe_slice *v, const gwe_verify_conf *c,
                          long now)
{
    gwe_signed_fields f;
    enum gwe_cookie_status st = gwe_signed_verify(v->ptr, v->len, c, now, &f);
    int parsed = gwe_signed_parse(v->ptr, v->len, NULL, NULL, NULL) == 0;

    memo_agrees(v, c, now, st, &f);
    FUZZ_ASSERT(st >= GWE_COOKIE_ABSENT && st <= GWE_COOKIE_VALID);
    FUZZ_ASSERT(gwe_cookie_status_name(st) != NULL);
    if (st == GWE_COOKIE_ABSENT)
        FUZZ_ASSERT(v->len == 0);
    if (st == GWE_COOKIE_LEGACY)
        FUZZ_ASSERT(!parsed && f.route.ptr == v->ptr);
    if (st == GWE_COOKIE_VALID || st == GWE_COOKIE_EXPIRED) {
        FUZZ_ASSERT(parsed && f.key_index >= 0 &&
                    (size_t)f.key_index < c->nkeys);
        FUZZ_ASSERT(f.issued <= f.refreshed);
        FUZZ_ASSERT(f.refreshed - now <= GWE_SIGNED_FUTURE_MAX);
        FUZZ_ASSERT(f.route.ptr > v->ptr &&
                    f.route.ptr + f.route.len < v->ptr + v->len);
        gwe_signed_route_index(&f, c->routes, c->nroutes);
        FUZZ_ASSERT(gwe_signed_member_index(&f, c, c->routes, c->nroutes) <
                    (int)c->nroutes);
        gwe_signed_needs_refresh(&f, now, c->maxidle);
    }
    if (st == GWE_COOKIE_VALID) {
        FUZZ_ASSERT(c->maxidle == 0 || now - f.refreshed <= c->maxidle);
        FUZZ_ASSERT(c->maxlife == 0 || now - f.issued <= c->maxlife);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const gwe_slice routes[] = {{"n1", 2}, {"GWE_Frontend_1", 14}};
    fuzz_in in;
    fuzz_fake_keys keys, vkeys;
    char ids[2 * GWE_SIGNED_KEYS_MAX], vids[2 * GWE_SIGNED_KEYS_MAX];
    char *out, dec[GWE_ROUTE_MAX + 1], id[GWE_OPAQUE_ID_LEN];
    char opaque[GWE_SIGNED_MAX + 1];
    gwe_verify_conf c;
    gwe_signed_fields f, got;
    gwe_slice value, route, name = {"ROUTEID", 7}, bal = {"balancer://b", 12};
    unsigned opt, signer, i;
    long long issued = 0;
    long now;
    size_t n, dl;

    fuzz_init(&in, data, size);
    memset(&memo, 0, sizeof memo);
    opt = fuzz_byte(&in);
    keys.n = (opt & 7) + 1;
    signer = ((opt >> 3) & 7) % keys.n;
    for (i = 0; i < 5; i++)
        issued = issued << 8 | fuzz_byte(&in);
    issued &= GWE_SIGNED_TIME_MAX;
    f.issued = (long)issued;
    f.refreshed = f.issued + (long)(fuzz_byte(&in) << 8 | fuzz_byte(&in));
    if ((long long)f.refreshed > GWE_SIGNED_TIME_MAX)
        f.refreshed = f.issued;
    memset(&c, 0, sizeof c);
    c.maxidle = (long)(fuzz_byte(&in) << 8 | fuzz_byte(&in));
    c.maxlife = (long)fuzz_byte(&in) * 3600;
    now = f.refreshed + (int16_t)(fuzz_byte(&in) << 8 | fuzz_byte(&in));
    value = fuzz_take(&in, in.n);

    /* keys: key i is byte i, with id b64[i] b64[i / 2] (pairs collide) */
    for (i = 0; i < keys.n; i++) {
        keys.k[i] = (unsigned char)i;
        ids[2 * i] = b64[i / 2];
        ids[2 * i + 1] = b64[i / 2 + 1];
    }
    vkeys = keys;
    memcpy(vids, ids, sizeof ids);
    if (opt & 64) { /* the verifier lists the same keys in reverse */
        for (i = 0; i < keys.n; i++) {
            vkeys.k[i] = keys.k[keys.n - 1 - i];
            memcpy(vids + 2 * i, ids + 2 * (keys.n - 1 - i), 2);
        }
    }
    c.mac = fuzz_fake_mac;
    c.mac_ctx = &vkeys;
    c.opaque_id = fuzz_fake_opaque_id;
    c.opaque_ctx = &vkeys;
    c.key_ids = vids;
    c.nkeys = vkeys.n;
    c.cookie_name = name;
    c.balancer = bal;
    c.separator = '.';
    c.routes = routes;
    c.nroutes = 2;

    /* 1: whatever the value, a verdict within the rules */
    check_verdict(&value, &c, NOW_BASE + (long)(size * 977));
    check_verdict(&value, &c, now);

    /* 2: build -> verify round trip of the fuzzed fields */
    route.ptr = value.len ? value.ptr : "r";
    route.len = value.len ? value.len : 1;
    if (route.len > GWE_ROUTE_MAX)
        route.len = GWE_ROUTE_MAX;
    f.key_index = (int)signer;
    memcpy(f.key_id, ids + 2 * signer, 2);
    f.route = route;
    n = gwe_signed_build(NULL, 0, &f, fuzz_fake_mac, &keys, name, bal);
    FUZZ_ASSERT(n > 0 && n <= GWE_SIGNED_MAX);
    out = malloc(n + 1);
    FUZZ_ASSERT(out);
    FUZZ_ASSERT(
        gwe_signed_build(out, n, &f, fuzz_fake_mac, &keys, name, bal) == n);
    FUZZ_ASSERT(gwe_signed_build(out, n + 1, &f, fuzz_fake_mac, &keys, name,
                                 bal) == n);
    FUZZ_ASSERT(out[n] == '\0');
    for (i = 0; i < n; i++)
        FUZZ_ASSERT(cookie_octet((unsigned char)out[i]));
    c.maxidle = c.maxlife = 0;
    FUZZ_ASSERT(gwe_signed_verify(out, n, &c, f.refreshed, &got) ==
                GWE_COOKIE_VALID);
    FUZZ_ASSERT(got.issued == f.issued && got.refreshed == f.refreshed);
    FUZZ_ASSERT(vkeys.k[got.key_index] == keys.k[signer]);
    FUZZ_ASSERT(gwe_pct_decode_tail(got.route.ptr, got.route.len, dec,
                                    sizeof dec, &dl) == 0);
    FUZZ_ASSERT(dl == route.len && memcmp(dec, route.ptr, dl) == 0);
    FUZZ_ASSERT(gwe_signed_route_index(&got, &route, 1) == 0);
    /* the memo, holding the built value now, changes no verdict on the
     * fuzzed one */
    {
        gwe_slice built = {out, n};

        memo_agrees(&built, &c, f.refreshed, GWE_COOKIE_VALID, &got);
        check_verdict(&value, &c, now);
    }
    /* opaque=on: the route's identifier under the signer, found again
     * under whatever place the verifier gives that key */
    FUZZ_ASSERT(gwe_signed_opaque_id(fuzz_fake_mac, &keys, (int)signer, route,
                                     id) == 0);
    f.route.ptr = id;
    f.route.len = sizeof id;
    FUZZ_ASSERT(gwe_signed_build(opaque, sizeof opaque, &f, fuzz_fake_mac,
                                 &keys, name, bal) > 0);
    FUZZ_ASSERT(gwe_signed_verify(opaque, strlen(opaque), &c, f.refreshed,
                                  &got) == GWE_COOKIE_VALID);
    FUZZ_ASSERT(gwe_signed_member_index(&got, &c, &route, 1) == 0);
    /* the same value for another cookie name does not verify */
    c.cookie_name.len = 6;
    FUZZ_ASSERT(gwe_signed_verify(out, n, &c, f.refreshed, NULL) ==
                GWE_COOKIE_FORGED);
    free(out);
    fuzz_free(&in);
    return 0;
}
