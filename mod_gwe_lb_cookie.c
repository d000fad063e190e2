/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb_cookie.c - the route cookie a member's response carries
 * (README 4.5, 7.4, 7.7).
 */
#include "mod_gwe_lb.h"

#include "apr_strings.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_ssl.h"
#include "util_filter.h"

APLOG_USE_MODULE(gwe_lb); /* log lines carry the module name */

ap_filter_rec_t *gwelb_tunnel_filter_handle;
ap_filter_rec_t *gwelb_cookie_filter_handle;

static apr_status_t gwelb_tunnel_filter_done(ap_filter_t *f,
                                             apr_bucket_brigade *bb);
static apr_status_t gwelb_tunnel_filter_gone(void *f);

/* ======================================================================== */
/* The route cookie                                                         */
/* ======================================================================== */

/* What the response needs: no cookie, one naming a new member, or the
 * same member's valid signed cookie re-dated (README 4.8). */
enum { GWELB_COOKIE_NONE = 0, GWELB_COOKIE_NEW, GWELB_COOKIE_REFRESH };

static int gwelb_needs_cookie(const gwelb_request *rq)
{
    const gwelb_balancer_conf *bc = rq->conf;

    if (!rq->served || !rq->served_route || !*rq->served_route ||
        bc->cookie.issue == GWE_OFF)
        return 0;
    if (rq->res.source == GWE_SOURCE_PARAM && bc->cookie_from_param == 0)
        return 0;
    if (!rq->cookie_route || (rq->cookie_route != rq->served_route &&
                              strcmp(rq->cookie_route, rq->served_route)))
        return GWELB_COOKIE_NEW;
    return rq->res.cookie_refresh ? GWELB_COOKIE_REFRESH : GWELB_COOKIE_NONE;
}

/* Called for every balancer's final configuration (check_config). */
void gwelb_cookie_prepare(apr_pool_t *p, gwelb_balancer_conf *bc)
{
    int tls;

    if (!bc->cookie_name)
        return;
    for (tls = 0; tls <= 1; tls++) {
        size_t len = gwe_set_cookie_attrs_build(NULL, 0, &bc->cookie, tls);
        char *v = apr_palloc(p, len + 1);

        gwe_set_cookie_attrs_build(v, len + 1, &bc->cookie, tls);
        bc->cookie_attrs[tls] = v;
        bc->cookie_attrs_len[tls] = len;
    }
}

/* secure=auto: TLS to the browser, or HTTPS=on set by an administrator
 * behind a TLS-terminating proxy (README 4.8). */
static int gwelb_is_tls(request_rec *r, const gwelb_balancer_conf *bc)
{
    const char *https;

    if (ap_ssl_conn_is_ssl(r->connection))
        return 1;
    return bc->cookie.secure == GWE_AUTO &&
           (https = apr_table_get(r->subprocess_env, "HTTPS")) &&
           !strcasecmp(https, "on");
}

/* "NAME=<signed value>; attributes" (README 4.8): issued now, or, for a
 * refresh (rq->cookie_refresh), when the cookie it re-dates was; signed by
 * the first key.  NULL when the value cannot be made (logged). */
static const char *gwelb_signed_cookie_value(request_rec *r,
                                             const gwelb_request *rq, int tls)
{
    const gwelb_balancer_conf *bc = rq->conf;
    const proxy_balancer *b = rq->balancer;
    char v[GWE_SIGNED_MAX + 1], id[GWE_OPAQUE_ID_LEN];
    gwe_signed_fields f;
    gwe_slice name = {bc->cookie_name, bc->cookie_name_len};
    gwe_slice bal = {b->s->name, strlen(b->s->name)};
    long now = (long)apr_time_sec(r->request_time);
    size_t n;

    f.key_index = 0;
    f.key_id[0] = bc->keys->ids[0];
    f.key_id[1] = bc->keys->ids[1];
    f.issued = rq->cookie_refresh ? rq->res.cookie_issued : now;
    f.refreshed = now;
    f.route.ptr = rq->served_route;
    f.route.len = strlen(rq->served_route);
    n = 0;
    /* a new visitor's value: perhaps already signed this second */
    if (f.issued == now &&
        gwelb_issued_get(bc->keys, b->s->name, rq->served_route, now, v,
                         sizeof v))
        n = strlen(v);
    else if (bc->cookie.opaque != GWE_ON ||
             gwelb_opaque_id(bc->keys, 0, (size_t)-1, f.route, id) == 0) {
        if (bc->cookie.opaque == GWE_ON) { /* the route's identifier */
            f.route.ptr = id;
            f.route.len = sizeof id;
        }
        n = gwe_signed_build(v, sizeof v, &f, gwelb_mac, bc->keys, name, bal);
        if (n && f.issued == now)
            gwelb_issued_put(bc->keys, b->s->name, rq->served_route, now, v);
    }
    if (!n) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                      GWELB_LOGNO(00102) "%s: cannot sign the route cookie "
                                         "for route %s; none sent",
                      b->s->name, rq->served_route);
        return NULL;
    }
    return apr_pstrcat(r->pool, bc->cookie_name, "=", v, bc->cookie_attrs[tls],
                       NULL);
}

/* "NAME=.route; attributes" for the member that served, written once,
 * straight into the pool at the most it can take (gwe_set_cookie_line_max:
 * a few bytes of a request's pool spared a measuring pass and a copy). */
static const char *gwelb_cookie_value(request_rec *r, const gwelb_request *rq)
{
    const gwelb_balancer_conf *bc = rq->conf;
    int tls = gwelb_is_tls(r, bc);
    size_t rlen, cap;
    char *v;

    if (bc->keys)
        return gwelb_signed_cookie_value(r, rq, tls);
    rlen = strlen(rq->served_route);
    cap = gwe_set_cookie_line_max(bc->cookie_name_len, rlen,
                                  bc->cookie_attrs_len[tls]) +
          1;
    v = apr_palloc(r->pool, cap);
    /* the bound holds (tests/unit/test_set_cookie.c); a line it did not
     * hold would be unwritten bytes, never sent */
    if (gwe_set_cookie_line(v, cap, bc->cookie_name, bc->cookie_name_len,
                            gwelb_separator(bc), rq->served_route, rlen,
                            bc->cookie_attrs[tls],
                            bc->cookie_attrs_len[tls]) >= cap)
        return NULL;
    return v;
}

typedef struct {
    apr_table_t *keep;
    const char *drop;
} gwelb_cookie_sieve;

static int gwelb_keep_other(void *ctx, const char *key, const char *val)
{
    gwelb_cookie_sieve *sv = ctx;

    if (val != sv->drop)
        apr_table_addn(sv->keep, key, val);
    return 1;
}

/* Removes the one Set-Cookie line `cookie` from t, keeping the others in
 * their order. */
void gwelb_drop_cookie(request_rec *r, apr_table_t *t, const char *cookie)
{
    gwelb_cookie_sieve sv = {apr_table_make(r->pool, 2), cookie};

    apr_table_do(gwelb_keep_other, &sv, t, "Set-Cookie", NULL);
    apr_table_unset(t, "Set-Cookie");
    apr_table_overlap(t, sv.keep, APR_OVERLAP_TABLES_ADD);
}

/*
 * mod_proxy_wstunnel (ProxyWebsocketFallbackToProxyHttp Off) copies the
 * member's 101 to the browser byte for byte, past every header table; a
 * connection filter puts the cookie after its status line (README 7.7).
 * It stands aside when mod_proxy_http sent the 101 itself (r->status is
 * then 101 and the cookie is among its headers), when httpd answers with
 * its own error page (no member answered), and goes with the request.
 */
apr_status_t gwelb_tunnel_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    gwelb_request *rq = f->ctx;
    apr_bucket *b;

    if (!rq->served || !rq->cookie || rq->r->status != HTTP_OK)
        return gwelb_tunnel_filter_done(f, bb);
    for (b = APR_BRIGADE_FIRST(bb); b != APR_BRIGADE_SENTINEL(bb);
         b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t len;
        long at;

        if (APR_BUCKET_IS_METADATA(b) ||
            apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS ||
            !len)
            continue;
        at = gwe_status_line_end(data, len, !rq->tunnel_seen);
        rq->tunnel_seen = 1;
        if (at == -2)
            return gwelb_tunnel_filter_done(f, bb);
        if (at >= 0) {
            const char *line = apr_pstrcat(
                rq->r->pool, "Set-Cookie: ", rq->cookie, "\r\n", NULL);
            apr_bucket_split(b, (apr_size_t)at);
            APR_BUCKET_INSERT_AFTER(
                b, apr_bucket_pool_create(line, strlen(line), rq->r->pool,
                                          f->c->bucket_alloc));
            return gwelb_tunnel_filter_done(f, bb);
        }
    }
    return ap_pass_brigade(f->next, bb);
}

static apr_status_t gwelb_tunnel_filter_done(ap_filter_t *f,
                                             apr_bucket_brigade *bb)
{
    gwelb_request *rq = f->ctx;

    apr_pool_cleanup_kill(rq->r->pool, f, gwelb_tunnel_filter_gone);
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* A connection filter outlives the request unless removed with it. */
static apr_status_t gwelb_tunnel_filter_gone(void *f)
{
    ap_remove_output_filter(f);
    return APR_SUCCESS;
}

static void gwelb_add_tunnel_filter(request_rec *r, gwelb_request *rq)
{
    ap_filter_t *f = ap_add_output_filter_handle(gwelb_tunnel_filter_handle,
                                                 rq, NULL, r->connection);

    rq->r = r;
    rq->tunnel_filter = 1;
    apr_pool_cleanup_register(r->pool, f, gwelb_tunnel_filter_gone,
                              apr_pool_cleanup_null);
}

/* ws:// or wss://: mod_proxy_wstunnel's members */
static int gwelb_is_ws(const proxy_worker *w)
{
    return w->s->scheme[0] == 'w' && w->s->scheme[1] == 's';
}

/* A member that may answer with a 101: mod_proxy_http sends that status
 * line and r->headers_out straight to the connection
 * (ap_send_interim_response), and mod_proxy_wstunnel copies the member's
 * bytes, neither passing the request's output filters. */
static int gwelb_may_tunnel(request_rec *r, const proxy_worker *w)
{
    return w && (gwelb_is_ws(w) || w->s->upgrade[0]) &&
           apr_table_get(r->headers_in, "Upgrade");
}

/*
 * The cookie of the member chosen for this attempt (README 4.5, 7.4).  It
 * goes into r->headers_out in the GWELB_COOKIE filter, with the member's
 * headers read and before mod_headers' output filter sees them, so
 * mod_proxy_http has no cookie of ours to tuck away and merge back while
 * it reads the member's; an error page httpd makes itself (no member
 * answered) gets none (gwelb_settle).  A request that may become a tunnel
 * gets it at once, before the member is contacted: mod_proxy_http and
 * mod_proxy_ajp keep Set-Cookie lines already in r->headers_out, and a 101
 * bypasses the filter.  The no-cache variable keeps mod_cache from storing
 * it for others.  A retry replaces the cookie of the attempt before.
 */
void gwelb_cookie_for_attempt(request_rec *r, gwelb_request *rq)
{
    proxy_worker *w = rq->served;
    int need;

    if (rq->cookie_placed)
        gwelb_drop_cookie(r, r->headers_out, rq->cookie);
    rq->cookie = NULL;
    rq->cookie_placed = 0;
    need = gwelb_needs_cookie(rq);
    rq->cookie_refresh = need == GWELB_COOKIE_REFRESH;
    if (!need || !(rq->cookie = gwelb_cookie_value(r, rq)))
        return;
    /* mod_cache's own "do not store" switch; r->no_cache would also make
     * httpd add an Expires header to the response.  Only its presence
     * counts, so a main request's first attempt adds it without looking
     * for an earlier one. */
    if (rq->attempts == 1 && !r->main)
        apr_table_addn(r->subprocess_env, "no-cache", "1");
    else
        apr_table_setn(r->subprocess_env, "no-cache", "1");
    if (!rq->cookie_filter) {
        rq->cookie_filter = 1;
        ap_add_output_filter_handle(gwelb_cookie_filter_handle, rq, r,
                                    r->connection);
    }
    if (gwelb_may_tunnel(r, w)) {
        apr_table_addn(r->headers_out, "Set-Cookie", rq->cookie);
        rq->cookie_placed = 1;
        if (!rq->tunnel_filter && gwelb_is_ws(w))
            gwelb_add_tunnel_filter(r, rq);
    }
}

/* ======================================================================== */
/* The member's own cookie, nocache, indirect (README 4.8)                  */
/* ======================================================================== */

/* 1 when a Set-Cookie line of t other than ours sets the route cookie.
 * One walk over the table's entries, "Set-" ruling out nearly every other
 * header byte by byte (Server is in almost every response; each test
 * stops at a key's NUL), where apr_table_do costs twice as much. */
static int gwelb_member_sets_cookie(const apr_table_t *t,
                                    const gwelb_request *rq, size_t name_len)
{
    const apr_array_header_t *h = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    int i;

    for (i = 0; i < h->nelts; i++) {
        const char *k = e[i].key, *v = e[i].val;

        if (k && (k[0] | 0x20) == 's' && (k[1] | 0x20) == 'e' &&
            (k[2] | 0x20) == 't' && k[3] == '-' &&
            !strcasecmp(k, "Set-Cookie") && v && v != rq->cookie &&
            gwe_set_cookie_sets(v, strlen(v), rq->conf->cookie_name, name_len))
            return 1;
    }
    return 0;
}

/* Cache-Control: private merged into what the member sent (README 4.8). */
static void gwelb_mark_private(request_rec *r)
{
    const char *cc = apr_table_get(r->headers_out, "Cache-Control");
    const char *ecc = apr_table_get(r->err_headers_out, "Cache-Control");
    const char *all = cc && ecc ? apr_pstrcat(r->pool, cc, ", ", ecc, NULL)
                      : cc      ? cc
                                : ecc;
    size_t len = all ? strlen(all) : 0;
    size_t n = gwe_cache_control_private(all, len, NULL, 0);
    char *v;

    if (!n)
        return; /* no-store or private already */
    v = apr_palloc(r->pool, n + 1);
    gwe_cache_control_private(all, len, v, n + 1);
    apr_table_unset(r->err_headers_out, "Cache-Control");
    apr_table_setn(r->headers_out, "Cache-Control", v);
}

/*
 * Runs once, with the response's headers final and not yet sent: a member
 * that set the route cookie itself decides (the module's goes), else the
 * module's cookie stays and nocache=on makes the response private.
 */
apr_status_t gwelb_cookie_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    gwelb_request *rq = f->ctx;
    request_rec *r = f->r;

    if (rq->cookie) {
        size_t name_len = rq->conf->cookie_name_len;

        if (gwelb_member_sets_cookie(r->headers_out, rq, name_len) ||
            gwelb_member_sets_cookie(r->err_headers_out, rq, name_len)) {
            if (rq->cookie_placed) {
                gwelb_drop_cookie(r, r->headers_out, rq->cookie);
                gwelb_drop_cookie(r, r->err_headers_out, rq->cookie);
            }
            rq->cookie = NULL;
            rq->cookie_placed = 0;
        } else {
            if (!rq->cookie_placed) {
                apr_table_addn(r->headers_out, "Set-Cookie", rq->cookie);
                rq->cookie_placed = 1;
            }
            if (rq->conf->cookie.nocache == GWE_ON)
                gwelb_mark_private(r);
        }
    }
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* indirect=on: every Cookie line without the route cookie; a line left
 * empty goes (README 4.8).  The lines are found as the route was read. */
void gwelb_strip_route_cookie(request_rec *r, const gwelb_balancer_conf *bc)
{
    gwe_slice on_stack[8], *lines = on_stack;
    size_t n = gwelb_cookie_lines(r, &lines, 8), nlen, i, changed = 0;

    if (!n)
        return;
    nlen = bc->cookie_name_len;
    for (i = 0; i < n; i++) {
        char *out = apr_palloc(r->pool, lines[i].len + 1);
        size_t removed, len;

        len = gwe_cookie_strip(lines[i].ptr, lines[i].len, bc->cookie_name,
                               nlen, out, lines[i].len, &removed);
        if (!removed)
            continue;
        changed = 1;
        out[len] = '\0';
        lines[i].ptr = len ? out : NULL; /* emptied: the line goes */
    }
    if (!changed)
        return;
    apr_table_unset(r->headers_in, "Cookie");
    for (i = 0; i < n; i++)
        if (lines[i].ptr)
            apr_table_addn(r->headers_in, "Cookie", lines[i].ptr);
}
