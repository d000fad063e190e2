/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * url_param.c - find a sticky URL parameter (README 4.1).
 *
 * Unlike get_path_param() in mod_proxy_balancer.c, which takes the first
 * strstr() hit of the name anywhere in the URL, a name matches here only
 * at the start of a parameter: right after the ';' of a path parameter, or
 * at the start of the query or right after its '&' / ';' separators, and
 * only when '=' follows it directly.
 */
#include "sticky.h"
#include "chars.h"

/*
 * Skips "scheme://authority" when the URL is in absolute form, including
 * mod_proxy's "proxy:balancer://NAME" (':' is accepted in the scheme run,
 * a documented leniency).  Returns where the path starts.
 */
static const char *skip_scheme_authority(const char *p, const char *end)
{
    const char *s;

    for (s = p; s < end; s++) {
        unsigned char c = (unsigned char)*s;

        /* letters first: a scheme is nearly all letters */
        if ((unsigned)((c | 0x20) - 'a') < 26 || (unsigned)(c - '0') < 10 ||
            c == '+' || c == '-' || c == '.')
            continue;
        if (c != ':')
            break;
        if (end - s >= 3 && s[1] == '/' && s[2] == '/')
            return gwe_find2(s + 3, end, '/', '?');
    }
    return p;
}

/* 1 if name holds a byte that ends a parameter token in that part of the
 * URL (then it can never match there), or '=' (which ends the name).
 * Every such byte is below 64, so the set is one 64-bit mask. */
#define GWE_BIT(c) (UINT64_C(1) << (c))
#define GWE_PATH_STOPS                                                        \
    (GWE_BIT(';') | GWE_BIT('/') | GWE_BIT('?') | GWE_BIT('='))
#define GWE_QUERY_STOPS (GWE_BIT('&') | GWE_BIT(';') | GWE_BIT('='))

static int crosses(const gwe_slice *name, uint64_t stops)
{
    size_t i;

    for (i = 0; i < name->len; i++) {
        unsigned char x = (unsigned char)name->ptr[i];

        if (x < 64 && (stops >> x) & 1)
            return 1;
    }
    return 0;
}

/*
 *   /seg;a=1;alias=s.n1/seg2?x=1&alias=t.n2;y=2#frag
 *   ^        ^     ^   ^    ^   ^     ^          ^
 *   path     s     v   |    q   s     |          end (the '#' ends the URL)
 *                      value end      value end
 *
 * The name is looked for directly (its last byte and the '=' after it,
 * gwe_find_pair), so long URLs of other parameters are skipped rather
 * than split.  A hit s counts
 * when a parameter starts there - after a ';' in the path, or at q or
 * after '&' or ';' in the query - and '=' follows the name.  In the path a
 * value runs to the next ';', '/' or the query; in the query to the next
 * '&' or ';'.  Each hit is checked in time bounded by the name's length,
 * so one name costs time linear in the URL.
 */
static const char *first_hit(const char *path, const char *path_end,
                             const char *end, const char *limit,
                             const gwe_slice *name, gwe_slice *value)
{
    /* -1: not computed yet; a name valid for GWELBStickyParam crosses
     * nothing, so they are worked out only at a hit, not per request */
    int in_path_ok = -1, in_query_ok = -1;
    const char *s, *v;
    size_t nl = name->len;

    /* Candidates: the name's last byte followed by '=' at e, the name
     * starting at s = e - (nl - 1) before limit.  That pair is rare in
     * parameter values (hex or base64 ids), so memchr skips far. */
    const char *stop = (size_t)(end - limit) > nl ? limit + nl : end;
    const char last = name->ptr[nl - 1];
    const char *e;
    int dense = 0;

    if ((size_t)(stop - path) <= nl)
        return NULL; /* no room for the name and '=' */
    for (e = gwe_find_pair(path + nl - 1, stop, last, 1, '=', &dense);
         e < stop; e = gwe_find_pair(e + 1, stop, last, 1, '=', &dense)) {
        s = e - (nl - 1);
        if (memcmp(s, name->ptr, nl) != 0)
            continue;
        v = s + nl + 1;
        /* In the path, "name=" ends before the query: the name holds no '?'
         * (in_path_ok) and '=' is not '?'. */
        if (s < path_end) {
            if (in_path_ok < 0)
                in_path_ok = !crosses(name, GWE_PATH_STOPS);
            if (!in_path_ok || s == path || s[-1] != ';')
                continue;
            value->ptr = v;
            value->len = (size_t)(gwe_find2(v, path_end, ';', '/') - v);
            return s;
        }
        /* s == path_end is the '?' itself, never a parameter start */
        if (in_query_ok < 0)
            in_query_ok = !crosses(name, GWE_QUERY_STOPS);
        if (!in_query_ok || s == path_end ||
            !(s == path_end + 1 || s[-1] == '&' || s[-1] == ';'))
            continue;
        value->ptr = v;
        value->len = (size_t)(gwe_find2(v, end, '&', ';') - v);
        return s;
    }
    return NULL;
}

/* The occurrence earliest in the URL wins, whichever name it is; between
 * names found at the same place (impossible for distinct names) the first
 * configured one. */
int gwe_url_param_find(const char *url, size_t len, const gwe_slice *names,
                       size_t n, gwe_slice *value)
{
    const char *end, *path, *path_end, *best = NULL;
    int idx = -1;
    size_t i;

    if (url == NULL || len == 0 || names == NULL || n == 0)
        return -1;
    end = gwe_find(url, url + len, '#');
    path = skip_scheme_authority(url, end);
    /* the path is short next to the query: inline, not memchr */
    path_end = gwe_find2(path, end, '?', '?');
    for (i = 0; i < n; i++) {
        gwe_slice v;
        const char *s;

        if (names[i].len == 0 || names[i].ptr == NULL)
            continue;
        /* a later name only matters if it occurs before the best so far */
        s = first_hit(path, path_end, end, best ? best : end, &names[i], &v);
        if (s && (!best || s < best)) {
            best = s;
            *value = v;
            idx = (int)i;
        }
    }
    return idx;
}

int gwe_url_has_params(const char *url, size_t len)
{
    return url != NULL && gwe_find2(url, url + len, '?', ';') < url + len;
}

int gwe_param_name_valid(const char *name, size_t len)
{
    size_t i;

    if (!gwe_cookie_name_valid(name, len))
        return 0;
    for (i = 0; i < len; i++)
        if (memchr("=&;?#/%", name[i], 7))
            return 0;
    return 1;
}
