/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb_check.c - start-up checks: every GWELB section bound to the
 * balancers it configures, every configuration it cannot serve refused
 * (README 7.1).
 */
#include "mod_gwe_lb.h"

#include "apr_hash.h"
#include "apr_strings.h"
#include "http_config.h"
#include "http_log.h"

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

APLOG_USE_MODULE(gwe_lb); /* log lines carry the module name */

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

/* The hardened cookie's keys and the attributes that need or exclude
 * them (README 4.8). */
static void gwelb_check_keys(gwelb_checks *ck, gwelb_balancer_conf *bc,
                             const gwelb_section *sec, const proxy_balancer *b)
{
    const char *err;
    char msg[256];

    if (bc->nkeys && !bc->cookie_name) {
        gwelb_startup_error(ck, sec, 20,
                            "GWELBCookieKey signs the route cookie: it needs "
                            "GWELBRouteCookie in the same section");
        return;
    }
    if (bc->cookie_name &&
        gwe_cookie_attrs_check_keys(&bc->cookie, (size_t)bc->nkeys, msg,
                                    sizeof msg)) {
        gwelb_startup_error(ck, sec, 21, apr_pstrdup(ck->ptemp, msg));
        return;
    }
    if (bc->nkeys && !bc->keys &&
        (err = gwelb_keys_load(ck->pconf, ck->ptemp, bc, b)))
        gwelb_startup_error(ck, sec, 22, err);
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
        return gwelb_merge_balancer_conf(ck->pconf, msec->conf, vsec->conf);
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
        gwelb_check_keys(ck, bc, sec, b);
        gwelb_cookie_prepare(ck->pconf, bc);
        key = apr_palloc(ck->pconf, sizeof(*key));
        *key = b;
        apr_hash_set(gwelb_balancers, key, sizeof(*key), bc);
    }
}

int gwelb_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp,
                       server_rec *main_s)
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
