/*
 * url_param.c - find a sticky URL parameter (SPEC 4.1).
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

        if (c == ':' && end - s >= 3 && s[1] == '/' && s[2] == '/') {
            for (s += 3; s < end && *s != '/' && *s != '?'; s++)
                ;
            return s;
        }
        if (!gwe_is_alpha(c) && !gwe_is_digit(c) && c != '+' && c != '-' &&
            c != '.' && c != ':')
            break;
    }
    return p;
}

/*
 * The index of the first configured name that starts the parameter
 * [p, tok_end) and is followed by '=', or -1.  The name must also hold no
 * '=' itself: a configured "a=b" never matches the parameter "a".
 */
static inline int match_name(const char *p, const char *tok_end,
                             const gwe_slice *names, size_t n)
{
    size_t avail = (size_t)(tok_end - p);
    size_t i;

    for (i = 0; i < n; i++) {
        size_t nl = names[i].len;

        if (nl == 0 || nl >= avail || p[nl] != '=' || p[0] != names[i].ptr[0])
            continue;
        if (memcmp(p, names[i].ptr, nl) == 0 && !memchr(p, '=', nl))
            return (int)i;
    }
    return -1;
}

/*
 *   /seg;a=1;alias=s.n1/seg2?x=1&alias=t.n2;y=2#frag
 *   ^       ^^     ^   ^    ^    ^     ^   ^   ^
 *   path    |t     |   |    |    p     |   |   end: '#' ends the URL
 *           s      |   tok_end         |   tok_end
 *                  |        path_end   |
 *                  v                   v
 *
 * Path: every ';' before the query starts a path parameter t, which runs
 * to the next ';' or '/' (tok_end) or to the end of the path.  Query:
 * parameters p start right after the '?' and after every '&' or ';', and
 * run to the next '&' or ';' (tok_end) or to the end.  Each scan resumes
 * where the previous one stopped, so every byte is read a bounded number
 * of times whatever the number of parameters.
 */
int gwe_url_param_find(const char *url, size_t len, const gwe_slice *names,
                       size_t n, gwe_slice *value)
{
    const char *end, *path, *path_end, *s, *p, *tok_end;
    int idx;

    if (url == NULL || len == 0 || names == NULL || n == 0)
        return -1;
    end = gwe_find(url, url + len, '#');
    path = skip_scheme_authority(url, end);
    path_end = gwe_find(path, end, '?');

    for (s = gwe_find(path, path_end, ';'); s < path_end;
         s = gwe_find(tok_end, path_end, ';')) {
        const char *t = s + 1;

        tok_end = gwe_find2(t, path_end, ';', '/');
        idx = match_name(t, tok_end, names, n);
        if (idx >= 0) {
            value->ptr = t + names[idx].len + 1;
            value->len = (size_t)(tok_end - value->ptr);
            return idx;
        }
    }

    if (path_end == end)
        return -1;
    for (p = path_end + 1;; p = tok_end + 1) {
        tok_end = gwe_find2(p, end, '&', ';');
        idx = match_name(p, tok_end, names, n);
        if (idx >= 0) {
            value->ptr = p + names[idx].len + 1;
            value->len = (size_t)(tok_end - value->ptr);
            return idx;
        }
        if (tok_end == end)
            return -1;
    }
}
