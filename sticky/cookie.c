/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * cookie.c - iterate over the values of one cookie in a Cookie header
 * (README 4.2).
 *
 * The grammar is RFC 6265's "name=value" pairs separated by ';', read
 * leniently in three named ways: optional spaces and tabs around the
 * separators and around '=', pairs without '=' skipped, and a ',' that is
 * followed by "token=" starting a new pair, because httpd joins repeated
 * Cookie header lines with ", " (apr_table_mergen).  Any other ',' stays in
 * the value, so "ROUTEID=abc,def.BE_2" is one pair.  The rule is local to
 * the comma: a pair boundary never depends on what came before it, which
 * keeps the scan linear and the result independent of where it started.
 */
#include "sticky.h"
#include "chars.h"

void gwe_cookie_iter_init(gwe_cookie_iter *it, const char *header, size_t len)
{
    it->begin = header;
    it->pos = header;
    it->dense = 0;
    it->end = header ? header + len : header;
    it->pair = it->pair_end = NULL;
}

/* 1 if the ',' at c is followed by OWS, a token, OWS and '=': the start of
 * a pair from a joined header line.  The look-ahead stops at the first byte
 * that is neither OWS nor tchar, at the latest at the next ',' or ';'. */
static int comma_starts_pair(const char *c, const char *end)
{
    const char *p = c + 1;
    const char *tok;

    while (p < end && gwe_is_ows((unsigned char)*p))
        p++;
    tok = p;
    while (p < end && gwe_is_tchar((unsigned char)*p))
        p++;
    if (p == tok)
        return 0;
    while (p < end && gwe_is_ows((unsigned char)*p))
        p++;
    return p < end && *p == '=';
}

/* 1 if a pair starts at s: s is the header's first non-OWS byte, or OWS
 * back from s stands ';' or ','.  A ',' there starts a pair whenever s
 * holds "name OWS =", so the rule agrees with a scan pair by pair. */
static int starts_pair(const char *begin, const char *s)
{
    while (s > begin && gwe_is_ows((unsigned char)s[-1]))
        s--;
    return s == begin || s[-1] == ';' || s[-1] == ',';
}

/* The end of the pair whose value starts at v: the next ';', or an earlier
 * ',' that starts a pair. */
static const char *pair_end(const char *v, const char *end)
{
    const char *pe = gwe_find2(v, end, ';', ',');

    while (pe < end && *pe == ',' && !comma_starts_pair(pe, end))
        pe = gwe_find2(pe + 1, end, ';', ',');
    return pe;
}

/*
 *   a=1; ROUTEID = "x.n1" , b=2;c
 *        ^       ^  ^   ^ ^
 *        s       q  |   | pe
 *                   |   |
 *                   |   vend: before the closing quote and OWS
 *                   v: after OWS and the opening quote
 *
 * s is an occurrence of the name (found by its first and last bytes with
 * gwe_find_pair, so long headers of other cookies are skipped, not
 * parsed), accepted when a
 * pair starts there and OWS and '=' follow; q is that '=', pe the pair end.
 * The next search resumes at pe (or past a rejected s): every byte is read
 * a bounded number of times.
 */
int gwe_cookie_next(gwe_cookie_iter *it, const char *name, size_t name_len,
                    gwe_slice *value)
{
    const char *p = it->pos;
    const char *end = it->end;

    if (p == NULL || name == NULL || name_len == 0) {
        it->pos = end;
        return 0;
    }
    for (;;) {
        const char *s, *q, *v, *vend, *pe;

        s = gwe_find_pair(p, end, *name, name_len - 1, name[name_len - 1],
                          &it->dense);
        if ((size_t)(end - s) <= name_len)
            break;
        p = s + 1;
        if (memcmp(s, name, name_len) != 0 || !starts_pair(it->begin, s))
            continue;
        q = s + name_len;
        while (q < end && gwe_is_ows((unsigned char)*q))
            q++;
        if (q == end || *q != '=')
            continue;

        v = q + 1;
        pe = pair_end(v, end);
        while (v < pe && gwe_is_ows((unsigned char)*v))
            v++;
        vend = pe;
        while (vend > v && gwe_is_ows((unsigned char)vend[-1]))
            vend--;
        if (vend - v >= 2 && *v == '"' && vend[-1] == '"') {
            v++;
            vend--;
        }
        value->ptr = v;
        value->len = (size_t)(vend - v);
        it->pos = pe;
        it->pair = s;
        it->pair_end = pe;
        return 1;
    }
    it->pos = end;
    return 0;
}

size_t gwe_cookie_strip(const char *header, size_t len, const char *name,
                        size_t name_len, char *out, size_t cap,
                        size_t *removed)
{
    gwe_cookie_iter it;
    gwe_slice v;
    const char *from = header, *end = header + len;
    size_t n = 0, nremoved = 0;

    if (removed)
        *removed = 0;
    if (header == NULL || out == NULL || cap < len)
        return 0;
    gwe_cookie_iter_init(&it, header, len);
    while (gwe_cookie_next(&it, name, name_len, &v)) {
        const char *next = it.pair_end;

        /* a name that begins with spaces (never a cookie-name, but any
         * bytes are handled) can start inside the spaces already dropped
         * with the pair before: nothing to copy then */
        if (it.pair > from) {
            memcpy(out + n, from, (size_t)(it.pair - from));
            n += (size_t)(it.pair - from);
        }
        nremoved++;
        if (next < end) { /* the separator after it, and the spaces */
            next++;
            while (next < end && gwe_is_ows((unsigned char)*next))
                next++;
        } else { /* the last pair: the separator before it goes */
            while (n > 0 && gwe_is_ows((unsigned char)out[n - 1]))
                n--;
            if (n > 0 && (out[n - 1] == ';' || out[n - 1] == ','))
                n--;
            while (n > 0 && gwe_is_ows((unsigned char)out[n - 1]))
                n--;
        }
        from = next;
    }
    memcpy(out + n, from, (size_t)(end - from));
    n += (size_t)(end - from);
    if (removed)
        *removed = nremoved;
    /* nothing but separators and spaces left: no header */
    {
        size_t i;

        for (i = 0; i < n; i++)
            if (!gwe_is_ows((unsigned char)out[i]) && out[i] != ';' &&
                out[i] != ',')
                return n;
    }
    return 0;
}
