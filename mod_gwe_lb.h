/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb.h - types and configuration of mod_gwe_lb.
 *
 * mod_gwe_lb gives mod_proxy_balancer the sticky sessions a Genesys Web
 * Engagement cluster needs.  It never replaces the balancer: a GWELB
 * balancer's lbmethod is wrapped, so mod_proxy_balancer keeps locking,
 * counting, health checks and the retry loop, and our finder only answers
 * "which member did this request ask for"; every other choice goes back to
 * the balancer's own lbmethod.
 */
#ifndef MOD_GWE_LB_H
#define MOD_GWE_LB_H

#include "httpd.h"
#include "http_config.h"
#include "mod_proxy.h"
#include "util_filter.h"

#include "sticky.h"

/* Our own log message ids, in the spirit of httpd's APLOGNO(). */
#define GWELB_LOGNO(n) "GWELB" #n ": "

#define GWELB_UNSET (-1)
#define GWELB_BALANCER_SCHEME "balancer://"
#define GWELB_DEFAULT_SEPARATOR '.'

/* The keys of GWELBCookieKey, loaded by the start-up checks
 * (mod_gwe_lb_keys.c); read-only once children run. */
typedef struct gwelb_opaque_member gwelb_opaque_member;
typedef struct gwelb_keys {
    unsigned long serial; /* which load made them (1, 2, ...) */
    int n;
    char ids[2 * GWE_SIGNED_KEYS_MAX]; /* key i's id: ids[2i], ids[2i+1] */
    struct evp_mac_ctx_st *mac[GWE_SIGNED_KEYS_MAX]; /* keyed HMAC-SHA256 */
    /* the same keys derived for the balancer's scope (gwe_signed_scope:
     * its cookie name and balancer name), and those scope bytes */
    struct evp_mac_ctx_st *scoped[GWE_SIGNED_KEYS_MAX];
    unsigned char *scope;
    size_t scope_len;
    struct evp_mac_st *hmac; /* OpenSSL's HMAC, for other scopes */
    /* opaque=on: the configured members' route identifiers per key */
    int nmembers;
    gwelb_opaque_member *members;
    /* the new values signed this second, per route (gwelb_issued_get) */
    struct gwelb_issued *issued;
    apr_uint32_t issued_busy; /* 1 while a thread reads or writes them */
    unsigned issued_next;     /* the slot replaced next */
} gwelb_keys;

/*
 * Configuration of one balancer: the per-directory config of its
 * <Proxy "balancer://NAME"> section.  post_config binds it to the
 * proxy_balancer structs requests use for that name (mod_proxy sets
 * proxy_balancer.section_config only for sections with parameters, so we
 * cannot rely on it).  GWELB_UNSET / NULL mean "not given here"; the merge
 * rule of every field is "the inner section wins when it sets the field".
 */
typedef struct gwelb_balancer_conf {
    /* GWELBStickyParam: parameter names (frontend stickiness). */
    gwe_slice params[GWE_PARAM_NAMES_MAX];
    int nparams;            /* GWELB_UNSET: directive not given */
    const char *params_arg; /* raw argument, to spot a conflicting repeat */

    /* GWELBRouteCookie: the route cookie (backend stickiness). */
    const char *cookie_name; /* NULL: no route cookie */
    size_t cookie_name_len;
    gwe_cookie_attrs cookie; /* its attributes */
    const char *cookie_arg;  /* raw argument, to spot a conflicting repeat */

    /* Set-Cookie bytes after the route, without and with TLS; made once
     * the configuration is final (gwelb_cookie_prepare), not per request */
    const char *cookie_attrs[2];
    size_t cookie_attrs_len[2];

    /* GWELBCookieKey: the files of the keys that sign the route cookie,
     * the signing key first (README 4.8) */
    const char *key_files[GWE_SIGNED_KEYS_MAX];
    int nkeys;        /* 0: not given (unsigned cookie) */
    gwelb_keys *keys; /* the loaded keys (start-up checks) */

    int separator;         /* GWELBRouteSeparator; default '.' */
    int sticky_force;      /* GWELBStickyForce; default Off */
    int cookie_from_param; /* GWELBCookieFromParam; default On */

    /* Not a directive: the balancer's server-status counters, bound in
     * post_config (gwelb_bind_stats).  One configuration serves one
     * balancer and its virtual hosts' inherited copies, which share the
     * counters, so the request path finds them here without a lookup. */
    struct gwelb_stats *stats;
    int fallback; /* GWELBFallback (gwelb_fallback); default none */
} gwelb_balancer_conf;

/* GWELBFallback: how a request without a usable route picks its member
 * (README 4.7). */
typedef enum {
    GWELB_FALLBACK_NONE = 0,     /* the balancer's own lbmethod */
    GWELB_FALLBACK_CLIENT_IP = 1 /* rendezvous hashing of the client address */
} gwelb_fallback;

/* Per-server configuration: every section that holds GWELB directives, so
 * post_config can check each one belongs to a balancer it can serve. */
typedef struct gwelb_server_conf {
    apr_array_header_t *sections; /* of gwelb_section */
} gwelb_server_conf;

typedef struct gwelb_section {
    const char *balancer;  /* "balancer://name" as written */
    const char *directive; /* first GWELB directive seen, for messages */
    const char *file;
    unsigned line;
    gwelb_balancer_conf *conf;
} gwelb_section;

/*
 * A balancer's lbmethod as mod_gwe_lb wraps it: the same provider with our
 * finder, which falls back to `inner` for every request whose member is not
 * fixed by a route.  One wrapper per registered lbmethod provider, built in
 * post_config and read-only afterwards.
 */
typedef struct gwelb_lbmethod {
    proxy_balancer_method method; /* first: balancer->lbmethod points here */
    const proxy_balancer_method *inner;
} gwelb_lbmethod;

/* How the member of an attempt was chosen (README 4.6; counted per member
 * on server-status). */
typedef enum {
    GWELB_PICK_NONE = 0, /* no member chosen (yet) */
    GWELB_PICK_PARAM,    /* the route of a URL parameter */
    GWELB_PICK_COOKIE,   /* the route of the route cookie */
    GWELB_PICK_FALLBACK, /* GWELBFallback: no usable route */
    GWELB_PICK_LBMETHOD  /* the balancer's own lbmethod */
} gwelb_pick;

/* What one request has learnt so far; lives in r->request_config. */
typedef struct gwelb_request {
    proxy_balancer *balancer; /* the GWELB balancer it goes through */
    const gwelb_balancer_conf *conf;
    struct gwelb_route_keys *route_keys; /* GWELBFallback's, this process's */
    int extracted;            /* sticky/ has read the request (once) */
    gwe_sticky_result res;    /* what it found */
    const char *requested;    /* route the request asks for, or NULL */
    const char *cookie_route; /* member route the route cookie named */
    proxy_worker *served;     /* member chosen by the last attempt; NULL
                                 once no member answered */
    const char *served_route; /* its route when chosen (shm may change):
                                 the requested one, or served_copy */
    gwelb_pick picked;        /* how `served` was chosen */
    int attempts;             /* finder calls so far (retry loop) */
    int env_written;          /* gwelb_set_env ran for this request */
    int env_due;              /* this attempt's variables are still to be set
                                 (gwelb_scheme_env) */
    const char *cookie;       /* this attempt's Set-Cookie line */
    int cookie_placed;  /* `cookie` is in headers_out or err_headers_out */
    request_rec *r;     /* for the tunnel filter, which has none */
    int tunnel_filter;  /* the wstunnel cookie filter is in place */
    int tunnel_seen;    /* it has seen the member's first bytes */
    int cookie_filter;  /* the GWELB_COOKIE filter is in place */
    int stripped;       /* indirect=on removed the route cookie */
    int cookie_refresh; /* `cookie` only refreshes a valid route
                           cookie: counted Refreshed, not Issued */
    /* GWELB_REQUEST_ZEROED: the fields above start zeroed; the copies
     * below are written before they are read.  The members' routes as
     * they were when read, whatever balancer-manager does to the shared
     * memory meanwhile: */
    char served_copy[PROXY_WORKER_MAX_ROUTE_SIZE + 1];
    char cookie_copy[PROXY_WORKER_MAX_ROUTE_SIZE + 1];    /* cookie_route */
    char requested_copy[PROXY_WORKER_MAX_ROUTE_SIZE + 1]; /* requested */
} gwelb_request;

#define GWELB_REQUEST_ZEROED offsetof(gwelb_request, served_copy)

/* The server-status counters (README 7.13), in their ?auto order.  Per
 * member: requests it served by how it was picked, requests that asked for
 * it and another served, Set-Cookies naming it that went out (new or
 * changed route; refreshed).  Per balancer: route cookies refused as
 * forged, expired or legacy, and requests whose parameter or route cookie
 * named no member. */
typedef enum {
    GWELB_MC_PARAM = 0,
    GWELB_MC_COOKIE,
    GWELB_MC_FALLBACK,
    GWELB_MC_LBMETHOD,
    GWELB_MC_MOVED,
    GWELB_MC_ISSUED,
    GWELB_MC_REFRESHED,
    GWELB_MC_COUNT
} gwelb_member_counter;

typedef enum {
    GWELB_BC_FORGED = 0,
    GWELB_BC_EXPIRED,
    GWELB_BC_LEGACY,
    GWELB_BC_UNKNOWN,
    GWELB_BC_COUNT
} gwelb_balancer_counter;

/* A balancer's counters in shared memory (mod_gwe_lb_status.c). */
typedef struct gwelb_stats gwelb_stats;

/* ---- shared between the glue's files ------------------------------------ */

/* the one symbol httpd looks up; the build hides every other one */
extern module AP_MODULE_DECLARE_DATA __attribute__((visibility("default")))
gwe_lb_module;

/* Built in check_config (mod_gwe_lb_check.c) and post_config
 * (mod_gwe_lb.c), before children fork; read-only afterwards. */
extern apr_hash_t *gwelb_balancers; /* proxy_balancer * -> its GWELB conf */
extern APR_OPTIONAL_FN_TYPE(ap_proxy_retry_worker) * gwelb_retry_worker;
extern ap_filter_rec_t *gwelb_tunnel_filter_handle;
extern ap_filter_rec_t *gwelb_cookie_filter_handle;
extern const command_rec gwelb_cmds[];

/* mod_gwe_lb_config.c */
void *gwelb_create_balancer_conf(apr_pool_t *p, char *dir);
void *gwelb_merge_balancer_conf(apr_pool_t *p, void *basev, void *addv);
void *gwelb_create_server_conf(apr_pool_t *p, server_rec *s);
void *gwelb_merge_server_conf(apr_pool_t *p, void *basev, void *addv);
int gwelb_is_active(const gwelb_balancer_conf *bc);
char gwelb_separator(const gwelb_balancer_conf *bc);

/* mod_gwe_lb_check.c */
int gwelb_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *main_s);

/* mod_gwe_lb.c */
gwelb_balancer_conf *gwelb_balancer_conf_of(const proxy_balancer *b);
void gwelb_ensure_wrapped(proxy_balancer *b, request_rec *r,
                          proxy_server_conf *pc);

/* mod_gwe_lb_request.c */
int gwelb_pre_request(proxy_worker **worker, proxy_balancer **balancer,
                      request_rec *r, proxy_server_conf *conf, char **url);
proxy_worker *gwelb_find_member(proxy_balancer *b, request_rec *r);
int gwelb_post_request(proxy_worker *worker, proxy_balancer *balancer,
                       request_rec *r, proxy_server_conf *conf);
void gwelb_set_env(request_rec *r, gwelb_request *rq, const char *served);

/* Our wrapper is on the balancer and no balancer-manager change is
 * pending: gwelb_ensure_wrapped has nothing to do (every request asks). */
static inline int gwelb_is_wrapped(const proxy_balancer *b)
{
    return b->lbmethod && b->lbmethod->finder == gwelb_find_member &&
           b->s->wupdated <= b->wupdated;
}
int gwelb_scheme_env(request_rec *r, proxy_worker *worker,
                     proxy_server_conf *conf, char *url, const char *proxyhost,
                     apr_port_t proxyport);
size_t gwelb_cookie_lines(request_rec *r, gwe_slice **lines, size_t cap);

/* mod_gwe_lb_keys.c */
int gwelb_issued_get(gwelb_keys *k, const char *balancer, const char *route,
                     long second, char *out, size_t cap);
void gwelb_issued_put(gwelb_keys *k, const char *balancer, const char *route,
                      long second, const char *value);
const char *gwelb_keys_load(apr_pool_t *p, apr_pool_t *ptemp,
                            gwelb_balancer_conf *bc, const proxy_balancer *b);
int gwelb_mac(void *ctx, int key_index, const gwe_slice *scope, size_t nscope,
              const gwe_slice *parts, size_t nparts, unsigned char out[32]);
void gwelb_keys_child_init(apr_pool_t *pchild);
int gwelb_opaque_id(void *ctx, int key_index, size_t member, gwe_slice route,
                    char out[GWE_OPAQUE_ID_LEN]);

/* mod_gwe_lb.c: binds a GWELB balancer's counters (post_config) */
void gwelb_bind_stats(const proxy_balancer *b, gwelb_stats *st);

/* mod_gwe_lb_status.c */
void gwelb_status_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                              server_rec *main_s);
void gwelb_status_register_hooks(apr_pool_t *p);
/* Once per request, from post_request.  Never inlined: bench/status-cost.sh
 * measures what the counters cost as this function's inclusive count. */
__attribute__((noinline)) void gwelb_status_count(const gwelb_request *rq);
/* For counts decided elsewhere (the signed route cookie): at most once per
 * request each.  Refreshed needs no call when the refreshing Set-Cookie is
 * rq->cookie with rq->cookie_refresh set. */
void gwelb_status_bump_member(const gwelb_request *rq, const proxy_worker *w,
                              gwelb_member_counter c);
void gwelb_status_bump_balancer(const gwelb_request *rq,
                                gwelb_balancer_counter c);
/* mod_gwe_lb_fallback.c */
proxy_worker *gwelb_fallback_member(const gwelb_request *rq,
                                    const proxy_balancer_method *inner,
                                    request_rec *r);

/*
 * GWELBFallback client-ip: one process's route halves of the hash of one
 * balancer's members (README 4.7), so a pick hashes no route that did not
 * change.  Indexed by the member's slot in the balancer's shared memory
 * (proxy_worker_shared.index, below max_workers); an entry names the
 * shared record it was made for.  Read and written only by the finder,
 * under the balancer's thread lock; each proxy_balancer a request can
 * use (a virtual host's inherited copy has its own lock) has its own.
 */
typedef struct gwelb_route_key {
    const proxy_worker_shared *s; /* whose route; NULL: unused */
    gwe_rendezvous_key key;
} gwelb_route_key;

typedef struct gwelb_route_keys {
    int n;
    gwelb_route_key *members;
} gwelb_route_keys;

/* mod_gwe_lb.c: gwelb_balancer_conf_of, and the balancer's route keys in
 * this process (NULL: none) */
gwelb_balancer_conf *gwelb_balancer_conf_keys(const proxy_balancer *b,
                                              gwelb_route_keys **keys);

/* mod_gwe_lb_cookie.c */
void gwelb_cookie_prepare(apr_pool_t *p, gwelb_balancer_conf *bc);
void gwelb_cookie_for_attempt(request_rec *r, gwelb_request *rq);
void gwelb_drop_cookie(request_rec *r, apr_table_t *t, const char *cookie);
apr_status_t gwelb_tunnel_filter(ap_filter_t *f, apr_bucket_brigade *bb);
apr_status_t gwelb_cookie_filter(ap_filter_t *f, apr_bucket_brigade *bb);
void gwelb_strip_route_cookie(request_rec *r, const gwelb_balancer_conf *bc);

#endif /* MOD_GWE_LB_H */
