/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * sticky.h - the routing core of mod_gwe_lb.
 *
 * Pure C99 over (pointer, length) slices: no httpd or APR header, no heap
 * allocation, no global state.  Every function is reentrant, reads only the
 * bytes it is given (inputs need not be NUL-terminated) and runs in time
 * linear in its input (times the number of configured names or member
 * routes, which are small and bounded).  The module glue, the Check unit
 * tests, the fuzz targets and the microbenchmark all call these entry points.
 *
 * Vocabulary follows mod_proxy_balancer: a "member" is a BalancerMember, its
 * "route" is its route= value, the "separator" stands between a value's own
 * text and the route.
 */
#ifndef GWE_STICKY_H
#define GWE_STICKY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct gwe_slice {
    const char *ptr;
    size_t len;
} gwe_slice;

/* Longest member route the core can match.  httpd stores routes in
 * PROXY_WORKER_MAX_ROUTE_SIZE (64) bytes including the NUL; this is wider so
 * the core never depends on that detail. */
#define GWE_ROUTE_MAX 255

/* Most parameter names one GWELBStickyParam may list. */
#define GWE_PARAM_NAMES_MAX 16

/* ------------------------------------------------------------------------ */
/* URL parameters (README 4.1)                                               */
/* ------------------------------------------------------------------------ */

/*
 * gwe_url_param_find - first occurrence of any of `names` in a request URL.
 *
 *   url, len   the URL as mod_proxy sees it: "/path;p=v/seg?q=v&r=v#frag",
 *              optionally preceded by "scheme://host" (skipped).  '#' ends
 *              the URL.
 *   names, n   parameter names (non-empty, compared case-sensitively).
 *   value      on success, the raw (still percent-encoded) value: a slice of
 *              url, possibly empty.
 *
 * A name matches only when it is bounded by '?', '&' or ';' before it and by
 * '=' after it: "xalias=" and "aliasx=" are not "alias".  In the path a
 * value ends at ';', '/', '?' or '#'; in the query at '&', ';' or '#'.  The
 * occurrence earliest in the URL wins, whichever name it is.
 *
 * Returns the index in names of the name found, or -1.
 */
int gwe_url_param_find(const char *url, size_t len, const gwe_slice *names,
                       size_t n, gwe_slice *value);

/* 0 when url holds neither '?' nor ';': then no parameter can be found in
 * it (gwe_url_param_find returns -1 for every name), and a caller can skip
 * the work of looking. */
int gwe_url_has_params(const char *url, size_t len);

/* ------------------------------------------------------------------------ */
/* Cookie header (README 4.2)                                                */
/* ------------------------------------------------------------------------ */

typedef struct gwe_cookie_iter {
    const char *begin;
    const char *pos;
    const char *end;
    int dense; /* the name's first byte is common here: filter harder */
    const char *pair, *pair_end; /* the last pair found: from its name to
                                    its end (the next separator or end) */
} gwe_cookie_iter;

void gwe_cookie_iter_init(gwe_cookie_iter *it, const char *header, size_t len);

/*
 * gwe_cookie_next - the next value of cookie `name` in the header.
 *
 * The header is RFC 6265 "name=value" pairs separated by ';' with optional
 * spaces or tabs.  Because httpd joins repeated Cookie lines with ", ", a
 * ',' followed by optional spaces and "token=" also starts a new pair; any
 * other ',' belongs to the value ("ROUTEID=abc,def.BE_2").  Names compare
 * exactly.  A value wrapped in double quotes is returned without them.
 * Pairs without '=' are skipped.
 *
 * Returns 1 and sets *value (a slice of the header, possibly empty), or 0
 * when the header holds no further pair with that name.
 */
int gwe_cookie_next(gwe_cookie_iter *it, const char *name, size_t name_len,
                    gwe_slice *value);

/*
 * gwe_cookie_strip - the Cookie header without the pairs named `name`
 * (indirect=on, README 4.8): every other pair byte for byte and in order;
 * a removed pair takes the separator after it (and the spaces after that),
 * or, when it is the last pair, the separator before it.  Pairs are found
 * as gwe_cookie_next finds them.  Writes at most len bytes to out (cap >=
 * len) and returns the length written; 0 means the header is empty and
 * should be removed.  out must not overlap header.  *removed (may be NULL)
 * receives the number of pairs removed.
 */
size_t gwe_cookie_strip(const char *header, size_t len, const char *name,
                        size_t name_len, char *out, size_t cap,
                        size_t *removed);

/* ------------------------------------------------------------------------ */
/* Percent coding                                                            */
/* ------------------------------------------------------------------------ */

/*
 * gwe_pct_decode_tail - validate and decode the end of a value.
 *
 * Checks all of in[0..len) ('%' must be followed by two hex digits; '+' is
 * a plain '+') and writes the LAST min(decoded length, cap) decoded bytes
 * to out.  Only the tail decides the route, so callers need a buffer of
 * GWE_ROUTE_MAX + 1 bytes whatever the value's length.
 *
 * Returns 0 and sets *out_len, or -1 if an escape is malformed (then the
 * whole value is unusable).
 */
int gwe_pct_decode_tail(const char *in, size_t len, char *out, size_t cap,
                        size_t *out_len);

/*
 * gwe_cookie_encode - percent-encode a route for a cookie value.
 *
 * Bytes outside RFC 6265 cookie-octet, and '%', become "%XX" (upper-case
 * hex), so gwe_pct_decode_tail gives back the route exactly.  Returns the
 * encoded length; writes to out only if cap >= that length (out may be
 * NULL to measure).  No NUL is written.
 */
size_t gwe_cookie_encode(const char *in, size_t len, char *out, size_t cap);

/* ------------------------------------------------------------------------ */
/* Route resolution (README 4.3)                                             */
/* ------------------------------------------------------------------------ */

/*
 * gwe_route_match - the member route a decoded value names.
 *
 * Returns the index in routes of the LONGEST route r such that the value
 * ends with sep followed by r, or -1.  Empty routes never match.  Routes
 * are passed on every call because balancer-manager may change them while
 * httpd runs.  Cost: one tail comparison per route.
 */
int gwe_route_match(const char *value, size_t len, char sep,
                    const gwe_slice *routes, size_t nroutes);

/* ------------------------------------------------------------------------ */
/* The whole extraction (README 4.1 - 4.3)                                   */
/* ------------------------------------------------------------------------ */

enum gwe_route_source {
    GWE_SOURCE_NONE = 0,
    GWE_SOURCE_PARAM = 1,
    GWE_SOURCE_COOKIE = 2
};

typedef struct gwe_sticky_conf {
    const gwe_slice *params; /* GWELBStickyParam names (may be 0) */
    size_t nparams;
    gwe_slice cookie; /* GWELBRouteCookie name; len 0: none */
    char separator;   /* GWELBRouteSeparator */
    /* GWELBCookieKey (README 4.8): NULL reads the route cookie unsigned;
     * else every route cookie value is judged by gwe_signed_verify under
     * verify (its routes and separator are ignored: extract passes its
     * own) at time now */
    const struct gwe_verify_conf *verify;
    long now;
    int legacy_accept; /* legacy=accept: a legacy value still routes */
} gwe_sticky_conf;

typedef struct gwe_signed_fields gwe_signed_fields;

typedef struct gwe_sticky_result {
    enum gwe_route_source source; /* where the requested route came from */
    int route;          /* index into routes of the requested route, or -1 */
    int param;          /* index of the parameter name used, or -1 */
    int cookie_route;   /* index of the route the route cookie names, or -1:
                           decides whether the response needs a Set-Cookie
                           (with keys: only a valid signed cookie's) */
    int cookie_status;  /* enum gwe_cookie_status (GWELB_COOKIE_STATUS) */
    int cookie_refresh; /* with keys: the valid cookie is due a refresh */
    long cookie_issued; /* with keys: when the valid cookie was issued */
    unsigned unknown;   /* GWE_UNKNOWN_* bits: a value was there but named
                           no member (counted on server-status) */
} gwe_sticky_result;

/* gwe_sticky_result.unknown: the first occurrence of a parameter was found
 * and its value (empty, malformed or of no member's route) names no
 * member; the route cookie was sent and none of its values names one. */
#define GWE_UNKNOWN_PARAM 1u
#define GWE_UNKNOWN_COOKIE 2u

/*
 * gwe_sticky_extract - the requested route of one request.
 *
 *   url, url_len        as for gwe_url_param_find
 *   cookies, ncookies   every Cookie header value of the request, in order
 *   routes, nroutes     live routes of the balancer's members
 *
 * Step 1: the first parameter occurrence; if its value decodes and names a
 * member, source is PARAM.  Step 2: otherwise the first route cookie value
 * that decodes and names a member, source COOKIE.  cookie_route is computed
 * in both cases.  A malformed or unknown value counts as no route, and
 * sets its bit in unknown.
 *
 * cookie_status without keys: VALID when cookie_route names a member, else
 * ABSENT.  With keys (conf->verify), each route cookie value in order: the
 * first VALID one whose route names a member routes (cookie_route; due a
 * refresh per gwe_signed_needs_refresh under verify->maxidle); failing
 * that, with legacy_accept, the first LEGACY one routes (route, but
 * cookie_route stays -1 so the response replaces it).  cookie_status is
 * the status of the value that routes, else the highest of the others in
 * the order absent < legacy < forged < expired < valid (a verified value
 * naming no member).
 */
void gwe_sticky_extract(const gwe_sticky_conf *conf, const char *url,
                        size_t url_len, const gwe_slice *cookies,
                        size_t ncookies, const gwe_slice *routes,
                        size_t nroutes, gwe_sticky_result *out);

/* ------------------------------------------------------------------------ */
/* Route cookie configuration and Set-Cookie (README 3, 4.5)                 */
/* ------------------------------------------------------------------------ */

enum gwe_switch { GWE_OFF = 0, GWE_ON = 1, GWE_AUTO = 2 };

enum gwe_samesite {
    GWE_SAMESITE_UNSET = 0,
    GWE_SAMESITE_STRICT,
    GWE_SAMESITE_LAX,
    GWE_SAMESITE_NONE
};

typedef struct gwe_cookie_attrs {
    gwe_slice path;              /* default "/" */
    gwe_slice domain;            /* len 0: host-only cookie */
    enum gwe_switch secure;      /* OFF, ON or AUTO (default) */
    enum gwe_switch httponly;    /* default ON */
    enum gwe_samesite samesite;  /* default UNSET: attribute left out */
    long max_age;                /* seconds; 0: session cookie */
    enum gwe_switch partitioned; /* default OFF */
    /* the hardened cookie (README 4.8) */
    long maxidle;             /* seconds; 0: no limit (needs a key) */
    long maxlife;             /* seconds; 0: no limit (needs a key) */
    enum gwe_switch opaque;   /* default OFF (needs a key) */
    enum gwe_switch indirect; /* default OFF */
    enum gwe_switch nocache;  /* default OFF */
    enum gwe_switch issue;    /* default ON; OFF: the members set it */
    enum gwe_switch legacy;   /* ON: accept, OFF: refuse (default) */
    unsigned set;             /* bit per attribute given, for "given twice" */
} gwe_cookie_attrs;

/* Longest maxidle= / maxlife=: ten years of 365 days. */
#define GWE_COOKIE_AGE_MAX 315360000L

void gwe_cookie_attrs_init(gwe_cookie_attrs *a);

/* 1 if name is a non-empty RFC 6265 cookie-name (an HTTP token). */
int gwe_cookie_name_valid(const char *name, size_t len);

/* The characters a GWELBRouteSeparator may be: cookie-octets that need no
 * percent-encoding and are not URL delimiters. */
#define GWE_SEPARATORS ".-_~!*+:@|$"

/* 1 if c is one of GWE_SEPARATORS. */
int gwe_separator_valid(char c);

/* 1 if name (len bytes) can be a GWELBStickyParam name: a non-empty token
 * without the bytes gwe_url_param_find treats as bounds or escapes
 * (= & ; ? # / %), so a configured name always matches exactly. */
int gwe_param_name_valid(const char *name, size_t len);

/*
 * gwe_cookie_attr_parse - apply one "key=value" word of GWELBRouteCookie.
 *
 * Keys are case-insensitive; values are checked (path starts with '/',
 * domain is a host name, switches are on/off(/auto), samesite is
 * Strict/Lax/None in any case, max-age is a decimal > 0).  A key given
 * twice with a different value is an error.  Slices in a point into word,
 * which must outlive a.
 *
 * Returns 0, or -1 with a NUL-terminated message in err that names
 * GWELBRouteCookie, the attribute and what is allowed.
 */
int gwe_cookie_attr_parse(gwe_cookie_attrs *a, const char *word, size_t len,
                          char *err, size_t errcap);

/* Refuses samesite=None or partitioned=on with secure=off (browsers drop
 * such cookies).  Returns 0, or -1 with a message in err. */
int gwe_cookie_attrs_check(const gwe_cookie_attrs *a, char *err,
                           size_t errcap);

/*
 * Refuses the combinations README 4.8 forbids, given how many
 * GWELBCookieKey files the balancer has: maxidle, maxlife and opaque=on
 * need a key; issue=off goes with none of keys, maxidle, maxlife, opaque.
 * Returns 0, or -1 with a message in err.
 */
int gwe_cookie_attrs_check_keys(const gwe_cookie_attrs *a, size_t nkeys,
                                char *err, size_t errcap);

/*
 * gwe_set_cookie_build - the Set-Cookie header value for a route.
 *
 *   NAME=<sep><encoded route>; Path=P[; Domain=D][; Max-Age=N][; Secure]
 *   [; HttpOnly][; SameSite=S][; Partitioned]
 *
 * is_tls resolves secure=auto.  A cookie without Secure never carries
 * SameSite=None or Partitioned.  Returns the length (without NUL); writes
 * it and a terminating NUL only if cap > length.
 */
size_t gwe_set_cookie_build(char *out, size_t cap, const char *name,
                            size_t name_len, char sep, const char *route,
                            size_t route_len, const gwe_cookie_attrs *a,
                            int is_tls);

/*
 * The same value in two steps, for a caller that issues many cookies with
 * one set of attributes: gwe_set_cookie_attrs_build writes the part after
 * the route ("; Path=P..." as above) once, gwe_set_cookie_line writes
 * NAME=<sep><encoded route> followed by those attrs bytes.  Together they
 * give exactly gwe_set_cookie_build's bytes.  Both return the length
 * (without NUL) and write it and a terminating NUL only if cap > length.
 */
size_t gwe_set_cookie_attrs_build(char *out, size_t cap,
                                  const gwe_cookie_attrs *a, int is_tls);
size_t gwe_set_cookie_line(char *out, size_t cap, const char *name,
                           size_t name_len, char sep, const char *route,
                           size_t route_len, const char *attrs,
                           size_t attrs_len);
/* The most gwe_set_cookie_line can need, every route byte escaped: a
 * buffer of this plus one always holds the line and its NUL, so a caller
 * can write it in one pass without measuring first. */
size_t gwe_set_cookie_line_max(size_t name_len, size_t route_len,
                               size_t attrs_len);

/*
 * gwe_set_cookie_sets - 1 if the Set-Cookie header value line sets the
 * cookie `name` (RFC 6265 5.2: the name is what stands before the first
 * '=', spaces and tabs around it ignored; names compare exactly), else 0.
 * A member that sets the route cookie itself ends or changes stickiness
 * (README 4.8).
 */
int gwe_set_cookie_sets(const char *line, size_t len, const char *name,
                        size_t name_len);

/*
 * gwe_cache_control_private - Cache-Control for a response that sets the
 * route cookie under nocache=on (README 4.8): what the member sent, made
 * private for shared caches, never weakened.
 *
 * cc (len 0: the member sent none) is the member's Cache-Control, its
 * lines joined by ", ".  When it already holds "no-store" or a bare
 * "private" directive it is strong enough: returns 0 (keep it).  Else
 * writes "private" followed by ", " and each of the member's directives
 * but "public" (which private contradicts), byte for byte and in order
 * (a quoted value may hold ','), and returns that length; writes only if
 * cap > it, with a NUL.  Names compare case-insensitively.
 */
size_t gwe_cache_control_private(const char *cc, size_t len, char *out,
                                 size_t cap);

/*
 * gwe_status_line_end - where a header line can go into a response head
 * that a tunnel copies byte for byte (mod_proxy_wstunnel's 101).
 *
 *   data, len  the next bytes of the member's response
 *   first      1 when data are its very first bytes
 *
 * Returns the offset just past the status line's '\n' (a header inserted
 * there is the first header), -1 when data hold no '\n' (look on in the
 * next bytes), or -2 when the first bytes are not "HTTP/" (not a response
 * head: insert nothing).
 */
long gwe_status_line_end(const char *data, size_t len, int first);

/* ------------------------------------------------------------------------ */
/* Affinity without a cookie: GWELBFallback client-ip (issue 14)            */
/* ------------------------------------------------------------------------ */

/*
 * gwe_rendezvous_pick - the member a client address belongs to.
 *
 *   addr, addr_len   the client address as text, exactly as httpd has it in
 *                    r->useragent_ip ("192.0.2.7", "2001:db8::1"): IPv4 and
 *                    IPv6 alike are hashed as bytes, with no parsing, so
 *                    two spellings of one IPv6 address are two addresses.
 *                    May be empty (then addr may be NULL).
 *   routes           each member's route, the key it is hashed by
 *   weights          each member's loadfactor; 0 never wins.  NULL: all 1.
 *   usable           nonzero for each member the lbmethod could pick (not
 *                    drained, disabled, in error or a standby left out).
 *                    NULL: all usable.
 *   n                number of members (<= INT_MAX)
 *
 * Weighted rendezvous (highest random weight) hashing: member i scores
 * weights[i] / -ln(u_i), u_i = gwe_rendezvous_hash(route_i, addr) read as
 * a fraction in (0, 1); the highest score wins.  Over many addresses
 * member i wins the share weights[i] / (sum of usable weights).  A score
 * depends on the member's own route and weight only, so the pick does not
 * depend on the order of the members or on their URLs, and a member that
 * leaves (or is no longer usable) moves only the addresses it had, one
 * that joins takes addresses only for itself.
 *
 * Equal scores (in practice: members with the same route and weight) go
 * to the route that sorts first by bytes (the shorter one when one is a
 * prefix of the other), then to the lower index.  Members should have
 * distinct routes: members with the same route (members without route=
 * all have the empty one) draw the same u, so the caller keys them by
 * something of their own.
 *
 * Deterministic across processes, restarts and machines: no random seed, no
 * pointer values, bytes composed by shifts, integer arithmetic only (-ln
 * is computed as -log2 in 32.32 fixed point, no libm, no floating point).
 * Cost: one hash of the address, one of each usable member's route and a
 * mix of the two, and 32 squarings per member only with unequal weights
 * (see gwe_rendezvous_draw).
 *
 * Returns the index of the member picked, or -1 when no member is usable
 * with a weight > 0.
 */
int gwe_rendezvous_pick(const char *addr, size_t addr_len,
                        const gwe_slice *routes, const unsigned *weights,
                        const unsigned char *usable, size_t n);

/*
 * gwe_rendezvous_hash - the 64-bit draw of one member for one address, in
 * two halves so the module hashes the address once per request and keeps
 * each member's route half while its route stays:
 *
 *   gwe_rendezvous_route_hash  bytes(0x9e3779b97f4a7c15, route)
 *   gwe_rendezvous_addr_hash   bytes(0xc2b2ae3d27d4eb4f, address)
 *   gwe_rendezvous_mix         SplitMix64's finaliser (Stafford's Mix13);
 *                              the draw is mix(route half ^ address half)
 *
 * bytes(seed, s): h = seed ^ length of s; for each 8 bytes of s as a
 * little-endian number (the last group padded with 0 bytes),
 * h = mix(h ^ group).  The two seeds keep a route and an address of the
 * same text apart.  Part of the contract: changing any of it moves every
 * client, so the unit tests pin its values.
 */
uint64_t gwe_rendezvous_hash(const char *route, size_t route_len,
                             const char *addr, size_t addr_len);
uint64_t gwe_rendezvous_route_hash(const char *route, size_t route_len);
uint64_t gwe_rendezvous_addr_hash(const char *addr, size_t addr_len);

static inline uint64_t gwe_rendezvous_mix(uint64_t x)
{
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/*
 * gwe_rendezvous_key_of - the route half of a string held in a fixed-size
 * field that may change under the caller (httpd's shared worker record,
 * whose route balancer-manager can edit at any time), without hashing it
 * again while it stays the same.
 *
 *   k      the caller's cache for this field; all zero before the first
 *          call.  Not shared between threads without a lock.
 *   field  the field: a string ending at its first NUL, or at `size`
 *   size   the field's size, at least 8; only the first
 *          8 * GWE_RENDEZVOUS_KEY_WORDS bytes, rounded down to a multiple
 *          of 8, are read (httpd's route is 64 bytes)
 *
 * Returns gwe_rendezvous_route_hash of the string; k->len is its length.
 * The check that the cache still holds: the field's first words compared
 * with the copy in k, one 8-byte compare per 8 bytes of the string (a
 * route of up to 7 bytes: one), so a changed route is never answered with
 * its old hash.  Reads whole words of the field, never past `size`.
 */
#define GWE_RENDEZVOUS_KEY_WORDS 8
typedef struct gwe_rendezvous_key {
    uint64_t words[GWE_RENDEZVOUS_KEY_WORDS]; /* the field as last hashed */
    uint64_t hash;   /* the route half of its string */
    size_t len;      /* the string's length */
    unsigned nwords; /* words that hold the string and its NUL; 0: empty */
} gwe_rendezvous_key;

/* The slow half of gwe_rendezvous_key_of: hash the field's string and
 * keep a copy of its words. */
uint64_t gwe_rendezvous_key_load(gwe_rendezvous_key *k, const char *field,
                                 size_t size);

/* gwe_rendezvous_key_holds - for a key loaded at least once (by
 * gwe_rendezvous_key_load or gwe_rendezvous_key_of): 1 when it holds the
 * hash of field's string (the check of gwe_rendezvous_key_of alone), 0
 * when it must be loaded again. */
static inline int gwe_rendezvous_key_holds(const gwe_rendezvous_key *k,
                                           const char *field)
{
    uint64_t w;
    unsigned i;

    /* the first word apart: most routes fit in it */
    memcpy(&w, field, 8);
    if (w != k->words[0])
        return 0;
    for (i = 1; i < k->nwords; i++) {
        memcpy(&w, field + 8 * i, 8);
        if (w != k->words[i])
            return 0;
    }
    return 1;
}

/* Inline: on the request path the check is all that runs. */
static inline uint64_t gwe_rendezvous_key_of(gwe_rendezvous_key *k,
                                             const char *field, size_t size)
{
    return k->nwords > 0 && gwe_rendezvous_key_holds(k, field)
               ? k->hash
               : gwe_rendezvous_key_load(k, field, size);
}

/*
 * One member's score for one address, for callers that visit the members
 * themselves (the module hands its comparison to mod_proxy_balancer's own
 * walk over the members, so the lbmethod's rules choose who competes).
 * gwe_rendezvous_pick is these two functions over an array.
 *
 * gwe_rendezvous_score_of - member (route, weight)'s score for addr:
 *   draw    -log2(u) in 32.32 fixed point, u the hash read as a fraction in
 *           (0, 1); in [1, 64 * 2^32]; 0 until needed (gwe_rendezvous_draw)
 *   weight  the weight as given; 0 never wins
 *   hash    gwe_rendezvous_hash | 1 (u * 2^64); 0: not known (a score made
 *           by hand from a draw)
 *
 * gwe_rendezvous_draw - the draw of a score, computed from its hash the
 * first time.  Between equal weights the higher hash is the lower draw, so
 * gwe_rendezvous_beats compares hashes and computes draws only for
 * unequal weights or hashes so close (relative difference below 2^-25)
 * that their draws could be equal: the same order, without the 32
 * squarings per member in the common case.
 *
 * gwe_rendezvous_beats - 1 when member a (route ra) beats member b (route
 * rb): a's weight / draw is higher, or equal and ra sorts first by bytes
 * (the shorter when one is a prefix of the other); 0 otherwise, so of two
 * members with the same route and score the one seen first stays.  A
 * weight of 0 never beats anything and is beaten by any other weight.
 * Exact (96-bit integer products), so the order is total and the same on
 * every machine.  gwe_rendezvous_beats_exact gives the same answers; the
 * inline gwe_rendezvous_beats only answers the common case (equal
 * weights, hashes far apart: gwe_rendezvous_far) without a call.
 */
typedef struct gwe_rendezvous_score {
    uint64_t draw;
    uint64_t weight;
    uint64_t hash;
} gwe_rendezvous_score;

gwe_rendezvous_score gwe_rendezvous_score_of(const char *route,
                                             size_t route_len,
                                             const char *addr, size_t addr_len,
                                             unsigned weight);

/* gwe_rendezvous_score_of from the two halves of the hash. */
static inline gwe_rendezvous_score
gwe_rendezvous_score_hashed(uint64_t route_hash, uint64_t addr_hash,
                            unsigned weight)
{
    gwe_rendezvous_score sc;

    sc.hash = gwe_rendezvous_mix(route_hash ^ addr_hash) | 1;
    sc.draw = 0;
    sc.weight = weight;
    return sc;
}
uint64_t gwe_rendezvous_draw(gwe_rendezvous_score *s);
int gwe_rendezvous_beats_exact(gwe_rendezvous_score *a, const gwe_slice *ra,
                               gwe_rendezvous_score *b, const gwe_slice *rb);

/*
 * gwe_rendezvous_far - 1 when two members of equal weight whose hashes are
 * a and b (both nonzero) are ordered by their hashes alone: the higher
 * hash is the lower draw, hence the winner.  True when they differ by more
 * than 2^-25 relatively (the draws' rounding is far smaller), a subset of
 * the pairs gwe_rendezvous_beats_exact itself decides by the hashes; 0
 * leaves the pair to it.
 */
static inline int gwe_rendezvous_far(uint64_t a, uint64_t b)
{
    uint64_t hi = a > b ? a : b, d = a > b ? a - b : b - a;

    return (hi >> 25) != 0 && d > (hi >> 25);
}

/* Inline for the common case, equal weights and far hashes. */
static inline int gwe_rendezvous_beats(gwe_rendezvous_score *a,
                                       const gwe_slice *ra,
                                       gwe_rendezvous_score *b,
                                       const gwe_slice *rb)
{
    if (a->weight == b->weight && a->weight != 0 && a->hash != 0 &&
        b->hash != 0 && gwe_rendezvous_far(a->hash, b->hash))
        return a->hash > b->hash;
    return gwe_rendezvous_beats_exact(a, ra, b, rb);
}

/* ------------------------------------------------------------------------ */
/* The signed route cookie value (issue 13)                                  */
/* ------------------------------------------------------------------------ */

/*
 * With GWELBCookieKey the route cookie's value is signed.  Version 1:
 *
 *   g1 Kx BpM8NA BpM8TQ . GWE_Frontend_1 . h1OccA7xj0ecVr-mNn8g7g
 *   |  |  |      |      | |              | |
 *   |  |  |      |      | route slot     | MAC: 22 base64url characters,
 *   |  |  |      |      | (1..3*255)     | the first 128 bits of
 *   |  |  |      |      '.' at offset 16 | HMAC-SHA256 (below)
 *   |  |  |      refreshed  (offset 10)  '.' 23 bytes before the end
 *   |  |  issued (offset 4): 6 base64url characters each, big-endian
 *   |  |                     36-bit unix seconds (until the year 4147)
 *   |  key id (offset 2): 2 base64url characters naming the signing key
 *   version tag "g1" (offset 0)
 *
 * written without the spaces (issued 1765000000, refreshed 400 s later,
 * key "0123456789abcdef0123456789abcdef" with id "Kx", cookie ROUTEID,
 * balancer balancer://gwe; tests/unit/test_signed_hmac.c checks it):
 *
 *   g1KxBpM8NABpM8TQ.GWE_Frontend_1.h1OccA7xj0ecVr-mNn8g7g
 *
 * Every field before the route has a fixed width and the MAC a fixed
 * length from the end, so the route slot may hold any cookie-octet ('.'
 * included) and nothing is searched for.  Every character is an RFC 6265
 * cookie-octet: base64url is A-Z a-z 0-9 '-' '_', and the route slot is
 * the route percent-encoded as by gwe_cookie_encode.  The route slot is
 * bytes chosen by the caller: the member's route, or with opaque=on its
 * keyed identifier (gwe_signed_opaque_id, below).
 *
 * The key id is not a position in the GWELBCookieKey list but 2
 * characters the caller derives from each key (12 bits, e.g. of an HMAC
 * of a fixed label under that key), so moving keys around during
 * rotation (issue 13, rule 5) never changes which key a value names.  Two
 * keys with the same id only cost an extra MAC: verification tries every
 * configured key whose id matches.
 *
 * The MAC is HMAC-SHA256 over the value up to its last '.' (version, key
 * id, times, route slot) under the balancer's key, derived from the
 * signing key as HMAC-SHA256, under the signing key, of the scope
 *
 *   "mod_gwe_lb route cookie\0"   (24 bytes: keeps the key to this use)
 *   length of the cookie name     (8 bytes, big-endian)
 *   cookie name
 *   length of the balancer name   (8 bytes, big-endian)
 *   balancer name                 ("balancer://b", as configured)
 *
 * so a value copied to another cookie name or another balancer does not
 * verify; the lengths keep ("ab", "c") apart from ("a", "bc").  The two
 * names are never stored in the value.  Deriving the key once per
 * balancer keeps the per-request input short: one SHA-256 block inside
 * the HMAC instead of two for ordinary routes.  sticky/ computes no hash:
 * the caller hands a gwe_mac_fn (OpenSSL's HMAC in the module, a fake in
 * the tests).
 *
 * A value is judged by its shape: one that has the syntax above is a
 * signed value (valid, expired or forged); any other is legacy when it
 * ends in separator + a member's route (the stock recipe's ".route",
 * "session.route", this module without keys), else forged.  A legacy
 * value of exactly that syntax (prefix "g1", fixed-width base64url
 * fields, '.' at both places, valid escapes) counts as forged.
 */

/* The version tag and the fixed sizes of a version 1 value. */
#define GWE_SIGNED_TAG "g1"
#define GWE_SIGNED_KEY_ID_LEN 2
#define GWE_SIGNED_TIME_LEN 6
#define GWE_SIGNED_MAC_LEN 22
#define GWE_SIGNED_PREFIX_LEN 17 /* tag, key id, two times, '.' */
/* Longest value: prefix, the route fully escaped, '.', MAC. */
#define GWE_SIGNED_MAX                                                        \
    (GWE_SIGNED_PREFIX_LEN + 3 * GWE_ROUTE_MAX + 1 + GWE_SIGNED_MAC_LEN)
/* Times are 0 .. GWE_SIGNED_TIME_MAX (2^36 - 1) unix seconds. */
#define GWE_SIGNED_TIME_MAX 0xFFFFFFFFFLL
/* Dated more than this many seconds after now: forged (issue 13, rule 2). */
#define GWE_SIGNED_FUTURE_MAX 86400L
/* Most keys gwe_signed_verify tries (GWELBCookieKey is given 1 to 8
 * times). */
#define GWE_SIGNED_KEYS_MAX 8

/*
 * gwe_mac_fn - HMAC-SHA256 over the concatenation of parts[0..nparts) (a
 * part may be empty), into out, under the caller's key number key_index
 * when nscope is 0, else under the key derived from it for the scope:
 * HMAC-SHA256(key, concatenation of scope[0..nscope)).  A caller may keep
 * the derived keys of the scopes it knows (gwe_signed_scope).  Returns 0,
 * or non-zero on failure (then the value is not built, or does not verify
 * under that key).
 */
typedef int (*gwe_mac_fn)(void *ctx, int key_index, const gwe_slice *scope,
                          size_t nscope, const gwe_slice *parts, size_t nparts,
                          unsigned char out[32]);

/*
 * gwe_signed_scope - the scope of a cookie name and balancer name (above),
 * as GWE_SIGNED_SCOPE_PARTS slices of the label, lens (which it fills:
 * the two big-endian lengths) and the two names.  Returns the number of
 * parts.
 */
#define GWE_SIGNED_SCOPE_PARTS 5
size_t gwe_signed_scope(gwe_slice cookie_name, gwe_slice balancer,
                        unsigned char lens[16],
                        gwe_slice out[GWE_SIGNED_SCOPE_PARTS]);

struct gwe_signed_fields {
    int key_index; /* build: the key to sign with, handed to the gwe_mac_fn;
                      verify: the key that verified, or -1 */
    char key_id[GWE_SIGNED_KEY_ID_LEN]; /* base64url characters */
    long issued;                        /* unix seconds, first issued */
    long refreshed;  /* unix seconds, last refreshed; >= issued */
    gwe_slice route; /* build: the raw route slot bytes, 1..GWE_ROUTE_MAX;
                        parse and verify: the slot as it stands in the
                        value, still percent-encoded (a slice of it; see
                        gwe_signed_route_index) */
};

/* 1 if c is a base64url character (A-Z a-z 0-9 - _), the alphabet of the
 * key ids. */
int gwe_signed_key_id_char(char c);

/*
 * gwe_signed_key_id - the 2-character key id of a key, from the first 12
 * bits of a digest the caller computed from that key (e.g. HMAC-SHA256 of
 * a fixed label under it).
 */
void gwe_signed_key_id(const unsigned char digest[2],
                       char id[GWE_SIGNED_KEY_ID_LEN]);

/*
 * gwe_signed_build - a signed value.
 *
 * Writes the value for f (key_id must be base64url, 0 <= issued <=
 * refreshed <= GWE_SIGNED_TIME_MAX, route 1..GWE_ROUTE_MAX bytes) and a
 * terminating NUL, MAC'd with key f->key_index over the value, cookie_name
 * and balancer.  Returns the length without the NUL; writes (and calls
 * mac) only if cap > that length (out may be NULL to measure).  Returns 0
 * when f is out of range or mac fails; a value is never empty.
 */
size_t gwe_signed_build(char *out, size_t cap, const gwe_signed_fields *f,
                        gwe_mac_fn mac, void *ctx, gwe_slice cookie_name,
                        gwe_slice balancer);

/*
 * gwe_signed_parse - the syntax of a signed value, nothing else.
 *
 * On success sets *out (key_index -1, route the encoded slot), the signed
 * part (v up to its last '.') and the MAC characters, all slices of v, and
 * returns 0.  Returns -1 when v is not a version 1 value: wrong length
 * (41 .. GWE_SIGNED_MAX), tag, or '.' places, a field that is not
 * base64url, refreshed before issued, a route slot with a byte that is not
 * a cookie-octet, a malformed escape, or more than GWE_ROUTE_MAX decoded
 * bytes.  signed_part and mac_part may be NULL.  Reads at most
 * GWE_SIGNED_MAX bytes whatever len is.
 */
int gwe_signed_parse(const char *v, size_t len, gwe_signed_fields *out,
                     gwe_slice *signed_part, gwe_slice *mac_part);

enum gwe_cookie_status {
    GWE_COOKIE_ABSENT = 0, /* no route cookie */
    GWE_COOKIE_LEGACY,     /* unsigned, ends in separator + member route */
    GWE_COOKIE_FORGED,     /* malformed, unknown key, bad MAC, future */
    GWE_COOKIE_EXPIRED,    /* verified, past maxidle or maxlife */
    GWE_COOKIE_VALID
};

/* The GWELB_COOKIE_STATUS word of a status ("absent", "legacy", ...). */
const char *gwe_cookie_status_name(enum gwe_cookie_status s);

/*
 * opaque=on (README 4.8): the route slot holds a keyed identifier of the
 * route instead of the route, GWE_OPAQUE_ID_LEN base64url characters: the
 * first 96 bits of HMAC-SHA256, under the key that signs the value, of
 *
 *   "mod_gwe_lb opaque route\0"   (24 bytes)
 *   the route
 *
 * so the value names its member only through that key.  A value is read
 * the same whether opaque is on or off now: its slot is compared with the
 * routes, then with their identifiers under the key that verified it, so
 * turning opaque on or off moves no visitor.
 */
#define GWE_OPAQUE_ID_LEN 16

/*
 * gwe_signed_opaque_id - the identifier of route under key key_index,
 * through mac.  Returns 0, or -1 when route is empty or longer than
 * GWE_ROUTE_MAX, or mac fails.
 */
int gwe_signed_opaque_id(gwe_mac_fn mac, void *ctx, int key_index,
                         gwe_slice route, char out[GWE_OPAQUE_ID_LEN]);

/*
 * gwe_opaque_id_fn - the identifier of routes[member] (== route) under key
 * key_index, as gwe_signed_opaque_id computes it; the caller may answer
 * from a table it built at start-up.  Returns 0, or non-zero when it has
 * none (that member is then not matched).
 */
typedef int (*gwe_opaque_id_fn)(void *ctx, int key_index, size_t member,
                                gwe_slice route, char out[GWE_OPAQUE_ID_LEN]);

/*
 * gwe_verified - the last value whose MAC verified, kept by the caller for
 * the requests of one client connection: a browser sends the same route
 * cookie on every request of a keep-alive or HTTP/2 connection, and a value
 * byte for byte equal to one that verified under the same keys, cookie name
 * and balancer has the same MAC verdict.  gwe_signed_verify then skips the
 * parse and the MAC and judges only the dates against now, so expiry is
 * never cached.  Zero it before first use; one thread at a time.
 */
typedef struct gwe_verified {
    /* what it was verified under (the gwe_verify_conf's fields) */
    gwe_mac_fn mac;
    const void *mac_ctx;
    const char *key_ids;
    size_t nkeys;
    gwe_slice cookie_name;
    gwe_slice balancer;
    /* the value (len 0: none yet) and its fields, route.ptr an offset */
    size_t len;
    size_t route_at;
    gwe_signed_fields f;
    char value[GWE_SIGNED_MAX];
} gwe_verified;

typedef struct gwe_verify_conf {
    gwe_mac_fn mac;
    void *mac_ctx;
    const char *key_ids; /* key i's id is key_ids[2i], key_ids[2i + 1] */
    size_t nkeys;        /* 0..GWE_SIGNED_KEYS_MAX; more are ignored */
    gwe_slice cookie_name;
    gwe_slice balancer;
    long maxidle; /* seconds; 0: no limit */
    long maxlife; /* seconds; 0: no limit */
    /* opaque identifiers of the routes (NULL: a slot is only compared
     * with the routes themselves) */
    gwe_opaque_id_fn opaque_id;
    void *opaque_ctx;
    /* legacy detection, as gwe_sticky_extract resolves a value */
    char separator;
    const gwe_slice *routes;
    size_t nroutes;
    gwe_verified *memo; /* NULL: every value is parsed and its MAC checked */
} gwe_verify_conf;

/*
 * gwe_signed_verify - what a route cookie value is worth (issue 13, rule 2).
 *
 * v == NULL or len == 0: ABSENT (no cookie, or the application emptied
 * it).  Not of the signed syntax: LEGACY if the value decodes and ends in
 * separator + one of routes, else FORGED.  Signed syntax: FORGED unless
 * some configured key whose id matches gives the same MAC (compared in
 * constant time over its fixed length); FORGED when issued or refreshed
 * is more than GWE_SIGNED_FUTURE_MAX seconds after now (exactly 24 h is
 * accepted: clocks of load balancers sharing keys may differ); EXPIRED
 * when now - refreshed > maxidle or now - issued > maxlife (so a value
 * exactly maxidle old is still VALID); else VALID.
 *
 * out (may be NULL) receives the fields when the syntax is signed
 * (key_index the verifying key, or -1), for LEGACY the whole value as
 * route, else zeroes.  With c->memo, a value equal to the memo's (under
 * the same conf) is judged from its fields, and a value whose MAC
 * verified replaces the memo; the verdict is the same as without.
 */
enum gwe_cookie_status gwe_signed_verify(const char *v, size_t len,
                                         const gwe_verify_conf *c, long now,
                                         gwe_signed_fields *out);

/*
 * gwe_signed_route_index - the index in routes of the route (or opaque
 * identifier) equal to the decoded route slot of a parsed value, or -1.
 * Unlike a legacy value, the slot must equal the whole route.
 */
int gwe_signed_route_index(const gwe_signed_fields *f, const gwe_slice *routes,
                           size_t nroutes);

/*
 * gwe_signed_member_index - the member a VALID value names: its route slot
 * equal to a route (gwe_signed_route_index), else, for a slot of
 * GWE_OPAQUE_ID_LEN base64url characters and c->opaque_id set, equal to
 * the identifier of a route under the key that verified it
 * (f->key_index).  -1 when it names none.
 */
int gwe_signed_member_index(const gwe_signed_fields *f,
                            const gwe_verify_conf *c, const gwe_slice *routes,
                            size_t nroutes);

/*
 * gwe_signed_needs_refresh - 1 when a VALID value should be re-issued with
 * refreshed = now (issued kept): now - refreshed >= maxidle / 4, so a
 * visitor gets at most one refreshing Set-Cookie per maxidle/4 and one
 * whose requests are at most maxidle/2 apart never expires by maxidle
 * (issue 13, rule 3).  The interval is at least 1 s (maxidle under 4 s).  0
 * when maxidle is 0 (nothing to refresh) or refreshed is ahead of now.
 */
int gwe_signed_needs_refresh(const gwe_signed_fields *f, long now,
                             long maxidle);

#endif /* GWE_STICKY_H */
