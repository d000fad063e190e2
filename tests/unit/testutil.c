/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * testutil.c - guarded input copies, a byte buffer and a fake MAC for the
 * unit tests.
 */
#define _DEFAULT_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fake_digest.h"
#include "testutil.h"

void guard_init(guard *g)
{
    g->n = 0;
}

/*
 * Default: the input ends right before an unreadable page, so reading one
 * byte past its end faults.
 *
 *   base                                  ret          base + size
 *   | ... readable pages ...  | (padding) |src bytes...| PROT_NONE page |
 *
 * With GWE_GUARD_FRONT set in the environment (make unit runs both), the
 * input starts right after an unreadable page, so reading one byte before
 * its start faults.
 *
 *   base             ret
 *   | PROT_NONE page |src bytes...| (padding) ... readable pages |
 */
const char *guard_dup(guard *g, const void *src, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t data = (len + page - 1) / page * page;
    size_t size = data + page;
    int front = getenv("GWE_GUARD_FRONT") != NULL;
    char *base, *ret;

    ck_assert_int_lt(g->n, GUARD_MAX);
    base = mmap(NULL, size, PROT_READ | PROT_WRITE,
                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(base, MAP_FAILED);
    ck_assert_int_eq(mprotect(front ? base : base + data, page, PROT_NONE), 0);
    ret = front ? base + page : base + data - len;
    if (len > 0)
        memcpy(ret, src, len);
    g->base[g->n] = base;
    g->size[g->n] = size;
    g->n++;
    return ret;
}

const char *guard_str(guard *g, const char *s)
{
    return guard_dup(g, s, strlen(s));
}

void guard_release(guard *g)
{
    while (g->n > 0) {
        g->n--;
        munmap(g->base[g->n], g->size[g->n]);
    }
}

void sb_add(sb *b, const char *s, size_t n)
{
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;

        while (cap < b->n + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        ck_assert_ptr_nonnull(b->p);
        b->cap = cap;
    }
    if (n > 0)
        memcpy(b->p + b->n, s, n);
    b->n += n;
}

void sb_str(sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

void sb_rep(sb *b, const char *s, size_t times)
{
    size_t len = strlen(s);

    while (times-- > 0)
        sb_add(b, s, len);
}

void sb_free(sb *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

unsigned long fake_mac_calls;

/* The digest is fake_digest.h's, shared with the fuzz targets. */
int fake_mac(void *ctx, int key_index, const gwe_slice *scope, size_t nscope,
             const gwe_slice *parts, size_t nparts, unsigned char out[32])
{
    const char *keys = ctx;

    fake_mac_calls++;
    if (key_index < 0 || (size_t)key_index >= strlen(keys))
        return -1;
    fake_digest((unsigned char)keys[key_index], scope, nscope, parts, nparts,
                out);
    return 0;
}
