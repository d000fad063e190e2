/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * chars.h - character classes and small scanning helpers shared by the
 * sticky/ parsers.  Private to sticky/: not part of the sticky.h contract.
 *
 * Everything here is a static inline function over single bytes or an
 * explicit [p, end) range, so the parsers never read past their input.
 */
#ifndef GWE_STICKY_CHARS_H
#define GWE_STICKY_CHARS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
/* GWE_NO_SIMD builds the portable path on x86-64 too, so the tests can
 * cover both. */
#if defined(__SSE2__) && !defined(GWE_NO_SIMD)
#define GWE_SSE2 1
#define GWE_HAVE_SSE2 1
#include <emmintrin.h>
#else
#define GWE_HAVE_SSE2 0
#endif

/* The first c in [p, end), or end.  memchr is the fast path: glibc scans
 * many bytes per instruction, which keeps the per-request cost low. */
static inline const char *gwe_find(const char *p, const char *end, char c)
{
    const char *q;

    if (p >= end)
        return end;
    q = memchr(p, (unsigned char)c, (size_t)(end - p));
    return q ? q : end;
}

/*
 * The first a or b in [p, end), or end.  Query parameters and cookie
 * pairs are short (tens of bytes), where a library call costs more than
 * the scan, so this is inline and tests many bytes per step:
 *
 *  - with SSE2 (every x86-64), 16 bytes per compare;
 *  - otherwise 8 bytes per step in plain C: a byte of w equals a exactly
 *    when that byte of x = w ^ (a * 0x01..01) is zero, and
 *    (x - 0x01..01) & ~x & 0x80..80 flags the first zero byte of x
 *    exactly (bytes above it may be flagged too, hence "first").
 *
 * Blocks are loaded only while a whole block remains before end, so
 * nothing past end is read; the last bytes go one by one.
 */
static inline const char *gwe_find2(const char *p, const char *end, char a,
                                    char b)
{
    const uint64_t ones = 0x0101010101010101u;
    const uint64_t highs = 0x8080808080808080u;
    const uint64_t wa = ones * (unsigned char)a;
    const uint64_t wb = ones * (unsigned char)b;
#ifdef GWE_SSE2
    const __m128i va = _mm_set1_epi8(a);
    const __m128i vb = _mm_set1_epi8(b);

    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)));

        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (end - p >= 8) {
        uint64_t w, xa, xb;

        memcpy(&w, p, 8);
        xa = w ^ wa;
        xb = w ^ wb;
        if ((((xa - ones) & ~xa) | ((xb - ones) & ~xb)) & highs)
            break;
        p += 8;
    }
    /* a value's last bytes (".node1" ending a Cookie header): four at a
     * time, the same test on 32 bits, before the last few one by one */
    if (end - p >= 4) {
        uint32_t w, xa, xb;

        memcpy(&w, p, 4);
        xa = w ^ (uint32_t)wa;
        xb = w ^ (uint32_t)wb;
        if (!((((xa - (uint32_t)ones) & ~xa) | ((xb - (uint32_t)ones) & ~xb)) &
              (uint32_t)highs))
            p += 4;
    }
    for (; p < end; p++) {
        if (*p == a || *p == b)
            return p;
    }
    return end;
}

/* RFC 7230 optional whitespace: SP or HTAB. */
static inline int gwe_is_ows(unsigned char c)
{
    return c == ' ' || c == '\t';
}

static inline int gwe_is_alpha(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int gwe_is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* RFC 7230 tchar: the characters of a token, hence of a cookie-name. */
static inline int gwe_is_tchar(unsigned char c)
{
    if (gwe_is_alpha(c) || gwe_is_digit(c))
        return 1;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return 1;
    default:
        return 0;
    }
}

/* RFC 6265 cookie-octet: visible US-ASCII except DQUOTE, ',', ';', '\'. */
static inline int gwe_is_cookie_octet(unsigned char c)
{
    return c >= 0x21 && c <= 0x7e && c != '"' && c != ',' && c != ';' &&
           c != '\\';
}

/* Value of a hex digit, or -1. */
static inline int gwe_hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static inline unsigned char gwe_ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* 1 if s[0..len) equals the NUL-terminated lower-case literal lit, ignoring
 * ASCII case. */
static inline int gwe_ieq(const char *s, size_t len, const char *lit)
{
    size_t i;

    for (i = 0; i < len; i++) {
        if (lit[i] == '\0' ||
            gwe_ascii_lower((unsigned char)s[i]) != (unsigned char)lit[i])
            return 0;
    }
    return lit[len] == '\0';
}

#if defined(GWE_SSE2) && defined(__GNUC__) && defined(__x86_64__)
#define GWE_AVX2 1
#include <immintrin.h>

/*
 * The dense search 64 bytes per step, on CPUs that have AVX2 (checked at
 * run time: the module is built for any x86-64).  Returns the first hit
 * in [p, last), or where fewer than 64 bytes remain; reads stay below
 * last + off.
 */
__attribute__((target("avx2"))) static inline const char *
gwe_find_pair_avx2(const char *p, const char *last, char a, size_t off, char b)
{
    const __m256i va = _mm256_set1_epi8(a);
    const __m256i vb = _mm256_set1_epi8(b);

    while (last - p >= 64) {
        const __m256i *q = (const __m256i *)(const void *)p;
        const __m256i *r = (const __m256i *)(const void *)(p + off);
        __m256i m0 =
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_loadu_si256(q), va),
                             _mm256_cmpeq_epi8(_mm256_loadu_si256(r), vb));
        __m256i m1 =
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_loadu_si256(q + 1), va),
                             _mm256_cmpeq_epi8(_mm256_loadu_si256(r + 1), vb));

        if (!_mm256_testz_si256(_mm256_or_si256(m0, m1),
                                _mm256_or_si256(m0, m1))) {
            unsigned lo = (unsigned)_mm256_movemask_epi8(m0);

            return lo ? p + __builtin_ctz(lo)
                      : p + 32 +
                            __builtin_ctz((unsigned)_mm256_movemask_epi8(m1));
        }
        p += 64;
    }
    return p;
}
#endif

/*
 * The first s in [p, end - off) with s[0] == a and s[off] == b, or end.
 * Name searches call it with the name's first byte and a byte at a fixed
 * distance.  memchr on a finds the pair at once when a is rare; once a
 * search has met one false hit (text full of a: hex session ids, or any
 * byte of an alphanumeric value every ~60 bytes, where a call per hit
 * costs more than the vector loop: bench/README.md), *dense is set and it
 * tests both
 * bytes 64 positions per step with AVX2 where the CPU has it, else 16 with
 * SSE2 (W. Mula's SIMD substring filter), so no text costs a call per
 * byte.  Callers keep *dense across the calls of one search.  Reads stay
 * inside [p, end).
 */
static inline const char *gwe_find_pair(const char *p, const char *end, char a,
                                        size_t off, char b, int *dense)
{
    const char *last;

    if (p >= end || (size_t)(end - p) <= off)
        return end;
    last = end - off; /* candidates lie before last */
    while (!*dense && p < last) {
        p = memchr(p, (unsigned char)a, (size_t)(last - p));
        if (p == NULL)
            return end;
        if (p[off] == b)
            return p;
        p++;
        /* without SSE2 the byte loop below is no better than memchr */
        if (GWE_HAVE_SSE2)
            *dense = 1;
    }
#ifdef GWE_AVX2
    if (last - p >= 64 && __builtin_cpu_supports("avx2")) {
        p = gwe_find_pair_avx2(p, last, a, off, b);
        if (last - p >= 64)
            return p; /* a hit */
    }
#endif
#ifdef GWE_SSE2
    {
        const __m128i va = _mm_set1_epi8(a);
        const __m128i vb = _mm_set1_epi8(b);

        while (last - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            __m128i y =
                _mm_loadu_si128((const __m128i *)(const void *)(p + off));
            unsigned m = (unsigned)_mm_movemask_epi8(
                _mm_and_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(y, vb)));

            if (m)
                return p + __builtin_ctz(m);
            p += 16;
        }
    }
#endif
    for (; p < last; p++)
        if (*p == a && p[off] == b)
            return p;
    return end;
}

/* Room for any long in decimal. */
#define GWE_DECIMAL_MAX 24

/* Writes v (a negative v as 0) in decimal at the END of d and returns the
 * index of its first digit: the digits are d[i .. GWE_DECIMAL_MAX). */
static inline size_t gwe_decimal(char d[GWE_DECIMAL_MAX], long v)
{
    size_t i = GWE_DECIMAL_MAX;
    unsigned long u = v < 0 ? 0 : (unsigned long)v;

    do {
        d[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u > 0);
    return i;
}

#endif /* GWE_STICKY_CHARS_H */
