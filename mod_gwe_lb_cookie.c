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

static apr_status_t gwelb_tunnel_filter_done(ap_filter_t *f,
                                             apr_bucket_brigade *bb);
static apr_status_t gwelb_tunnel_filter_gone(void *f);

/* ======================================================================== */
/* The route cookie                                                         */
/* ======================================================================== */

static int gwelb_needs_cookie(const gwelb_request *rq)
{
    const gwelb_balancer_conf *bc = rq->conf;

    if (!rq->served || !rq->served_route || !*rq->served_route)
        return 0;
    if (rq->res.source == GWE_SOURCE_PARAM && bc->cookie_from_param == 0)
        return 0;
    return !rq->cookie_route || strcmp(rq->cookie_route, rq->served_route);
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

/* "NAME=.route; attributes" for the member that served, measured and
 * written straight into the pool. */
static const char *gwelb_cookie_value(request_rec *r, const gwelb_request *rq)
{
    const gwelb_balancer_conf *bc = rq->conf;
    int tls = ap_ssl_conn_is_ssl(r->connection) ? 1 : 0;
    size_t nlen = strlen(bc->cookie_name), rlen = strlen(rq->served_route);
    char sep = gwelb_separator(bc);
    size_t len = gwe_set_cookie_line(
        NULL, 0, bc->cookie_name, nlen, sep, rq->served_route, rlen,
        bc->cookie_attrs[tls], bc->cookie_attrs_len[tls]);
    char *v = apr_palloc(r->pool, len + 1);

    gwe_set_cookie_line(v, len + 1, bc->cookie_name, nlen, sep,
                        rq->served_route, rlen, bc->cookie_attrs[tls],
                        bc->cookie_attrs_len[tls]);
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

/*
 * The cookie goes into r->headers_out when the member is chosen, before it
 * is contacted (README 4.5, 7.4):
 *  - mod_proxy_http and mod_proxy_ajp keep Set-Cookie lines already in
 *    r->headers_out when they read the member's headers, so the member's
 *    response, and a WebSocket 101 (sent without passing the output
 *    filters), carries it;
 *  - mod_headers' output filter then sees it like the member's cookies;
 *  - the no-cache variable keeps mod_cache from storing it for others;
 *  - an error page httpd makes itself (no member answered) swaps
 *    r->headers_out away, so no cookie goes out without a member.
 * A retry replaces the cookie of the attempt before.
 */
void gwelb_cookie_for_attempt(request_rec *r, gwelb_request *rq)
{
    proxy_worker *w = rq->served;

    if (rq->cookie) {
        gwelb_drop_cookie(r, r->headers_out, rq->cookie);
        rq->cookie = NULL;
    }
    if (gwelb_needs_cookie(rq)) {
        rq->cookie = gwelb_cookie_value(r, rq);
        apr_table_addn(r->headers_out, "Set-Cookie", rq->cookie);
        /* mod_cache's own "do not store" switch; r->no_cache would also
         * make httpd add an Expires header to the response */
        apr_table_setn(r->subprocess_env, "no-cache", "1");
    }
    if (rq->cookie && !rq->tunnel_filter && w &&
        !strncmp(w->s->scheme, "ws", 2) &&
        apr_table_get(r->headers_in, "Upgrade"))
        gwelb_add_tunnel_filter(r, rq);
}
