/*
 * SPDX-License-Identifier: Apache-2.0
 *
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

#define GWELB_ROUTES_ON_STACK 64

/* Built in post_config (before children fork), read-only afterwards. */
static apr_array_header_t *gwelb_wrappers; /* of gwelb_lbmethod * */
static apr_hash_t *gwelb_balancers; /* proxy_balancer * -> its GWELB conf */
static APR_OPTIONAL_FN_TYPE(ap_proxy_retry_worker) * gwelb_retry_worker;

static proxy_worker *gwelb_find_member(proxy_balancer *balancer,
                                       request_rec *r);
static void gwelb_cookie_for_attempt(request_rec *r, gwelb_request *rq);
static apr_status_t gwelb_tunnel_filter_done(ap_filter_t *f,
                                             apr_bucket_brigade *bb);
static apr_status_t gwelb_tunnel_filter_gone(void *f);
static void gwelb_add_tunnel_filter(request_rec *r, gwelb_request *rq);
static ap_filter_rec_t *gwelb_tunnel_filter_handle;

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
        strncasecmp(cmd->path, GWELB_BALANCER_SCHEME,
                    sizeof(GWELB_BALANCER_SCHEME) - 1) ||
        !cmd->path[sizeof(GWELB_BALANCER_SCHEME) - 1])
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
        if (!gwe_param_name_valid(name, strlen(name)))
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
                            "one character of %s",
                            arg, GWE_SEPARATORS);
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

/*
 * Start-up checks run in check_config, which httpd runs for `apache2 -t`
 * as well as for a start or a graceful restart (post_config is skipped by
 * -t), so a configuration configtest accepts never stops a running server
 * (README 7.1).  Every problem is logged; the first one found does not
 * hide the others.
 */
typedef struct gwelb_checks {
    apr_pool_t *pconf, *ptemp;
    server_rec *main_s;
    apr_hash_t *said; /* messages already logged, so an inherited copy of
                         a balancer does not repeat its section's error */
    int failed;
} gwelb_checks;

static void gwelb_startup_error(gwelb_checks *ck, const gwelb_section *sec,
                                int logno, const char *msg)
{
    const char *line = apr_psprintf(
        ck->ptemp, "GWELB%05d: %s (%s, line %u, <Proxy \"%s\">)", logno, msg,
        sec->file ? sec->file : "?", sec->line, sec->balancer);

    ck->failed = 1;
    if (apr_hash_get(ck->said, line, APR_HASH_KEY_STRING))
        return;
    apr_hash_set(ck->said, line, APR_HASH_KEY_STRING, line);
    ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, ck->main_s, "%s",
                 line);
}

/* The section of server_conf sc written for balancer `name`, or NULL. */
static const gwelb_section *gwelb_section_for(const gwelb_server_conf *sc,
                                              const char *name)
{
    int i;

    for (i = 0; i < sc->sections->nelts; i++) {
        const gwelb_section *sec =
            &APR_ARRAY_IDX(sc->sections, i, gwelb_section);
        if (!strcasecmp(sec->balancer, name))
            return sec;
    }
    return NULL;
}

/* The sections written in server s itself, or NULL for a virtual host
 * without GWELB directives (httpd then hands it the main server's
 * configuration, sections and all). */
static const gwelb_server_conf *gwelb_own_sections(const gwelb_checks *ck,
                                                   server_rec *s)
{
    const gwelb_server_conf *sc =
        ap_get_module_config(s->module_config, &gwe_lb_module);

    if (s != ck->main_s &&
        sc == ap_get_module_config(ck->main_s->module_config, &gwe_lb_module))
        return NULL;
    return sc;
}

/* sec is one of the sections written in the server sc belongs to. */
static int gwelb_section_owned(const gwelb_server_conf *sc,
                               const gwelb_section *sec)
{
    return sec >= (const gwelb_section *)sc->sections->elts &&
           sec <
               (const gwelb_section *)sc->sections->elts + sc->sections->nelts;
}

static proxy_server_conf *gwelb_proxy_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &proxy_module);
}

/* What a section alone gets wrong, whatever balancer it ends up on. */
static void gwelb_check_section(gwelb_checks *ck, server_rec *s,
                                const gwelb_server_conf *sc,
                                const gwelb_section *sec)
{
    proxy_balancer *b = ap_proxy_get_balancer(ck->ptemp, gwelb_proxy_conf(s),
                                              sec->balancer, 0);

    if (!gwelb_is_active(sec->conf))
        gwelb_startup_error(
            ck, sec, 1,
            apr_psprintf(ck->ptemp,
                         "%s has no effect without GWELBStickyParam or "
                         "GWELBRouteCookie in the same section",
                         sec->directive));
    if (!b || !b->workers->nelts)
        gwelb_startup_error(ck, sec, 3,
                            apr_psprintf(ck->ptemp,
                                         "%s: %s has no "
                                         "BalancerMember",
                                         sec->directive, sec->balancer));
    if (gwelb_section_for(sc, sec->balancer) != sec)
        gwelb_startup_error(
            ck, sec, 5,
            apr_psprintf(ck->ptemp,
                         "%s: the GWELB directives of %s are spread over "
                         "two <Proxy> sections; put them in one",
                         sec->directive, sec->balancer));
}

/*
 * mod_proxy_balancer's own stickiness parameters on a GWELB balancer
 * (README 7.3): nofailover=On keeps its meaning (GWELBStickyForce On); the
 * others would read the route a second way, so they are refused with the
 * GWELB directive that does their job.
 */
static void gwelb_check_stock_params(gwelb_checks *ck, const proxy_balancer *b,
                                     const gwelb_balancer_conf *bc,
                                     const gwelb_section *sec)
{
    if (*b->s->sticky || *b->s->sticky_path)
        gwelb_startup_error(
            ck, sec, 4,
            "stickysession= cannot be combined with GWELB directives on the "
            "same balancer: remove it and use GWELBStickyParam (URL "
            "parameter) or GWELBRouteCookie (cookie)");
    if (b->s->sticky_separator_set)
        gwelb_startup_error(
            ck, sec, 7,
            "stickysessionsep= cannot be combined with GWELB directives on "
            "the same balancer: use GWELBRouteSeparator");
    if (b->s->scolonsep)
        gwelb_startup_error(
            ck, sec, 8,
            "scolonpathdelim= cannot be combined with GWELB directives on "
            "the same balancer: GWELBStickyParam already reads ;NAME= path "
            "parameters");
    if (b->s->sticky_force && bc->sticky_force == 0)
        gwelb_startup_error(ck, sec, 9,
                            "nofailover=On contradicts GWELBStickyForce Off "
                            "on the same balancer: keep one of them");
}

/* Every route of a is a route of b. */
static int gwelb_routes_within(const proxy_balancer *a,
                               const proxy_balancer *b)
{
    proxy_worker **wa = (proxy_worker **)a->workers->elts;
    proxy_worker **wb = (proxy_worker **)b->workers->elts;
    int i, j;

    for (i = 0; i < a->workers->nelts; i++) {
        for (j = 0; j < b->workers->nelts; j++)
            if (!strcmp(wa[i]->s->route, wb[j]->s->route))
                break;
        if (j == b->workers->nelts)
            return 0;
    }
    return 1;
}

/*
 * Two balancers whose route cookies a browser would store as one, and
 * which would write different routes into it (README 7.8).  Balancers
 * with the same routes may share a cookie: that is how a WebSocket
 * balancer follows the HTTP balancer of the same members.
 */
static int gwelb_cookies_clash(const proxy_balancer *ba,
                               const gwelb_balancer_conf *a,
                               const proxy_balancer *bb,
                               const gwelb_balancer_conf *b)
{
    static const gwe_slice root = {"/", 1};
    const gwe_slice *pa = a->cookie.path.len ? &a->cookie.path : &root;
    const gwe_slice *pb = b->cookie.path.len ? &b->cookie.path : &root;

    return !strcmp(a->cookie_name, b->cookie_name) && pa->len == pb->len &&
           !memcmp(pa->ptr, pb->ptr, pa->len) &&
           a->cookie.domain.len == b->cookie.domain.len &&
           !strncasecmp(a->cookie.domain.ptr ? a->cookie.domain.ptr : "",
                        b->cookie.domain.ptr ? b->cookie.domain.ptr : "",
                        a->cookie.domain.len) &&
           !(gwelb_routes_within(ba, bb) && gwelb_routes_within(bb, ba));
}

/*
 * The GWELB configuration of balancer b of server s (README 7.2), and the
 * section to name in messages.  A virtual host's copy of a main-server
 * balancer (BalancerInherit On: mod_proxy shares its members array) takes
 * the main server's configuration, changed field by field by the virtual
 * host's own section; a balancer the virtual host defines itself takes
 * only its own section, and is stock without one.
 */
static gwelb_balancer_conf *gwelb_conf_for(gwelb_checks *ck, server_rec *s,
                                           const proxy_balancer *b,
                                           const gwelb_section **where)
{
    const gwelb_server_conf *msc = gwelb_own_sections(ck, ck->main_s);
    const gwelb_server_conf *vsc = gwelb_own_sections(ck, s);
    const gwelb_section *msec = gwelb_section_for(msc, b->s->name);
    const gwelb_section *vsec =
        s == ck->main_s || !vsc ? NULL : gwelb_section_for(vsc, b->s->name);
    proxy_balancer *mb = NULL;

    if (msec && s != ck->main_s)
        mb = ap_proxy_get_balancer(ck->ptemp, gwelb_proxy_conf(ck->main_s),
                                   b->s->name, 0);
    if (s != ck->main_s && !(mb && mb->workers == b->workers))
        msec = NULL; /* not the main server's balancer */
    *where = vsec ? vsec : msec;
    if (vsec && msec)
        return merge_balancer_conf(ck->pconf, msec->conf, vsec->conf);
    return *where ? (*where)->conf : NULL;
}

/* Binds every balancer of server s that has a GWELB configuration. */
static void gwelb_bind_server(gwelb_checks *ck, server_rec *s)
{
    proxy_server_conf *pc = gwelb_proxy_conf(s);
    const gwelb_server_conf *sc = gwelb_own_sections(ck, s);
    proxy_balancer *b = (proxy_balancer *)pc->balancers->elts;
    /* the cookie balancers configured in this server's own sections */
    apr_array_header_t *cookies = apr_array_make(ck->ptemp, 4, sizeof(void *));
    int i, j;

    for (i = 0; sc && i < sc->sections->nelts; i++)
        gwelb_check_section(ck, s, sc,
                            &APR_ARRAY_IDX(sc->sections, i, gwelb_section));
    for (i = 0; i < pc->balancers->nelts; i++, b++) {
        const gwelb_section *sec;
        gwelb_balancer_conf *bc = gwelb_conf_for(ck, s, b, &sec);
        proxy_balancer **key;

        if (!bc || !gwelb_is_active(bc))
            continue;
        gwelb_check_stock_params(ck, b, bc, sec);
        if (!bc->cookie_name || !sc || !gwelb_section_owned(sc, sec))
            goto bind;
        for (j = 0; j < cookies->nelts; j += 2)
            if (gwelb_cookies_clash(
                    APR_ARRAY_IDX(cookies, j, proxy_balancer *),
                    APR_ARRAY_IDX(cookies, j + 1, gwelb_balancer_conf *), b,
                    bc))
                gwelb_startup_error(
                    ck, sec, 10,
                    apr_psprintf(ck->ptemp,
                                 "GWELBRouteCookie %s: another balancer of "
                                 "this virtual host uses a route cookie of "
                                 "the same name, path and domain; browsers "
                                 "would keep only one: give each balancer "
                                 "its own name or path",
                                 bc->cookie_name));
        APR_ARRAY_PUSH(cookies, proxy_balancer *) = b;
        APR_ARRAY_PUSH(cookies, gwelb_balancer_conf *) = bc;
    bind:
        key = apr_palloc(ck->pconf, sizeof(*key));
        *key = b;
        apr_hash_set(gwelb_balancers, key, sizeof(*key), bc);
    }
}

static int gwelb_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *main_s)
{
    gwelb_checks ck = {pconf, ptemp, main_s, apr_hash_make(ptemp), 0};
    server_rec *s;

    gwelb_balancers = apr_hash_make(pconf);
    for (s = main_s; s; s = s->next) {
        const gwelb_server_conf *sc =
            ap_get_module_config(s->module_config, &gwe_lb_module);
        if (sc->sections->nelts &&
            !ap_find_linked_module("mod_proxy_balancer.c")) {
            gwelb_startup_error(
                &ck, &APR_ARRAY_IDX(sc->sections, 0, gwelb_section), 6,
                "mod_gwe_lb needs mod_proxy_balancer: load it (LoadModule "
                "proxy_balancer_module) before mod_gwe_lb");
            continue;
        }
        gwelb_bind_server(&ck, s);
    }
    return ck.failed ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

static int gwelb_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *main_s)
{
    gwelb_build_wrappers(pconf);
    gwelb_retry_worker = APR_RETRIEVE_OPTIONAL_FN(ap_proxy_retry_worker);
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
    apr_status_t rv;

    if (b->lbmethod && b->lbmethod->finder == gwelb_find_member &&
        b->s->wupdated <= b->wupdated)
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

/* The request's state, made on its first pass through a GWELB balancer;
 * it also saves the finder a second configuration lookup.  A request that
 * comes back through another balancer starts afresh. */
static gwelb_request *gwelb_request_of(request_rec *r, proxy_balancer *b,
                                       const gwelb_balancer_conf *bc)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);

    if (!rq) {
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        ap_set_module_config(r->request_config, &gwe_lb_module, rq);
    } else if (rq->balancer != b)
        memset(rq, 0, sizeof(*rq));
    rq->balancer = b;
    rq->conf = bc;
    return rq;
}

typedef struct {
    gwe_slice *v;
    int n, cap;
    apr_pool_t *pool; /* for requests with more lines than the stack has */
} gwelb_cookie_lines;

/* Every Cookie line, in order (README 4.2). */
static int gwelb_collect_cookie(void *ctx, const char *key, const char *val)
{
    gwelb_cookie_lines *cl = ctx;

    if (cl->n == cl->cap) {
        gwe_slice *v = apr_palloc(cl->pool, 2 * cl->cap * sizeof(*v));
        memcpy(v, cl->v, cl->n * sizeof(*v));
        cl->v = v;
        cl->cap *= 2;
    }
    cl->v[cl->n].ptr = val;
    cl->v[cl->n].len = strlen(val);
    cl->n++;
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

/* Runs sticky/ over the request once (README 4.1-4.3); the retry loop and
 * the finder reuse what it found. */
static void gwelb_extract(request_rec *r, const gwelb_balancer_conf *bc,
                          proxy_balancer *b, gwelb_request *rq)
{
    gwe_slice on_stack[GWELB_ROUTES_ON_STACK], lines[8];
    gwe_slice *routes = on_stack;
    gwelb_cookie_lines cl = {lines, 0, 8, r->pool};
    proxy_worker **workers = (proxy_worker **)b->workers->elts;
    gwe_sticky_result *res = &rq->res;
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

    rq->extracted = 1;
    rq->cookie_route =
        res->cookie_route < 0
            ? NULL
            : apr_pstrmemdup(r->pool, routes[res->cookie_route].ptr,
                             routes[res->cookie_route].len);
    /* a returning visitor's cookie names the route it requests */
    rq->requested = res->route < 0 ? NULL
                    : res->route == res->cookie_route
                        ? rq->cookie_route
                        : apr_pstrmemdup(r->pool, routes[res->route].ptr,
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

/* Sets or removes key.  The first write of a main request adds without
 * looking (nothing set these keys before us); a retry replaces what the
 * attempt before left, and a subrequest, which starts with a copy of its
 * parent's environment, replaces the copies. */
static void gwelb_env(apr_table_t *t, const char *key, const char *val,
                      int fresh)
{
    if (fresh) {
        if (val)
            apr_table_addn(t, key, val);
    } else if (val)
        apr_table_setn(t, key, val);
    else
        apr_table_unset(t, key);
}

/*
 * Environment for LogFormat, mod_headers and mod_rewrite (README 4.6), plus
 * the BALANCER_* session variables stock sticky balancers set.
 * GWELB_ROUTE_CHANGED: a route was asked for and another member served.
 * BALANCER_ROUTE_CHANGED keeps its stock meaning, "the lbmethod picked the
 * member", so a stock Set-Cookie recipe still fires during a migration.
 */
static void gwelb_set_env(request_rec *r, gwelb_request *rq,
                          const char *served)
{
    int fresh = !rq->env_written && !r->main;
    const gwelb_balancer_conf *bc = rq->conf;
    const char *requested = rq->requested;
    apr_table_t *e = r->subprocess_env;
    int moved = requested && served && strcmp(requested, served);
    int picked = served && (!requested || moved);
    const char *sticky = !requested ? NULL
                         : rq->res.source == GWE_SOURCE_PARAM
                             ? bc->params[rq->res.param].ptr
                             : bc->cookie_name;

    gwelb_env(e, "GWELB_ROUTE_SOURCE", gwelb_source_names[rq->res.source],
              fresh);
    gwelb_env(e, "GWELB_ROUTE", served && *served ? served : NULL, fresh);
    gwelb_env(e, "GWELB_REQUESTED_ROUTE", requested, fresh);
    gwelb_env(e, "GWELB_ROUTE_CHANGED", moved ? "1" : NULL, fresh);
    gwelb_env(e, "BALANCER_ROUTE_CHANGED", picked ? "1" : NULL, fresh);
    gwelb_env(e, "BALANCER_SESSION_STICKY", sticky, fresh);
    gwelb_env(e, "BALANCER_SESSION_ROUTE", requested, fresh);
    gwelb_env(r->notes, "session-sticky", sticky, fresh);
    gwelb_env(r->notes, "session-route", requested, fresh);
    rq->env_written = 1;
}

static void gwelb_log_decision(request_rec *r, const gwelb_request *rq,
                               const proxy_worker *chosen, const char *why)
{
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r,
                  GWELB_LOGNO(00101) "%s: source=%s requested=%s member=%s "
                                     "route=%s%s",
                  rq->balancer->s->name, gwelb_source_names[rq->res.source],
                  rq->requested ? rq->requested : "-",
                  chosen ? chosen->s->name_ex : "-",
                  rq->served_route ? rq->served_route : "-", why);
}

/* GWELBStickyForce On, or the stock spelling nofailover=On (README 7.3);
 * an explicit GWELBStickyForce Off with nofailover=On is refused. */
static int gwelb_force(const gwelb_balancer_conf *bc, const proxy_balancer *b)
{
    return bc->sticky_force == 1 ||
           (bc->sticky_force == GWELB_UNSET && b->s->sticky_force);
}

/* balancer-manager can give a running balancer stock stickiness that the
 * start-up checks refused; say so once per balancer and process. */
static void gwelb_note_stock_sticky(proxy_balancer *b, request_rec *r)
{
    static apr_hash_t *told; /* protected by the balancer's lock */

    if (!*b->s->sticky && !*b->s->sticky_path && !b->s->sticky_separator_set &&
        !b->s->scolonsep)
        return;
    if (PROXY_THREAD_LOCK(b) != APR_SUCCESS)
        return;
    if (!told)
        told = apr_hash_make(r->server->process->pconf);
    if (!apr_hash_get(told, &b, sizeof(b))) {
        proxy_balancer **key =
            apr_palloc(r->server->process->pconf, sizeof(b));
        *key = b;
        apr_hash_set(told, key, sizeof(b), key);
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r,
                      GWELB_LOGNO(00012) "%s: balancer-manager set stock "
                                         "stickiness parameters on a GWELB "
                                         "balancer; mod_gwe_lb keeps routing "
                                         "by its own directives",
                      b->s->name);
    }
    PROXY_THREAD_UNLOCK(b);
}

static int gwelb_pre_request(proxy_worker **worker, proxy_balancer **balancer,
                             request_rec *r, proxy_server_conf *conf,
                             char **url)
{
    proxy_balancer *b = *balancer;
    const gwelb_balancer_conf *bc;
    gwelb_request *rq;

    if (!gwelb_balancers || !apr_hash_count(gwelb_balancers))
        return DECLINED; /* no GWELB balancer anywhere: cost nothing */
    if (!b) {
        if (strncasecmp(*url, GWELB_BALANCER_SCHEME,
                        sizeof(GWELB_BALANCER_SCHEME) - 1))
            return DECLINED;
        b = ap_proxy_get_balancer(r->pool, conf, *url, 1);
    }
    /* mod_proxy_balancer reuses a balancer it is handed: no second lookup,
     * for stock balancers too */
    *balancer = b;
    if (!b || !(bc = gwelb_balancer_conf_of(b)))
        return DECLINED;
    rq = gwelb_request_of(r, b, bc);
    gwelb_ensure_wrapped(b, r, conf);
    gwelb_note_stock_sticky(b, r);
    if (!rq->extracted)
        gwelb_extract(r, bc, b, rq);
    /* A refusal is answered here, before mod_proxy_balancer would wait
     * out the balancer's timeout= for a member that cannot come
     * (README 7.5). */
    if (rq->requested && gwelb_force(bc, b) &&
        !gwelb_route_member(b, rq->requested, r, 0)) {
        rq->served = NULL;
        rq->served_route = NULL;
        gwelb_set_env(r, rq, NULL);
        gwelb_log_decision(r, rq, NULL, " (unusable; GWELBStickyForce: 503)");
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return DECLINED;
}

/* Our finder runs only as b->lbmethod->finder, so b->lbmethod is one of
 * our wrappers whenever this is asked. */
static const proxy_balancer_method *gwelb_inner(proxy_balancer *b)
{
    const proxy_balancer_method *m = b->lbmethod;

    return m && m->finder == gwelb_find_member
               ? ((const gwelb_lbmethod *)m)->inner
               : m;
}

/*
 * The wrapped lbmethod's finder; mod_proxy_balancer calls it with the
 * balancer's thread lock held, after our pre_request read the route.
 * Returning NULL makes the balancer answer 503, which is what
 * GWELBStickyForce On asks for when the member failed in between.
 */
static proxy_worker *gwelb_find_member(proxy_balancer *b, request_rec *r)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);
    const proxy_balancer_method *inner = gwelb_inner(b);
    const gwelb_balancer_conf *bc;
    proxy_worker *chosen = NULL;
    int by_route = 0;

    if (!inner || inner->finder == gwelb_find_member)
        return NULL;
    if (!rq || rq->balancer != b) {
        if (!(bc = gwelb_balancer_conf_of(b)))
            return inner->finder(b, r);
        rq = gwelb_request_of(r, b, bc);
    }
    bc = rq->conf;
    if (!rq->extracted)
        gwelb_extract(r, bc, b, rq);
    if (rq->requested &&
        (chosen = gwelb_route_member(b, rq->requested, r, 0))) {
        gwelb_account_pick(b, inner, chosen, r);
        by_route = !strcmp(chosen->s->route, rq->requested);
    } else if (!rq->requested || !gwelb_force(bc, b))
        chosen = inner->finder(b, r);

    rq->served = chosen;
    /* the member found by route has exactly the requested route */
    rq->served_route = !chosen    ? NULL
                       : by_route ? rq->requested
                                  : apr_pstrdup(r->pool, chosen->s->route);
    rq->attempts++;
    gwelb_set_env(r, rq, rq->served_route);
    gwelb_log_decision(r, rq, chosen,
                       chosen ? "" : " (unusable; GWELBStickyForce: 503)");
    if (bc->cookie_name)
        gwelb_cookie_for_attempt(r, rq);
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
    if (rq->res.source == GWE_SOURCE_PARAM && bc->cookie_from_param == 0)
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

/* Removes the one Set-Cookie line `cookie` from t, keeping the others in
 * their order. */
static void gwelb_drop_cookie(request_rec *r, apr_table_t *t,
                              const char *cookie)
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
static apr_status_t gwelb_tunnel_filter(ap_filter_t *f, apr_bucket_brigade *bb)
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
static void gwelb_cookie_for_attempt(request_rec *r, gwelb_request *rq)
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

/*
 * After the last attempt (ordered before mod_proxy_balancer's, which
 * answers this RUN_FIRST hook).  When the member answered but
 * ProxyErrorOverride replaces its error page, the page httpd sends keeps
 * only r->err_headers_out: the cookie moves there.  When no member
 * answered, nothing sent and an error status set by mod_proxy, the
 * variables must not name a member (README 7.6).
 */
static int gwelb_post_request(proxy_worker *worker, proxy_balancer *balancer,
                              request_rec *r, proxy_server_conf *conf)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);
    int overridden;

    if (!rq || !rq->served || r->sent_bodyct)
        return DECLINED; /* the member's response went out as it was */
    overridden = apr_table_get(r->notes, "proxy-error-override") != NULL;
    if (overridden && rq->cookie) {
        gwelb_drop_cookie(r, r->headers_out, rq->cookie);
        apr_table_addn(r->err_headers_out, "Set-Cookie", rq->cookie);
    } else if (!overridden && !r->sent_bodyct && ap_is_HTTP_ERROR(r->status) &&
               r->status != HTTP_NOT_MODIFIED) {
        rq->served = NULL;
        rq->served_route = NULL;
        rq->cookie = NULL;
        gwelb_set_env(r, rq, NULL);
    }
    return DECLINED;
}

/* ======================================================================== */
/* Module                                                                   */
/* ======================================================================== */

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
    ap_hook_check_config(gwelb_check_config, after_proxy, NULL,
                         APR_HOOK_MIDDLE);
    ap_hook_post_config(gwelb_post_config, after_proxy, NULL, APR_HOOK_MIDDLE);
    /* Below mod_ssl (AP_FTYPE_CONNECTION + 5): it sees plain bytes. */
    gwelb_tunnel_filter_handle = ap_register_output_filter(
        "GWELB_TUNNEL_COOKIE", gwelb_tunnel_filter, NULL, AP_FTYPE_CONNECTION);
}

AP_DECLARE_MODULE(gwe_lb) = {
    STANDARD20_MODULE_STUFF,
    create_balancer_conf, /* per <Proxy "balancer://NAME"> section */
    merge_balancer_conf,  /* inner sections win field by field */
    create_server_conf,   /* sections with GWELB directives, for checks */
    merge_server_conf,    /* each server keeps its own sections */
    gwelb_cmds,           /* the five GWELB directives */
    gwelb_register_hooks, /* pre/post_request, check/post_config */
    AP_MODULE_FLAG_NONE   /* no special merging */
};
