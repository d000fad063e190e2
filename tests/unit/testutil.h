/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * testutil.h - helpers shared by the unit test suites.
 *
 * guard_*: every input a test hands to sticky/ is copied so that its last
 * byte sits right before a PROT_NONE page (picohttpparser's test.c trick):
 * reading one byte past the given length faults at once, with or without
 * AddressSanitizer.
 *
 * sb_*: a growable byte buffer to build the large inputs (8 KB values,
 * 5,000 parameters) that table rows describe with a builder function.
 */
#ifndef GWE_TESTUTIL_H
#define GWE_TESTUTIL_H

#include <stddef.h>
#include <string.h>
#include "sticky.h"

/* A byte string with its length, so rows can hold NUL bytes. */
typedef struct lit {
    const char *p;
    size_t n;
} lit;

#define L(s)                                                                  \
    {                                                                         \
        s, sizeof(s) - 1                                                      \
    }
#define NOLIT                                                                 \
    {                                                                         \
        NULL, 0                                                               \
    }
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

#define GUARD_MAX 16

typedef struct guard {
    void *base[GUARD_MAX];
    size_t size[GUARD_MAX];
    int n;
} guard;

void guard_init(guard *g);
/* A copy of src[0..len) that ends right before an unreadable page. */
const char *guard_dup(guard *g, const void *src, size_t len);
/* guard_dup of a NUL-terminated string, without its NUL. */
const char *guard_str(guard *g, const char *s);
void guard_release(guard *g);

typedef struct sb {
    char *p;
    size_t n;
    size_t cap;
} sb;

void sb_add(sb *b, const char *s, size_t n);
void sb_str(sb *b, const char *s);
void sb_rep(sb *b, const char *s, size_t times);
void sb_free(sb *b);

/*
 * fake_mac: a gwe_mac_fn for the tests, NOT a MAC: four FNV-1a lanes over
 * the concatenated parts, seeded by the key.  ctx is a NUL-terminated
 * string of key bytes; key i is ((const char *)ctx)[i].  Any changed byte
 * of any part, or another key, changes the output.  Key indexes past the
 * string fail (returns -1).  fake_mac_calls counts the calls.
 */
int fake_mac(void *ctx, int key_index, const gwe_slice *scope, size_t nscope,
             const gwe_slice *parts, size_t nparts, unsigned char out[32]);
extern unsigned long fake_mac_calls;

/* Check suites, one per sticky/ file; main.c runs them all. */
#include <check.h>
Suite *suite_url_param(void);
Suite *suite_cookie(void);
Suite *suite_pct(void);
Suite *suite_route(void);
Suite *suite_extract(void);
Suite *suite_cookie_attrs(void);
Suite *suite_set_cookie(void);
Suite *suite_guard(void);
Suite *suite_rendezvous(void);
Suite *suite_signed(void);
Suite *suite_signed_hmac(void);

#endif /* GWE_TESTUTIL_H */
