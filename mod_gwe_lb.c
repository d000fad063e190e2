/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb.c - the module: its hooks and the lbmethod wrappers.
 *
 * How a request flows (mod_proxy's retry loop may run steps 2-4 again):
 *
 *   1. proxy_pre_request (ours, ordered before mod_proxy_balancer,
 *      mod_gwe_lb_request.c): for a GWELB balancer, keep its lbmethod our
 *      wrapper and read the route the request asks for, once.
 *   2. mod_proxy_balancer's pre_request locks, recovers, syncs and calls
 *      balancer->lbmethod->finder: our gwelb_find_member().
 *   3. gwelb_find_member(): the member the request asks for, or, when there
 *      is none or it is unusable, the balancer's own lbmethod.
 *   4. The route cookie goes into the response headers
 *      (mod_gwe_lb_cookie.c).
 *
 * Configuration is in mod_gwe_lb_config.c, start-up checks in
 * mod_gwe_lb_check.c.  Everything else - busy/elected counters, URL
 * rewriting, failonstatus, health checks - stays mod_proxy_balancer's.
 */
#include "mod_gwe_lb.h"

#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_optional.h"
#include "ap_provider.h"
#include "http_config.h"
#include "http_log.h"

/* Built in check_config / post_config (before children fork), read-only
 * afterwards. */
static apr_array_header_t *gwelb_wrappers; /* of gwelb_lbmethod * */
apr_hash_t *gwelb_balancers; /* proxy_balancer * -> its GWELB conf */
APR_OPTIONAL_FN_TYPE(ap_proxy_retry_worker) * gwelb_retry_worker;

/* ======================================================================== */
/* The lbmethod wrappers                                                    */
/* ======================================================================== */

/*
 * The request path finds a balancer's configuration by the balancer's
 * address in an open-addressing table built from gwelb_balancers in
 * post_config: a multiply and a compare or two, where apr_hash_get costs
 * ~150 instructions on every request (issue 12).
 */
typedef struct gwelb_conf_slot {
    const proxy_balancer *balancer; /* NULL: empty slot */
    gwelb_balancer_conf *conf;
    gwelb_route_keys *keys; /* GWELBFallback client-ip; made in child_init */
} gwelb_conf_slot;

static gwelb_conf_slot *gwelb_index; /* gwelb_index_mask + 1 slots */
static size_t gwelb_index_mask;

static size_t gwelb_slot_of(const proxy_balancer *b)
{
    uint64_t x = (uint64_t)(uintptr_t)b;

    return (size_t)((x * UINT64_C(0x9E3779B97F4A7C15)) >> 32) &
           gwelb_index_mask;
}

/* The table lives in pconf: gone with it at a restart. */
static apr_status_t gwelb_drop_index(void *unused)
{
    gwelb_index = NULL;
    return APR_SUCCESS;
}

/* At most half full, so a probe ends at an empty slot soon. */
static void gwelb_build_index(apr_pool_t *p)
{
    size_t size = 8;
    apr_hash_index_t *hi;

    gwelb_index = NULL;
    if (!gwelb_balancers || !apr_hash_count(gwelb_balancers))
        return;
    while (size < 2 * (size_t)apr_hash_count(gwelb_balancers))
        size *= 2;
    gwelb_index = apr_pcalloc(p, size * sizeof(*gwelb_index));
    gwelb_index_mask = size - 1;
    apr_pool_cleanup_register(p, NULL, gwelb_drop_index,
                              apr_pool_cleanup_null);
    for (hi = apr_hash_first(p, gwelb_balancers); hi; hi = apr_hash_next(hi)) {
        const void *key;
        void *conf;
        size_t i;

        apr_hash_this(hi, &key, NULL, &conf);
        for (i = gwelb_slot_of(*(proxy_balancer *const *)key);
             gwelb_index[i].balancer; i = (i + 1) & gwelb_index_mask)
            ;
        gwelb_index[i].balancer = *(proxy_balancer *const *)key;
        gwelb_index[i].conf = conf;
    }
}

static gwelb_conf_slot *gwelb_index_find(const proxy_balancer *b)
{
    size_t i;

    for (i = gwelb_slot_of(b); gwelb_index[i].balancer;
         i = (i + 1) & gwelb_index_mask)
        if (gwelb_index[i].balancer == b)
            return &gwelb_index[i];
    return NULL;
}

/* The configuration of a balancer a request goes through; NULL when the
 * balancer has no GWELB directives. */
gwelb_balancer_conf *gwelb_balancer_conf_of(const proxy_balancer *b)
{
    gwelb_conf_slot *slot;

    if (!gwelb_index) /* before post_config */
        return gwelb_balancers ? apr_hash_get(gwelb_balancers, &b, sizeof(b))
                               : NULL;
    return (slot = gwelb_index_find(b)) ? slot->conf : NULL;
}

/* gwelb_balancer_conf_of, and the balancer's route keys in this process
 * (NULL: none), from the one lookup the request path makes. */
gwelb_balancer_conf *gwelb_balancer_conf_keys(const proxy_balancer *b,
                                              gwelb_route_keys **keys)
{
    gwelb_conf_slot *slot;

    *keys = NULL;
    if (!gwelb_index)
        return gwelb_balancer_conf_of(b);
    if (!(slot = gwelb_index_find(b)))
        return NULL;
    *keys = slot->keys;
    return slot->conf;
}

/* Each child its own route keys (gwelb_route_keys): they are written on
 * the request path, under a lock that is the process's own. */
static void gwelb_route_keys_child_init(apr_pool_t *pchild)
{
    size_t i;

    for (i = 0; gwelb_index && i <= gwelb_index_mask; i++) {
        gwelb_conf_slot *slot = &gwelb_index[i];
        const proxy_balancer *b = slot->balancer;
        int n;

        if (!b || slot->conf->fallback != GWELB_FALLBACK_CLIENT_IP)
            continue;
        n = b->max_workers > b->workers->nelts ? b->max_workers
                                               : b->workers->nelts;
        slot->keys = apr_pcalloc(pchild, sizeof(*slot->keys));
        slot->keys->n = n;
        slot->keys->members =
            apr_pcalloc(pchild, (apr_size_t)n * sizeof(gwelb_route_key));
    }
}

/* Hands the counters to the balancer's configuration, where the request
 * path reads them (gwelb_balancer_conf.stats). */
void gwelb_bind_stats(const proxy_balancer *b, gwelb_stats *st)
{
    gwelb_balancer_conf *bc = gwelb_balancer_conf_of(b);

    if (bc)
        bc->stats = st;
}

/* One wrapper per lbmethod provider, so any lbmethod the balancer has, or
 * balancer-manager switches it to, can be wrapped without allocating. */
static void gwelb_build_wrappers(apr_pool_t *p)
{
    apr_array_header_t *names;
    int i;

    gwelb_wrappers = apr_array_make(p, 8, sizeof(gwelb_lbmethod *));
    names = ap_list_provider_names(p, PROXY_LBMETHOD, "0");
    for (i = 0; names && i < names->nelts; i++) {
        ap_list_provider_names_t *n =
            &APR_ARRAY_IDX(names, i, ap_list_provider_names_t);
        const proxy_balancer_method *m =
            ap_lookup_provider(PROXY_LBMETHOD, n->provider_name, "0");
        gwelb_lbmethod *w;

        if (!m || m->finder == gwelb_find_member)
            continue;
        w = apr_pcalloc(p, sizeof(*w));
        w->method = *m;
        w->method.finder = gwelb_find_member;
        w->inner = m;
        APR_ARRAY_PUSH(gwelb_wrappers, gwelb_lbmethod *) = w;
        /* mod_proxy_balancer re-reads the lbmethod from this registry
         * (ap_proxy_sync_balancer) after a balancer-manager change, under
         * its lock and right before it calls the finder: a change landing
         * between our pre_request and that sync would otherwise hand one
         * request to the bare lbmethod (README 7.9).  Registered under the
         * same name, the wrapper is what the sync finds; balancers without
         * GWELB directives go straight to the inner finder. */
        if (gwelb_balancers && apr_hash_count(gwelb_balancers))
            ap_register_provider(p, PROXY_LBMETHOD, n->provider_name, "0",
                                 &w->method);
    }
}

static proxy_balancer_method *gwelb_wrapper_for(const proxy_balancer_method *m)
{
    int i;

    for (i = 0; gwelb_wrappers && i < gwelb_wrappers->nelts; i++) {
        gwelb_lbmethod *w = APR_ARRAY_IDX(gwelb_wrappers, i, gwelb_lbmethod *);
        if (w->inner == m)
            return &w->method;
    }
    return NULL;
}

static int gwelb_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *main_s)
{
    gwelb_build_wrappers(pconf);
    gwelb_build_index(pconf);
    gwelb_status_post_config(pconf, ptemp, main_s);
    gwelb_retry_worker = APR_RETRIEVE_OPTIONAL_FN(ap_proxy_retry_worker);
    return OK;
}

/*
 * Keeps our wrapper on the balancer.  mod_proxy_balancer's own pre_request
 * calls ap_proxy_sync_balancer, which re-reads the lbmethod after a
 * balancer-manager change; syncing here first, under the same lock, leaves
 * it nothing to undo.
 */
void gwelb_ensure_wrapped(proxy_balancer *b, request_rec *r,
                          proxy_server_conf *pc)
{
    proxy_balancer_method *w;
    apr_status_t rv;

    if (gwelb_is_wrapped(b))
        return;
    if ((rv = PROXY_THREAD_LOCK(b)) != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                      GWELB_LOGNO(00011) "%s: balancer lock failed; the "
                                         "lbmethod is not re-wrapped",
                      b->s->name);
        return;
    }
    ap_proxy_sync_balancer(b, r->server, pc);
    if (b->lbmethod && b->lbmethod->finder != gwelb_find_member) {
        if ((w = gwelb_wrapper_for(b->lbmethod)))
            b->lbmethod = w;
        else
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                          GWELB_LOGNO(00002) "%s: lbmethod %s cannot be "
                                             "wrapped; routes are ignored",
                          b->s->name, b->lbmethod->name);
    }
    PROXY_THREAD_UNLOCK(b);
}

/* ======================================================================== */
/* Module                                                                   */
/* ======================================================================== */

static void gwelb_child_init(apr_pool_t *pchild, server_rec *s)
{
    gwelb_keys_child_init(pchild); /* GWELBCookieKey's per-thread MACs */
    gwelb_route_keys_child_init(pchild);
}

static void gwelb_register_hooks(apr_pool_t *p)
{
    /* Before mod_proxy_balancer, which reads the lbmethod we keep wrapped
     * and answers post_request. */
    static const char *const before_balancer[] = {"mod_proxy_balancer.c",
                                                  NULL};
    static const char *const after_proxy[] = {"mod_proxy.c",
                                              "mod_proxy_balancer.c", NULL};

    proxy_hook_pre_request(gwelb_pre_request, NULL, before_balancer,
                           APR_HOOK_FIRST);
    proxy_hook_post_request(gwelb_post_request, NULL, before_balancer,
                            APR_HOOK_FIRST);
    /* before every scheme handler: the variables of the attempt */
    proxy_hook_scheme_handler(gwelb_scheme_env, NULL, NULL,
                              APR_HOOK_REALLY_FIRST);
    ap_hook_check_config(gwelb_check_config, after_proxy, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_post_config(gwelb_post_config, after_proxy, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(gwelb_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* the mod_gwe_lb section of server-status, when mod_status is loaded */
    gwelb_status_register_hooks(p);
    /* Below mod_ssl (AP_FTYPE_CONNECTION + 5): it sees plain bytes. */
    gwelb_tunnel_filter_handle = ap_register_output_filter(
        "GWELB_TUNNEL_COOKIE", gwelb_tunnel_filter, NULL, AP_FTYPE_CONNECTION);
    /* Before mod_headers' Header (AP_FTYPE_CONTENT_SET), so it sees the
     * cookie decision made. */
    gwelb_cookie_filter_handle = ap_register_output_filter(
        "GWELB_COOKIE", gwelb_cookie_filter, NULL, AP_FTYPE_CONTENT_SET - 1);
}

AP_DECLARE_MODULE(gwe_lb) = {
    STANDARD20_MODULE_STUFF,
    gwelb_create_balancer_conf, /* per <Proxy "balancer://NAME"> section */
    gwelb_merge_balancer_conf,  /* inner sections win field by field */
    gwelb_create_server_conf, /* sections with GWELB directives, for checks */
    gwelb_merge_server_conf,  /* each server keeps its own sections */
    gwelb_cmds,               /* the GWELB directives */
    gwelb_register_hooks,     /* pre/post_request, check/post_config,
                                 server-status */
    AP_MODULE_FLAG_NONE       /* no special merging */
};
