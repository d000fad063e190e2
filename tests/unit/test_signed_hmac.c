/*
 * test_signed_hmac.c - the signed value with a real HMAC-SHA256 from
 * OpenSSL's libcrypto, as the module glue computes it.  Built only when
 * the Makefile finds libcrypto 3 (GWE_TEST_LIBCRYPTO); otherwise the suite
 * is empty.  sticky/ itself never links libcrypto.
 *
 * The known-answer value pins the format and the MAC input of sticky.h:
 * a glue or another implementation that signs the same fields with the
 * same key must produce these exact bytes.
 */
#include "testutil.h"

#ifdef GWE_TEST_LIBCRYPTO
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

/* HMAC-SHA256 under key over the parts, one EVP_MAC context per call. */
static int hmac_parts(const unsigned char *key, size_t key_len,
                      const gwe_slice *parts, size_t nparts,
                      unsigned char out[32])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *c = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[2];
    size_t i, outl = 0;
    int ok;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    ok = c && EVP_MAC_init(c, key, key_len, params) == 1;
    for (i = 0; ok && i < nparts; i++)
        ok = EVP_MAC_update(c, (const unsigned char *)parts[i].ptr,
                            parts[i].len) == 1;
    ok = ok && EVP_MAC_final(c, out, &outl, 32) == 1 && outl == 32;
    EVP_MAC_CTX_free(c);
    EVP_MAC_free(mac);
    return ok ? 0 : -1;
}

/* ctx: an array of keys; each key is a NUL-terminated string here.  A
 * scope's key is derived on every call, as sticky.h defines it. */
static int openssl_mac(void *ctx, int key_index, const gwe_slice *scope,
                       size_t nscope, const gwe_slice *parts, size_t nparts,
                       unsigned char out[32])
{
    const char *const *keys = ctx;
    const char *key = keys[key_index];
    unsigned char derived[32];

    if (!nscope)
        return hmac_parts((const unsigned char *)key, strlen(key), parts,
                          nparts, out);
    return hmac_parts((const unsigned char *)key, strlen(key), scope, nscope,
                      derived) ||
           hmac_parts(derived, sizeof derived, parts, nparts, out);
}

/* RFC 4231 test case 2, the data split in two parts. */
START_TEST(rfc4231_vector)
{
    static const char *const keys[] = {"Jefe"};
    static const unsigned char want[32] = {
        0x5b, 0xdc, 0xc1, 0x46, 0xbf, 0x60, 0x75, 0x4e, 0x6a, 0x04, 0x24,
        0x26, 0x08, 0x95, 0x75, 0xc7, 0x5a, 0x00, 0x3f, 0x08, 0x9d, 0x27,
        0x39, 0x83, 0x9d, 0xec, 0x58, 0xb9, 0x64, 0xec, 0x38, 0x43};
    gwe_slice parts[2] = {{"what do ya ", 11}, {"want for nothing?", 17}};
    unsigned char out[32];

    ck_assert_int_eq(openssl_mac((void *)keys, 0, NULL, 0, parts, 2, out), 0);
    ck_assert(memcmp(out, want, 32) == 0);
}
END_TEST

/* The example of sticky.h, signed with key "0123456789abcdef0123456789abcdef"
 * for cookie ROUTEID of balancer://gwe. */
#define KAT_VALUE "g1KxBpM8NABpM8TQ.GWE_Frontend_1.h1OccA7xj0ecVr-mNn8g7g"

START_TEST(known_answer)
{
    static const char *const keys[] = {"0123456789abcdef0123456789abcdef"};
    static const char *const swapped[] = {"another key of 32 bytes or more..",
                                          "0123456789abcdef0123456789abcdef"};
    gwe_slice name = {"ROUTEID", 7}, bal = {"balancer://gwe", 14};
    gwe_signed_fields f, got;
    gwe_verify_conf c;
    char out[GWE_SIGNED_MAX + 1];
    size_t n;
    guard g;

    f.key_index = 0;
    f.key_id[0] = 'K';
    f.key_id[1] = 'x';
    f.issued = 1765000000;
    f.refreshed = 1765000400;
    f.route.ptr = "GWE_Frontend_1";
    f.route.len = 14;
    n = gwe_signed_build(out, sizeof out, &f, openssl_mac, (void *)keys, name,
                         bal);
    ck_assert_msg(n == sizeof KAT_VALUE - 1 && strcmp(out, KAT_VALUE) == 0,
                  "got %s", out);

    /* the verifier lists the signing key second: rotation step (a) */
    memset(&c, 0, sizeof c);
    c.mac = openssl_mac;
    c.mac_ctx = (void *)swapped;
    c.key_ids = "QqKx";
    c.nkeys = 2;
    c.cookie_name = name;
    c.balancer = bal;
    c.maxidle = 1800;
    c.maxlife = 86400;
    guard_init(&g);
    ck_assert_int_eq(
        gwe_signed_verify(guard_dup(&g, out, n), n, &c, 1765000500, &got),
        GWE_COOKIE_VALID);
    ck_assert_int_eq(got.key_index, 1);
    out[20] ^= 1; /* a route byte */
    ck_assert_int_eq(
        gwe_signed_verify(guard_dup(&g, out, n), n, &c, 1765000500, NULL),
        GWE_COOKIE_FORGED);
    guard_release(&g);
}
END_TEST
/* opaque=on (sticky.h): the identifier of GWE_Frontend_1 under the same
 * key, and the value of the example above with it in the route slot;
 * both computed independently with Python's hmac module. */
#define KAT_OPAQUE_ID "vx0TuiqwpAHRENvU"
#define KAT_OPAQUE_VALUE                                                      \
    "g1KxBpM8NABpM8TQ." KAT_OPAQUE_ID ".6HMCcAZ54Hie77SSovrNmQ"

START_TEST(opaque_known_answer)
{
    static const char *const keys[] = {"0123456789abcdef0123456789abcdef"};
    gwe_slice name = {"ROUTEID", 7}, bal = {"balancer://gwe", 14};
    gwe_slice route = {"GWE_Frontend_1", 14};
    gwe_signed_fields f;
    char id[GWE_OPAQUE_ID_LEN], out[GWE_SIGNED_MAX + 1];
    size_t n;

    ck_assert_int_eq(
        gwe_signed_opaque_id(openssl_mac, (void *)keys, 0, route, id), 0);
    ck_assert_msg(memcmp(id, KAT_OPAQUE_ID, sizeof id) == 0, "got %.16s", id);
    f.key_index = 0;
    f.key_id[0] = 'K';
    f.key_id[1] = 'x';
    f.issued = 1765000000;
    f.refreshed = 1765000400;
    f.route.ptr = id;
    f.route.len = sizeof id;
    n = gwe_signed_build(out, sizeof out, &f, openssl_mac, (void *)keys, name,
                         bal);
    ck_assert_msg(n == sizeof KAT_OPAQUE_VALUE - 1 &&
                      strcmp(out, KAT_OPAQUE_VALUE) == 0,
                  "got %s", out);
}
END_TEST

#endif /* GWE_TEST_LIBCRYPTO */

Suite *suite_signed_hmac(void)
{
    Suite *s = suite_create("signed_hmac");
#ifdef GWE_TEST_LIBCRYPTO
    TCase *t = tcase_create("HMAC-SHA256 from libcrypto");

    tcase_add_test(t, rfc4231_vector);
    tcase_add_test(t, known_answer);
    tcase_add_test(t, opaque_known_answer);
    suite_add_tcase(s, t);
#endif
    return s;
}
