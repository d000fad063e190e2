/*
 * mod_gwe_lb.c - Apache glue of mod_gwe_lb.
 *
 * How a request flows (mod_proxy's retry loop may run steps 1-3 again):
 *
 *   1. proxy_pre_request (ours, ordered before mod_proxy_balancer): for a
 *      GWELB balancer, make sure its lbmethod is our wrapper, then decline.
 *   2. mod_proxy_balancer's pre_request locks, recovers, syncs and calls
 *      balancer->lbmethod->finder: our gwelb_find_member().
 *   3. gwelb_find_member(): the member the request asks for (sticky/), or,
 *      when there is none or it is unusable, the balancer's own lbmethod.
 *   4. The route cookie filter adds Set-Cookie to the member's response.
 *
 * Everything else - busy/elected counters, BALANCER_* variables, URL
 * rewriting, failonstatus, health checks - stays mod_proxy_balancer's.
 */
#include "mod_gwe_lb.h"

#include "apr_hash.h"
#include "apr_strings.h"
#include "apr_optional.h"
#include "ap_provider.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "util_filter.h"

module AP_MODULE_DECLARE_DATA gwe_lb_module;

#define GWELB_COOKIE_FILTER "GWELB_ROUTE_COOKIE"
#define GWELB_ROUTES_ON_STACK 64

/* Built in post_config (before children fork), read-only afterwards. */
static apr_array_header_t *gwelb_wrappers; /* of gwelb_lbmethod * */
static apr_hash_t *gwelb_balancers; /* proxy_balancer * -> its GWELB conf */
static APR_OPTIONAL_FN_TYPE(ap_proxy_retry_worker) * gwelb_retry_worker;
static ap_filter_rec_t *gwelb_cookie_filter_handle;

static proxy_worker *gwelb_find_member(proxy_balancer *balancer,
                                       request_rec *r);
static void gwelb_cookie_before_upgrade(request_rec *r, gwelb_request *rq);
static int gwelb_needs_cookie(const gwelb_request *rq);

/* ======================================================================== */
/* Configuration                                                            */
/* ======================================================================== */

static void *create_balancer_conf(apr_pool_t *p, char *dir)
{
    gwelb_balancer_conf *bc = apr_pcalloc(p, sizeof(*bc));

    bc->nparams = GWELB_UNSET;
    gwe_cookie_attrs_init(&bc->cookie);
    bc->separator = GWELB_UNSET;
    bc->sticky_force = GWELB_UNSET;
    bc->cookie_from_param = GWELB_UNSET;
    return bc;
}

static int gwelb_conf_sets_anything(const gwelb_balancer_conf *bc)
{
    return bc->nparams != GWELB_UNSET || bc->cookie_name ||
           bc->separator != GWELB_UNSET || bc->sticky_force != GWELB_UNSET ||
           bc->cookie_from_param != GWELB_UNSET;
}

/* Inner <Proxy> sections win field by field. */
static void *merge_balancer_conf(apr_pool_t *p, void *basev, void *addv)
{
    gwelb_balancer_conf *base = basev, *add = addv;
    gwelb_balancer_conf *bc;

    /* httpd merges the <Proxy> section on every request through it, and
     * the base (the server's defaults) is almost always empty. */
    if (!gwelb_conf_sets_anything(base))
        return add;
    bc = apr_pmemdup(p, add, sizeof(*bc));

    if (add->nparams == GWELB_UNSET) {
        memcpy(bc->params, base->params, sizeof(bc->params));
        bc->nparams = base->nparams;
        bc->params_arg = base->params_arg;
    }
    if (!add->cookie_name) {
        bc->cookie_name = base->cookie_name;
        bc->cookie = base->cookie;
        bc->cookie_arg = base->cookie_arg;
    }
    if (add->separator == GWELB_UNSET)
        bc->separator = base->separator;
    if (add->sticky_force == GWELB_UNSET)
        bc->sticky_force = base->sticky_force;
    if (add->cookie_from_param == GWELB_UNSET)
        bc->cookie_from_param = base->cookie_from_param;
    return bc;
}

static void *create_server_conf(apr_pool_t *p, server_rec *s)
{
    gwelb_server_conf *sc = apr_pcalloc(p, sizeof(*sc));

    sc->sections = apr_array_make(p, 2, sizeof(gwelb_section));
    return sc;
}

/* Sections are checked once, where they were written: a virtual host
 * keeps its own list, never the main server's. */
static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    return addv;
}

/* A balancer is ours when it names a route source. */
static int gwelb_is_active(const gwelb_balancer_conf *bc)
{
    return bc && (bc->nparams > 0 || bc->cookie_name);
}

static char gwelb_separator(const gwelb_balancer_conf *bc)
{
    return bc->separator == GWELB_UNSET ? GWELB_DEFAULT_SEPARATOR
                                        : (char)bc->separator;
}

/* ---- where a directive may stand --------------------------------------- */

/* Containers that do not change a directive's context. */
static int gwelb_transparent_section(const char *name)
{
    static const char *const names[] = {
        "<IfModule",    "<IfDefine",  "<IfVersion", "<IfFile",
        "<IfDirective", "<IfSection", NULL};
    int i;

    for (i = 0; names[i]; i++)
        if (!strcasecmp(name, names[i]))
            return 1;
    return 0;
}

/*
 * Every GWELB directive configures one balancer, so it must stand directly
 * in that balancer's <Proxy "balancer://NAME"> section.  Records the section
 * for the start-up checks.  Returns NULL or the error message.
 */
static const char *gwelb_in_balancer(cmd_parms *cmd, gwelb_balancer_conf *bc)
{
    const ap_directive_t *d = cmd->directive->parent;
    gwelb_server_conf *sc;
    gwelb_section *sec;
    int i;

    while (d && gwelb_transparent_section(d->directive))
        d = d->parent;
    if (!d || strcasecmp(d->directive, "<Proxy") || !cmd->path ||
        strncasecmp(cmd->path, "balancer://", 11) || !cmd->path[11])
        return apr_psprintf(cmd->pool,
                            "%s is only allowed inside a <Proxy "
                            "\"balancer://NAME\"> section: it configures "
                            "that balancer",
                            cmd->cmd->name);

    sc = ap_get_module_config(cmd->server->module_config, &gwe_lb_module);
    for (i = 0; i < sc->sections->nelts; i++)
        if (APR_ARRAY_IDX(sc->sections, i, gwelb_section).conf == bc)
            return NULL;
    sec = apr_array_push(sc->sections);
    sec->balancer = apr_pstrdup(cmd->pool, cmd->path);
    sec->directive = cmd->cmd->name;
    sec->file = cmd->directive->filename;
    sec->line = cmd->directive->line_num;
    sec->conf = bc;
    return NULL;
}

static const char *gwelb_conflict(cmd_parms *cmd, const char *was,
                                  const char *now)
{
    return apr_psprintf(cmd->pool,
                        "%s is given twice for %s with different values "
                        "('%s' and '%s'); give it once",
                        cmd->cmd->name, cmd->path, was, now);
}

/* Splits a RAW_ARGS argument into words (quotes as Apache handles them)
 * and returns them joined by single spaces, to compare repeats. */
static const char *gwelb_words(apr_pool_t *p, const char *arg,
                               apr_array_header_t *words)
{
    const char *w, *joined = "";

    while (*arg) {
        w = ap_getword_conf(p, &arg);
        if (!*w)
            continue;
        APR_ARRAY_PUSH(words, const char *) = w;
        joined = *joined ? apr_pstrcat(p, joined, " ", w, NULL) : w;
    }
    return joined;
}

/* ---- directives --------------------------------------------------------- */

/* A parameter name must be bounded by ?&; and '=' in a URL. */
static int gwelb_param_name_valid(const char *name)
{
    const char *c;

    if (!*name)
        return 0;
    for (c = name; *c; c++)
        if (!gwe_cookie_name_valid(c, 1) || strchr("=&;?#/%", *c))
            return 0;
    return 1;
}

static const char *set_sticky_param(cmd_parms *cmd, void *mconfig,
                                    const char *arg)
{
    gwelb_balancer_conf *bc = mconfig;
    apr_array_header_t *words = apr_array_make(cmd->pool, 4, sizeof(char *));
    const char *joined, *err;
    int i;

    if ((err = gwelb_in_balancer(cmd, bc)))
        return err;
    joined = gwelb_words(cmd->pool, arg, words);
    if (bc->params_arg)
        return strcmp(bc->params_arg, joined)
                   ? gwelb_conflict(cmd, bc->params_arg, joined)
                   : NULL;
    if (!words->nelts || words->nelts > GWE_PARAM_NAMES_MAX)
        return apr_psprintf(cmd->pool,
                            "GWELBStickyParam takes 1 to %d parameter "
                            "names, not %d",
                            GWE_PARAM_NAMES_MAX, words->nelts);
    for (i = 0; i < words->nelts; i++) {
        const char *name = APR_ARRAY_IDX(words, i, const char *);
        if (!gwelb_param_name_valid(name))
            return apr_psprintf(cmd->pool,
                                "GWELBStickyParam: '%s' is not a valid URL "
                                "parameter name (letters, digits and "
                                "token characters other than = & ; ? # / "
                                "%%)",
                                name);
        bc->params[i].ptr = name;
        bc->params[i].len = strlen(name);
    }
    bc->nparams = words->nelts;
    bc->params_arg = joined;
    return NULL;
}

static const char *set_route_cookie(cmd_parms *cmd, void *mconfig,
                                    const char *arg)
{
    gwelb_balancer_conf *bc = mconfig;
    apr_array_header_t *words = apr_array_make(cmd->pool, 8, sizeof(char *));
    const char *joined, *name, *err;
    char msg[256];
    int i;

    if ((err = gwelb_in_balancer(cmd, bc)))
        return err;
    joined = gwelb_words(cmd->pool, arg, words);
    if (bc->cookie_arg)
        return strcmp(bc->cookie_arg, joined)
                   ? gwelb_conflict(cmd, bc->cookie_arg, joined)
                   : NULL;
    if (!words->nelts)
        return "GWELBRouteCookie needs a cookie name, then optional "
               "attr=value words";
    name = APR_ARRAY_IDX(words, 0, const char *);
    if (!gwe_cookie_name_valid(name, strlen(name)))
        return apr_psprintf(cmd->pool,
                            "GWELBRouteCookie: '%s' is not a valid cookie "
                            "name (an RFC 6265 token)",
                            name);
    for (i = 1; i < words->nelts; i++) {
        const char *w = APR_ARRAY_IDX(words, i, const char *);
        if (gwe_cookie_attr_parse(&bc->cookie, w, strlen(w), msg, sizeof(msg)))
            return apr_pstrdup(cmd->pool, msg);
    }
    if (gwe_cookie_attrs_check(&bc->cookie, msg, sizeof(msg)))
        return apr_pstrdup(cmd->pool, msg);
    bc->cookie_name = name;
    bc->cookie_arg = joined;
    return NULL;
}

static const char *set_separator(cmd_parms *cmd, void *mconfig,
                                 const char *arg)
{
    gwelb_balancer_conf *bc = mconfig;
    const char *err;

    if ((err = gwelb_in_balancer(cmd, bc)))
        return err;
    if (strlen(arg) != 1 || !gwe_separator_valid(arg[0]))
        return apr_psprintf(cmd->pool,
                            "GWELBRouteSeparator: '%s' is not allowed; use "
                            "one of . - _ ~ ! * + : @ | $",
                            arg);
    if (bc->separator != GWELB_UNSET && bc->separator != arg[0])
        return gwelb_conflict(
            cmd, apr_psprintf(cmd->pool, "%c", (char)bc->separator), arg);
    bc->separator = arg[0];
    return NULL;
}

static const char *set_flag(cmd_parms *cmd, int *field, int on)
{
    if (*field != GWELB_UNSET && *field != on)
        return gwelb_conflict(cmd, *field ? "On" : "Off", on ? "On" : "Off");
    *field = on;
    return NULL;
}

static const char *set_sticky_force(cmd_parms *cmd, void *mconfig, int on)
{
    gwelb_balancer_conf *bc = mconfig;
    const char *err = gwelb_in_balancer(cmd, bc);

    return err ? err : set_flag(cmd, &bc->sticky_force, on);
}

static const char *set_cookie_from_param(cmd_parms *cmd, void *mconfig, int on)
{
    gwelb_balancer_conf *bc = mconfig;
    const char *err = gwelb_in_balancer(cmd, bc);

    return err ? err : set_flag(cmd, &bc->cookie_from_param, on);
}

static const command_rec gwelb_cmds[] = {
    AP_INIT_RAW_ARGS("GWELBStickyParam", set_sticky_param, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "URL parameter names whose value ends with "
                     "<separator><route>; requests carrying one go to the "
                     "member with that route (frontend stickiness)."),
    AP_INIT_RAW_ARGS("GWELBRouteCookie", set_route_cookie, NULL,
                     RSRC_CONF | ACCESS_CONF,
                     "Name of the route cookie this load balancer sets and "
                     "reads (backend stickiness), then attr=value words: "
                     "path, domain, secure, httponly, samesite, max-age, "
                     "partitioned."),
    AP_INIT_TAKE1("GWELBRouteSeparator", set_separator, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "The one character between a value's own text and the "
                  "route; '.' by default."),
    AP_INIT_FLAG("GWELBStickyForce", set_sticky_force, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "On: a request whose member is unusable gets 503 instead "
                 "of failing over to another member. Off by default."),
    AP_INIT_FLAG("GWELBCookieFromParam", set_cookie_from_param, NULL,
                 RSRC_CONF | ACCESS_CONF,
                 "On (default): a route taken from a URL parameter is also "
                 "stored in the route cookie."),
    {NULL}};

/* ======================================================================== */
/* Start-up checks and the lbmethod wrappers                                */
/* ======================================================================== */

/* The configuration of a balancer a request goes through; NULL when the
 * balancer has no GWELB directives. */
static gwelb_balancer_conf *gwelb_balancer_conf_of(const proxy_balancer *b)
{
    return gwelb_balancers ? apr_hash_get(gwelb_balancers, &b, sizeof(b))
                           : NULL;
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

static int gwelb_startup_error(server_rec *s, const gwelb_section *sec,
                               const char *msg)
{
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                 GWELB_LOGNO(00001) "%s (%s, line %u, <Proxy \"%s\">)", msg,
                 sec->file ? sec->file : "?", sec->line, sec->balancer);
    return HTTP_INTERNAL_SERVER_ERROR;
}

/*
 * Binds one written section to the balancer that requests for its name will
 * use in server s (ap_proxy_get_balancer, as mod_proxy_balancer finds it).
 * A balancer defined in the main server is copied into every virtual host,
 * so each copy is bound.
 */
static int gwelb_bind_section(server_rec *s, const gwelb_section *sec,
                              int inherited, apr_pool_t *pconf,
                              apr_pool_t *ptemp)
{
    proxy_server_conf *pc =
        ap_get_module_config(s->module_config, &proxy_module);
    proxy_balancer *b = ap_proxy_get_balancer(ptemp, pc, sec->balancer, 0);
    proxy_balancer **key;
    gwelb_balancer_conf *bound;

    if (!gwelb_is_active(sec->conf))
        return gwelb_startup_error(
            s, sec,
            apr_psprintf(ptemp,
                         "%s has no effect without GWELBStickyParam or "
                         "GWELBRouteCookie in the same section",
                         sec->directive));
    if (!b)
        return gwelb_startup_error(s, sec,
                                   apr_psprintf(ptemp,
                                                "%s: %s has no "
                                                "BalancerMember",
                                                sec->directive,
                                                sec->balancer));
    if (*b->s->sticky || *b->s->sticky_path)
        return gwelb_startup_error(
            s, sec,
            apr_psprintf(ptemp,
                         "%s cannot be combined with stickysession= on the "
                         "same balancer: remove stickysession= (mod_gwe_lb "
                         "reads the route itself)",
                         sec->directive));
    bound = apr_hash_get(gwelb_balancers, &b, sizeof(b));
    if (bound && inherited)
        return OK; /* the virtual host configured this balancer itself */
    if (bound && bound != sec->conf)
        return gwelb_startup_error(
            s, sec,
            apr_psprintf(ptemp,
                         "%s: the GWELB directives of %s are spread over "
                         "two <Proxy> sections; put them in one",
                         sec->directive, sec->balancer));
    key = apr_palloc(pconf, sizeof(*key));
    *key = b;
    apr_hash_set(gwelb_balancers, key, sizeof(*key), sec->conf);
    return OK;
}

/* Binds the sections written in `where` for server s. */
static int gwelb_bind_sections(server_rec *s, server_rec *where,
                               apr_pool_t *pconf, apr_pool_t *ptemp)
{
    gwelb_server_conf *sc =
        ap_get_module_config(where->module_config, &gwe_lb_module);
    int i, rv;

    if (sc->sections->nelts && !ap_find_linked_module("mod_proxy_balancer.c"))
        return gwelb_startup_error(
            s, &APR_ARRAY_IDX(sc->sections, 0, gwelb_section),
            "mod_gwe_lb needs mod_proxy_balancer: load it");
    for (i = 0; i < sc->sections->nelts; i++) {
        const gwelb_section *sec =
            &APR_ARRAY_IDX(sc->sections, i, gwelb_section);
        if ((rv = gwelb_bind_section(s, sec, where != s, pconf, ptemp)) != OK)
            return rv;
    }
    return OK;
}

static int gwelb_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *main_s)
{
    server_rec *s;
    int rv;

    gwelb_build_wrappers(pconf);
    gwelb_retry_worker = APR_RETRIEVE_OPTIONAL_FN(ap_proxy_retry_worker);
    gwelb_balancers = apr_hash_make(pconf);
    /* A virtual host's own sections first: they win over the main
     * server's for the balancers it defines itself. */
    for (s = main_s; s; s = s->next) {
        if (s != main_s &&
            (rv = gwelb_bind_sections(s, s, pconf, ptemp)) != OK)
            return rv;
        if ((rv = gwelb_bind_sections(s, main_s, pconf, ptemp)) != OK)
            return rv;
    }
    return OK;
}

/* ======================================================================== */
/* Request path                                                             */
/* ======================================================================== */

/*
 * Keeps our wrapper on the balancer.  mod_proxy_balancer's own pre_request
 * calls ap_proxy_sync_balancer, which re-reads the lbmethod after a
 * balancer-manager change; syncing here first, under the same lock, leaves
 * it nothing to undo.
 */
static void gwelb_ensure_wrapped(proxy_balancer *b, request_rec *r,
                                 proxy_server_conf *pc)
{
    proxy_balancer_method *w;

    if (b->lbmethod && b->lbmethod->finder == gwelb_find_member &&
        b->s->wupdated <= b->wupdated)
        return;
    if (PROXY_THREAD_LOCK(b) != APR_SUCCESS)
        return;
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

/* The request's state, made on its first pass through a GWELB balancer;
 * it also saves the finder a second configuration lookup. */
static gwelb_request *gwelb_request_of(request_rec *r, proxy_balancer *b,
                                       const gwelb_balancer_conf *bc)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);

    if (!rq) {
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        ap_set_module_config(r->request_config, &gwe_lb_module, rq);
    }
    rq->balancer = b;
    rq->conf = bc;
    return rq;
}

static int gwelb_pre_request(proxy_worker **worker, proxy_balancer **balancer,
                             request_rec *r, proxy_server_conf *conf,
                             char **url)
{
    proxy_balancer *b = *balancer;
    const gwelb_balancer_conf *bc;

    if (!gwelb_balancers || !apr_hash_count(gwelb_balancers))
        return DECLINED; /* no GWELB balancer anywhere: cost nothing */
    if (!b) {
        if (strncasecmp(*url, "balancer://", 11))
            return DECLINED;
        b = ap_proxy_get_balancer(r->pool, conf, *url, 1);
    }
    if (!b || !(bc = gwelb_balancer_conf_of(b)))
        return DECLINED;
    gwelb_request_of(r, b, bc);
    gwelb_ensure_wrapped(b, r, conf);
    /* mod_proxy_balancer reuses a balancer it is handed: no second lookup */
    *balancer = b;
    return DECLINED;
}

typedef struct {
    gwe_slice *v;
    int n, cap;
} gwelb_cookie_lines;

static int gwelb_collect_cookie(void *ctx, const char *key, const char *val)
{
    gwelb_cookie_lines *cl = ctx;

    if (cl->n < cl->cap) {
        cl->v[cl->n].ptr = val;
        cl->v[cl->n].len = strlen(val);
        cl->n++;
    }
    return 1;
}

/*
 * The URL the route parameter is read from, without copying: the request
 * target as the client sent it (path parameters and query string), unless
 * mod_rewrite's [P] put a whole target URL with its own query into
 * r->filename.  (mod_proxy_balancer's own stickysession= reads r->filename,
 * which since 2.4.62 no longer holds the query string at pre_request.)
 */
static const char *gwelb_request_url(request_rec *r)
{
    if (r->filename && !strncmp(r->filename, "proxy:", 6) &&
        strchr(r->filename, '?'))
        return r->filename + 6;
    return r->unparsed_uri ? r->unparsed_uri : "";
}

/* Runs sticky/ over the request; returns the requested route or NULL. */
static const char *gwelb_requested_route(request_rec *r,
                                         const gwelb_balancer_conf *bc,
                                         proxy_balancer *b, gwelb_request *rq,
                                         gwe_sticky_result *res)
{
    gwe_slice on_stack[GWELB_ROUTES_ON_STACK], lines[8];
    gwe_slice *routes = on_stack;
    gwelb_cookie_lines cl = {lines, 0, 8};
    proxy_worker **workers = (proxy_worker **)b->workers->elts;
    gwe_sticky_conf sc;
    const char *url = gwelb_request_url(r);
    int i, n = b->workers->nelts;

    if (n > GWELB_ROUTES_ON_STACK)
        routes = apr_palloc(r->pool, n * sizeof(*routes));
    for (i = 0; i < n; i++) {
        routes[i].ptr = workers[i]->s->route;
        routes[i].len =
            strnlen(workers[i]->s->route, sizeof(workers[i]->s->route));
    }
    if (bc->cookie_name)
        apr_table_do(gwelb_collect_cookie, &cl, r->headers_in, "Cookie", NULL);
    sc.params = bc->params;
    sc.nparams = bc->nparams > 0 ? (size_t)bc->nparams : 0;
    sc.cookie.ptr = bc->cookie_name;
    sc.cookie.len = bc->cookie_name ? strlen(bc->cookie_name) : 0;
    sc.separator = gwelb_separator(bc);
    gwe_sticky_extract(&sc, url, strlen(url), cl.v, (size_t)cl.n, routes,
                       (size_t)n, res);

    rq->source = res->source;
    rq->cookie_route =
        res->cookie_route < 0
            ? NULL
            : apr_pstrmemdup(r->pool, routes[res->cookie_route].ptr,
                             routes[res->cookie_route].len);
    if (res->route < 0)
        return NULL;
    /* a returning visitor's cookie names the route it requests */
    if (res->route == res->cookie_route)
        return rq->cookie_route;
    return apr_pstrmemdup(r->pool, routes[res->route].ptr,
                          routes[res->route].len);
}

static int gwelb_usable(proxy_worker *w, request_rec *r)
{
    if (PROXY_WORKER_IS_USABLE(w))
        return 1;
    /* An errored member comes back once its retry= period has passed. */
    if (gwelb_retry_worker)
        gwelb_retry_worker("BALANCER", w, r->server);
    return PROXY_WORKER_IS_USABLE(w);
}

/*
 * The usable member with this route, as mod_proxy_balancer's sticky path
 * finds it: members before hot standbys; an unusable member hands over to
 * its redirect= route; `depth` stops redirect cycles.
 */
static proxy_worker *gwelb_route_member(proxy_balancer *b, const char *route,
                                        request_rec *r, int depth)
{
    proxy_worker **workers = (proxy_worker **)b->workers->elts;
    int standby, i;

    for (standby = 0; standby <= 1; standby++) {
        for (i = 0; i < b->workers->nelts; i++) {
            proxy_worker *w = workers[i];
            if (!PROXY_WORKER_IS_STANDBY(w) != !standby ||
                strcmp(w->s->route, route))
                continue;
            if (gwelb_usable(w, r))
                return w;
            if (*w->s->redirect && depth < b->workers->nelts) {
                proxy_worker *rw =
                    gwelb_route_member(b, w->s->redirect, r, depth + 1);
                if (rw)
                    return rw;
            }
        }
    }
    return NULL;
}

/* A sticky pick still counts for the lbmethod's fairness, as in
 * mod_proxy_balancer's own sticky path (elected++ is the balancer's). */
static void gwelb_account_pick(proxy_balancer *b,
                               const proxy_balancer_method *inner,
                               proxy_worker *chosen, request_rec *r)
{
    proxy_worker **workers = (proxy_worker **)b->workers->elts;
    int i, total = 0;

    if (inner->updatelbstatus) {
        inner->updatelbstatus(b, chosen, r->server);
        return;
    }
    for (i = 0; i < b->workers->nelts; i++) {
        if (PROXY_WORKER_IS_USABLE(workers[i])) {
            workers[i]->s->lbstatus += workers[i]->s->lbfactor;
            total += workers[i]->s->lbfactor;
        }
    }
    chosen->s->lbstatus -= total;
}

static const char *const gwelb_source_names[] = {"none", "param", "cookie"};

/* Sets key.  On a first attempt the keys are new, so the cheaper addn
 * (no scan for an old value) does; a retry replaces or removes what the
 * attempt before left. */
static void gwelb_env(apr_table_t *t, const char *key, const char *val,
                      int again)
{
    if (!again) {
        if (val)
            apr_table_addn(t, key, val);
    } else if (val)
        apr_table_setn(t, key, val);
    else
        apr_table_unset(t, key);
}

/*
 * Environment for LogFormat, mod_headers and mod_rewrite (SPEC 4.6), plus
 * the BALANCER_* session variables stock sticky balancers set.
 * GWELB_ROUTE_CHANGED: a route was asked for and another member served.
 * BALANCER_ROUTE_CHANGED keeps its stock meaning, "the lbmethod picked the
 * member", so a stock Set-Cookie recipe still fires during a migration.
 */
static void gwelb_set_env(request_rec *r, const gwelb_balancer_conf *bc,
                          const gwe_sticky_result *res, const char *requested,
                          const char *served, int again)
{
    apr_table_t *e = r->subprocess_env;
    int moved = requested && served && strcmp(requested, served);
    int picked = served && (!requested || moved);
    const char *sticky = !requested ? NULL
                         : res->source == GWE_SOURCE_PARAM
                             ? bc->params[res->param].ptr
                             : bc->cookie_name;

    gwelb_env(e, "GWELB_ROUTE_SOURCE", gwelb_source_names[res->source], again);
    gwelb_env(e, "GWELB_ROUTE", served && *served ? served : NULL, again);
    gwelb_env(e, "GWELB_REQUESTED_ROUTE", requested, again);
    gwelb_env(e, "GWELB_ROUTE_CHANGED", moved ? "1" : NULL, again);
    gwelb_env(e, "BALANCER_ROUTE_CHANGED", picked ? "1" : NULL, again);
    gwelb_env(e, "BALANCER_SESSION_STICKY", sticky, again);
    gwelb_env(e, "BALANCER_SESSION_ROUTE", requested, again);
    gwelb_env(r->notes, "session-sticky", sticky, again);
    gwelb_env(r->notes, "session-route", requested, again);
}

static const proxy_balancer_method *gwelb_inner(proxy_balancer *b)
{
    const proxy_balancer_method *m = b->lbmethod;

    if (m && m->finder == gwelb_find_member)
        return ((const gwelb_lbmethod *)m)->inner;
    /* balancer-manager swapped the method under us: ask the registry */
    return ap_lookup_provider(PROXY_LBMETHOD, b->s->lbpname, "0");
}

/*
 * The wrapped lbmethod's finder; mod_proxy_balancer calls it with the
 * balancer's thread lock held.  Returning NULL makes the balancer answer
 * 503, which is what GWELBStickyForce On asks for.
 */
static proxy_worker *gwelb_find_member(proxy_balancer *b, request_rec *r)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);
    const gwelb_balancer_conf *bc =
        rq && rq->balancer == b ? rq->conf : gwelb_balancer_conf_of(b);
    const proxy_balancer_method *inner = gwelb_inner(b);
    gwe_sticky_result res;
    const char *requested, *served = NULL;
    proxy_worker *chosen = NULL;

    if (!inner || inner->finder == gwelb_find_member)
        return NULL;
    if (!bc)
        return inner->finder(b, r);
    rq = gwelb_request_of(r, b, bc);
    requested = gwelb_requested_route(r, bc, b, rq, &res);
    if (requested && (chosen = gwelb_route_member(b, requested, r, 0)))
        gwelb_account_pick(b, inner, chosen, r);
    else if (!requested || bc->sticky_force != 1)
        chosen = inner->finder(b, r);

    if (chosen)
        served = apr_pstrdup(r->pool, chosen->s->route);
    rq->served = chosen;
    rq->served_route = served;
    gwelb_set_env(r, bc, &res, requested, served, rq->attempts++ > 0);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  GWELB_LOGNO(00101) "%s: source=%s requested=%s member=%s "
                                     "route=%s%s",
                  b->s->name, gwelb_source_names[res.source],
                  requested ? requested : "-",
                  chosen ? chosen->s->name_ex : "-", served ? served : "-",
                  !chosen ? " (unusable; GWELBStickyForce On: 503)" : "");
    /* A returning visitor whose cookie names the member needs no filter;
     * a later attempt that changes member comes back here. */
    if (chosen && bc->cookie_name && !rq->filter_added &&
        gwelb_needs_cookie(rq)) {
        ap_add_output_filter_handle(gwelb_cookie_filter_handle, rq, r,
                                    r->connection);
        rq->filter_added = 1;
    }
    if (bc->cookie_name && apr_table_get(r->headers_in, "Upgrade"))
        gwelb_cookie_before_upgrade(r, rq);
    return chosen;
}

/* ======================================================================== */
/* The route cookie                                                         */
/* ======================================================================== */

static int gwelb_needs_cookie(const gwelb_request *rq)
{
    const gwelb_balancer_conf *bc = rq->conf;

    if (!rq->served || !rq->served_route || !*rq->served_route)
        return 0;
    if (rq->source == GWE_SOURCE_PARAM && bc->cookie_from_param == 0)
        return 0;
    return !rq->cookie_route || strcmp(rq->cookie_route, rq->served_route);
}

/* "NAME=.route; attributes" for the member that served. */
static const char *gwelb_cookie_value(request_rec *r, const gwelb_request *rq)
{
    const gwelb_balancer_conf *bc = rq->conf;
    int tls = ap_ssl_conn_is_ssl(r->connection);
    size_t nlen = strlen(bc->cookie_name), rlen = strlen(rq->served_route);
    char buf[512], *v;
    size_t len = gwe_set_cookie_build(buf, sizeof(buf), bc->cookie_name, nlen,
                                      gwelb_separator(bc), rq->served_route,
                                      rlen, &bc->cookie, tls);

    if (len < sizeof(buf)) /* built in one pass: the usual case */
        return apr_pstrmemdup(r->pool, buf, len);
    v = apr_palloc(r->pool, len + 1);
    gwe_set_cookie_build(v, len + 1, bc->cookie_name, nlen,
                         gwelb_separator(bc), rq->served_route, rlen,
                         &bc->cookie, tls);
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

/*
 * A WebSocket upgrade's 101 response never passes the output filters:
 * mod_proxy_http sends it with ap_send_interim_response(), straight from
 * r->headers_out.  mod_proxy_http keeps Set-Cookie lines already in
 * r->headers_out when it reads the member's headers, so for upgrades the
 * cookie goes there before the member is contacted; an error page httpd
 * makes itself swaps r->headers_out away, so no cookie without a member.
 * A retry replaces the cookie of the attempt before.
 */
static void gwelb_cookie_before_upgrade(request_rec *r, gwelb_request *rq)
{
    if (rq->early_cookie) {
        gwelb_cookie_sieve sv = {apr_table_make(r->pool, 2), rq->early_cookie};
        apr_table_do(gwelb_keep_other, &sv, r->headers_out, "Set-Cookie",
                     NULL);
        apr_table_unset(r->headers_out, "Set-Cookie");
        apr_table_overlap(r->headers_out, sv.keep, APR_OVERLAP_TABLES_ADD);
        rq->early_cookie = NULL;
    }
    if (gwelb_needs_cookie(rq)) {
        rq->early_cookie = gwelb_cookie_value(r, rq);
        apr_table_addn(r->headers_out, "Set-Cookie", rq->early_cookie);
    }
}

/*
 * Sees the first bytes of the member's response, after mod_proxy copied
 * its headers: the member served, so the response gets the cookie naming
 * it.  Error pages httpd makes itself (no member served) do not pass here.
 */
static apr_status_t gwelb_cookie_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    gwelb_request *rq = f->ctx;

    if (!rq->early_cookie && gwelb_needs_cookie(rq))
        apr_table_addn(f->r->headers_out, "Set-Cookie",
                       gwelb_cookie_value(f->r, rq));
    ap_remove_output_filter(f);
    return ap_pass_brigade(f->next, bb);
}

/* ======================================================================== */
/* Module                                                                   */
/* ======================================================================== */

static void gwelb_register_hooks(apr_pool_t *p)
{
    /* Before mod_proxy_balancer, which reads the lbmethod we keep wrapped. */
    static const char *const before_balancer[] = {"mod_proxy_balancer.c",
                                                  NULL};
    static const char *const after_proxy[] = {"mod_proxy.c",
                                              "mod_proxy_balancer.c", NULL};

    proxy_hook_pre_request(gwelb_pre_request, NULL, before_balancer,
                           APR_HOOK_FIRST);
    ap_hook_post_config(gwelb_post_config, after_proxy, NULL, APR_HOOK_MIDDLE);
    gwelb_cookie_filter_handle = ap_register_output_filter(
        GWELB_COOKIE_FILTER, gwelb_cookie_filter, NULL, AP_FTYPE_CONTENT_SET);
}

AP_DECLARE_MODULE(gwe_lb) = {
    STANDARD20_MODULE_STUFF,
    create_balancer_conf, /* per <Proxy "balancer://NAME"> section */
    merge_balancer_conf,  /* inner sections win field by field */
    create_server_conf,   /* sections with GWELB directives, for checks */
    merge_server_conf,    /* each server keeps its own sections */
    gwelb_cmds,           /* the five GWELB directives */
    gwelb_register_hooks, /* pre_request, post_config, cookie filter */
    AP_MODULE_FLAG_NONE   /* no special merging */
};
