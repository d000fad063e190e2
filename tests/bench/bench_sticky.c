/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * bench_sticky.c - per-call cost of gwe_sticky_extract and
 * gwe_rendezvous_pick (`make bench-micro`).
 *
 * A typical GWE request: a URL whose ~300-byte query carries the sticky
 * parameter, a ~600-byte Cookie header of 6 cookies with the route cookie
 * last, 4 members.  Measured for the parameter hit and for the cookie-only
 * path (same URL size, no parameter), then for inputs 10x larger to show
 * the growth per byte; then the client-ip fallback's pick over the same 4
 * members (weights 1,1,2,4) for 64 IPv4 and IPv6 addresses.  Linked with
 * -Wl,--wrap=malloc,... so every heap call made while measuring is counted;
 * sticky/ must make none.
 */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sticky.h"

/* ---- heap calls, counted through the linker's --wrap ------------------ */

static unsigned long heap_calls;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);

void *__wrap_malloc(size_t n)
{
    heap_calls++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    heap_calls++;
    return __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    heap_calls++;
    return __real_realloc(p, n);
}

/* ---- inputs ------------------------------------------------------------ */

static const gwe_slice members[] = {
    {"GWE_Frontend_1", 14},
    {"GWE_Frontend_2", 14},
    {"GWE_Backend_1", 13},
    {"GWE_Backend_2", 13},
};
static const gwe_slice params[] = {{"alias", 5}};
/* the unsigned cookie: no verify conf, no clock, legacy rules unused */
static const gwe_sticky_conf conf = {params, 1, {"ROUTEID", 7}, '.', NULL, 0,
                                     0};

/* Appends s to buf at *n. */
static void add(char *buf, size_t *n, const char *s)
{
    size_t l = strlen(s);

    memcpy(buf + *n, s, l);
    *n += l;
}

/*
 * URL: "/gwe/api/v2/notifications?" + scale x 11 analytics-style
 * parameters and, in the middle, the route parameter (with_param) or
 * another parameter of the same length: ~300 bytes of query at scale 1.
 * Cookie: scale x 5 ordinary cookies
 * (~580 bytes), then the route cookie: ~600 bytes and 6 cookies at scale
 * 1.
 */
static void build(char *url, size_t *ul, char *cookie, size_t *cl, int scale,
                  int with_param)
{
    int i, k;

    *ul = *cl = 0;
    add(url, ul, "/gwe/api/v2/notifications?");
    for (i = 0; i < scale; i++) {
        for (k = 0; k < 11; k++) {
            char p[48];

            snprintf(p, sizeof p, "%sutm_f%02d=v%010d", *ul > 26 ? "&" : "", k,
                     1234567 * (k + 1));
            add(url, ul, p);
            if (i == scale / 2 && k == 5)
                add(url, ul,
                    with_param
                        ? "&alias=7d1c0a66-9b2e-4e0f-8f53-1b2d3c4e5f60."
                          "GWE_Frontend_2"
                        : "&visitor=7d1c0a66-9b2e-4e0f-8f53-1b2d3c4e5f60"
                          ".a1b2c3d4e5f6");
        }
    }
    for (i = 0; i < scale; i++) {
        add(cookie, cl, "_ga=GA1.2.1234567890.1700000000; ");
        add(cookie, cl, "_gid=GA1.2.987654321.1700000001; ");
        add(cookie, cl,
            "JSESSIONID=node01abcdefghijklmnopqrstuvwxyz0123456789abcdefghi"
            "jklmnopq0.node0; ");
        add(cookie, cl,
            "gwe_visitor=3f6c1e2a-7b8d-4e9f-a0b1-c2d3e4f5a6b7.1700000000."
            "3f6c1e2a-7b8d-4e9f-a0b1-c2d3e4f5a6b8.1700000001.3f6c1e2a-7b8d-"
            "4e9f-a0b1-c2d3e4f5a6b9.1700000002; ");
        add(cookie, cl,
            "consent=%7B%22analytics%22%3Atrue%2C%22ads%22%3Afalse%2C%22"
            "functional%22%3Atrue%2C%22v%22%3A3%2C%22region%22%3A%22eu%22%2C"
            "%22ts%22%3A1700000000%2C%22id%22%3A%22b1c2d3e4f5a6b7c8d9e0f1a2b3"
            "c4d5e6%22%2C%22purposes%22%3A%5B1%2C2%2C3%2C4%2C5%2C6%2C7%2C8"
            "%2C9%2C10%5D%7D; ");
    }
    add(cookie, cl, "ROUTEID=.GWE_Backend_1");
}

static double now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

typedef struct run {
    const char *name;
    int scale;
    int with_param;
    enum gwe_route_source want;
    size_t url_bytes;
    size_t bytes; /* URL and Cookie header */
    double ns;
} run;

/* Timing takes the best of many short rounds: on a shared machine the
 * fastest round is the one least disturbed by other processes. */
#define ROUNDS 50

static volatile int sink;

/* Best of 7 rounds of `iters` calls, in ns per call. */
static double measure(run *r, unsigned long *calls_out)
{
    static char url[65536], cookie[65536];
    size_t ul, cl;
    gwe_slice cookies[1];
    gwe_sticky_result res;
    double best = 1e30;
    unsigned long iters = r->scale == 1 ? 200000 : 20000;
    unsigned long before;
    int round;

    build(url, &ul, cookie, &cl, r->scale, r->with_param);
    cookies[0].ptr = cookie;
    cookies[0].len = cl;
    r->url_bytes = ul;
    r->bytes = ul + cl;

    gwe_sticky_extract(&conf, url, ul, cookies, 1, members, 4, &res);
    if (res.source != r->want || res.route < 0) {
        fprintf(stderr, "%s: unexpected result source %d route %d\n", r->name,
                res.source, res.route);
        exit(1);
    }
    before = heap_calls;
    for (round = 0; round < ROUNDS; round++) {
        double t0 = now_ns(), t;
        unsigned long i;

        for (i = 0; i < iters; i++) {
            gwe_sticky_extract(&conf, url, ul, cookies, 1, members, 4, &res);
            sink += res.route;
        }
        t = (now_ns() - t0) / (double)iters;
        if (t < best)
            best = t;
    }
    *calls_out += heap_calls - before;
    r->ns = best;
    return best;
}

/* Best of ROUNDS rounds of gwe_rendezvous_pick over 64 addresses, in ns
 * per call. */
static double measure_pick(unsigned long *calls_out)
{
    static const unsigned weights[4] = {1, 1, 2, 4};
    char addrs[64][48];
    size_t lens[64];
    double best = 1e30;
    unsigned long before;
    int round, i;

    for (i = 0; i < 64; i++) {
        int n =
            i < 32 ? snprintf(addrs[i], sizeof addrs[i], "192.0.2.%d", 100 + i)
                   : snprintf(addrs[i], sizeof addrs[i],
                              "2001:db8:85a3::8a2e:370:%x", 0x7000 + i);

        lens[i] = (size_t)n;
    }
    before = heap_calls;
    for (round = 0; round < ROUNDS; round++) {
        double t0 = now_ns(), t;
        unsigned long k;

        for (k = 0; k < 200000; k++) {
            i = (int)(k & 63);
            sink += gwe_rendezvous_pick(addrs[i], lens[i], members, weights,
                                        NULL, 4);
        }
        t = (now_ns() - t0) / 200000.0;
        if (t < best)
            best = t;
    }
    *calls_out += heap_calls - before;
    return best;
}

int main(void)
{
    run runs[] = {
        {"param hit, typical", 1, 1, GWE_SOURCE_PARAM, 0, 0, 0},
        {"cookie only, typical", 1, 0, GWE_SOURCE_COOKIE, 0, 0, 0},
        {"param hit, 10x input", 10, 1, GWE_SOURCE_PARAM, 0, 0, 0},
        {"cookie only, 10x input", 10, 0, GWE_SOURCE_COOKIE, 0, 0, 0},
    };
    unsigned long calls = 0;
    size_t i;

    printf("gwe_sticky_extract, 4 members, best of %d rounds\n", ROUNDS);
    printf("  %-24s %5s %6s %7s %9s\n", "case", "url", "cookie", "ns/call",
           "ns/byte");
    for (i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        measure(&runs[i], &calls);
        printf("  %-24s %5zu %6zu %7.1f %9.3f\n", runs[i].name,
               runs[i].url_bytes, runs[i].bytes - runs[i].url_bytes,
               runs[i].ns, runs[i].ns / (double)runs[i].bytes);
    }
    for (i = 0; i < 2; i++) {
        const run *a = &runs[i], *b = &runs[i + 2];

        printf("  growth %-17s %.3f ns per added byte (%zu -> %zu bytes)\n",
               i == 0 ? "param hit:" : "cookie only:",
               (b->ns - a->ns) / (double)(b->bytes - a->bytes), a->bytes,
               b->bytes);
    }
    printf("gwe_rendezvous_pick, 4 members (weights 1,1,2,4), IPv4 and IPv6: "
           "%.1f ns/call\n",
           measure_pick(&calls));
    printf("  heap calls while measuring: %lu (malloc/calloc/realloc "
           "wrapped)\n",
           calls);
    return calls == 0 ? 0 : 1;
}
