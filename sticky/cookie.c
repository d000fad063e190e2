/*
 * cookie.c - iterate over the values of one cookie in a Cookie header
 * (SPEC 4.2).
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
    it->pos = header;
    it->end = header ? header + len : header;
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

/*
 *   a=1; ROUTEID = "x.n1" , b=2;c
 *        ^       ^  ^   ^ ^
 *        s       q  |   | pe
 *                   |   |
 *                   |   vend: before the closing quote and OWS
 *                   v: after OWS and the opening quote
 *
 * s is the pair start (after ';' or a pair-starting ',' and OWS), q the
 * '=' after the name and OWS, pe the pair end: the next ';', or an earlier
 * ',' that starts a pair (here ", b=").  Each scan resumes where the
 * previous one stopped, so every byte is read a bounded number of times.
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
        const char *s, *pe, *q, *v, *vend;

        while (p < end &&
               (gwe_is_ows((unsigned char)*p) || *p == ';' || *p == ','))
            p++;
        if (p == end)
            break;
        s = p;
        pe = gwe_find2(s, end, ';', ',');
        while (pe < end && *pe == ',' && !comma_starts_pair(pe, end))
            pe = gwe_find2(pe + 1, end, ';', ',');
        p = pe;

        if ((size_t)(pe - s) <= name_len || *s != *name ||
            memcmp(s, name, name_len) != 0)
            continue;
        q = s + name_len;
        while (q < pe && gwe_is_ows((unsigned char)*q))
            q++;
        if (q == pe || *q != '=')
            continue;

        v = q + 1;
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
        return 1;
    }
    it->pos = end;
    return 0;
}
