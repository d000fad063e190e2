/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb_request.c - the request path: read the route once, pick its
 * member, set the variables (README 4, 7.5, 7.6).
 */
#include "mod_gwe_lb.h"

#include "apr_strings.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"

APLOG_USE_MODULE(gwe_lb); /* log lines carry the module name */

#define GWELB_ROUTES_ON_STACK 64

/* The request's state, made on its first pass through a GWELB balancer;
 * it also saves the finder a second configuration lookup.  A request that
 * comes back through another balancer starts afresh. */
static gwelb_request *gwelb_request_of(request_rec *r, proxy_balancer *b,
                                       const gwelb_balancer_conf *bc,
                                       gwelb_route_keys *keys)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);

    if (!rq) {
        rq = apr_palloc(r->pool, sizeof(*rq));
        memset(rq, 0, GWELB_REQUEST_ZEROED);
        ap_set_module_config(r->request_config, &gwe_lb_module, rq);
    } else if (rq->balancer != b)
        memset(rq, 0, GWELB_REQUEST_ZEROED);
    rq->balancer = b;
    rq->conf = bc;
    rq->route_keys = keys;
    return rq;
}

/*
 * Every Cookie line, in order (README 4.2): one pass over the request's
 * headers, where apr_table_do costs a callback per line.  lines holds
 * `cap` slices; a request with more lines gets a pool array.
 */
size_t gwelb_cookie_lines(request_rec *r, gwe_slice **lines, size_t cap)
{
    const apr_array_header_t *h = apr_table_elts(r->headers_in);
    const apr_table_entry_t *e = (const apr_table_entry_t *)h->elts;
    gwe_slice *v = *lines;
    size_t n = 0;
    int i;

    for (i = 0; i < h->nelts; i++) {
        const char *k = e[i].key;

        /* the first byte rules out nearly every other header */
        if (!k || (k[0] != 'C' && k[0] != 'c') || strcasecmp(k, "Cookie") ||
            !e[i].val)
            continue;
        if (n == cap) {
            gwe_slice *more = apr_palloc(r->pool, 2 * cap * sizeof(*more));
            memcpy(more, v, n * sizeof(*v));
            v = more;
            cap *= 2;
        }
        v[n].ptr = e[i].val;
        v[n].len = strlen(e[i].val);
        n++;
    }
    *lines = v;
    return n;
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
    const char *f = r->filename;

    /* byte by byte: a shorter filename ends the test at its NUL */
    if (f && f[0] == 'p' && f[1] == 'r' && f[2] == 'o' && f[3] == 'x' &&
        f[4] == 'y' && f[5] == ':' && strchr(f + 6, '?'))
        return f + 6;
    return r->unparsed_uri ? r->unparsed_uri : "";
}

/*
 * The connection's memo of the last route cookie whose MAC verified
 * (README 4.8): a browser sends the same value on every request of a
 * keep-alive or HTTP/2 connection, so only the first pays for the MAC.  A
 * conn_rec serves one request at a time (an HTTP/2 stream has its own), so
 * no lock; it lives and dies with the connection, inside one generation's
 * keys.
 */
static gwe_verified *gwelb_conn_memo(conn_rec *c)
{
    gwe_verified *m = ap_get_module_config(c->conn_config, &gwe_lb_module);

    if (!m) {
        m = apr_pcalloc(c->pool, sizeof(*m));
        ap_set_module_config(c->conn_config, &gwe_lb_module, m);
    }
    return m;
}

/* A member's route into one of the request's buffers, which hold
 * PROXY_WORKER_MAX_ROUTE_SIZE + 1 bytes (a route is at most the size of
 * its shared-memory field). */
static const char *gwelb_route_copy(char *buf, const gwe_slice *route)
{
    memcpy(buf, route->ptr, route->len);
    buf[route->len] = '\0';
    return buf;
}

/* Runs sticky/ over the request once (README 4.1-4.3); the retry loop and
 * the finder reuse what it found. */
static void gwelb_extract(request_rec *r, const gwelb_balancer_conf *bc,
                          proxy_balancer *b, gwelb_request *rq)
{
    gwe_slice on_stack[GWELB_ROUTES_ON_STACK], lines[8];
    gwe_slice *routes = on_stack, *cookies = lines;
    size_t ncookies = 0;
    proxy_worker **workers = (proxy_worker **)b->workers->elts;
    gwe_sticky_result *res = &rq->res;
    gwe_sticky_conf sc;
    gwe_verify_conf vc;
    /* only a parameter balancer reads the URL */
    const char *url = bc->nparams > 0 ? gwelb_request_url(r) : "";
    int i, n = b->workers->nelts;

    size_t url_len = bc->nparams > 0 ? strlen(url) : 0;

    if (bc->cookie_name)
        ncookies = gwelb_cookie_lines(r, &cookies, 8);
    /* Nothing to look in (a new visitor, most often): no route, and no
     * need to gather the members' routes. */
    if (!ncookies && (bc->nparams <= 0 || !gwe_url_has_params(url, url_len))) {
        memset(res, 0, sizeof(*res)); /* GWE_SOURCE_NONE, GWE_COOKIE_ABSENT */
        res->route = res->param = res->cookie_route = -1;
        res->unknown = 0;
        rq->extracted = 1;
        rq->cookie_route = rq->requested = NULL;
        return;
    }
    if (n > GWELB_ROUTES_ON_STACK)
        routes = apr_palloc(r->pool, n * sizeof(*routes));
    for (i = 0; i < n; i++) {
        routes[i].ptr = workers[i]->s->route;
        routes[i].len =
            strnlen(workers[i]->s->route, sizeof(workers[i]->s->route));
    }
    sc.params = bc->params;
    sc.nparams = bc->nparams > 0 ? (size_t)bc->nparams : 0;
    sc.cookie.ptr = bc->cookie_name;
    sc.cookie.len = bc->cookie_name ? bc->cookie_name_len : 0;
    sc.separator = gwelb_separator(bc);
    sc.verify = NULL;
    sc.now = 0;
    sc.legacy_accept = 0;
    if (bc->keys && ncookies) { /* README 4.8: the cookie is judged signed */
        memset(&vc, 0, sizeof(vc));
        vc.mac = gwelb_mac;
        vc.mac_ctx = bc->keys;
        vc.key_ids = bc->keys->ids;
        vc.nkeys = (size_t)bc->keys->n;
        vc.cookie_name = sc.cookie;
        vc.balancer.ptr = b->s->name;
        vc.balancer.len = strlen(b->s->name);
        vc.maxidle = bc->cookie.maxidle;
        vc.maxlife = bc->cookie.maxlife;
        vc.opaque_id = gwelb_opaque_id;
        vc.opaque_ctx = bc->keys;
        vc.memo = gwelb_conn_memo(r->connection);
        sc.verify = &vc;
        sc.now = (long)apr_time_sec(r->request_time);
        sc.legacy_accept = bc->cookie.legacy == GWE_ON;
    }
    gwe_sticky_extract(&sc, url, url_len, cookies, ncookies, routes, (size_t)n,
                       res);

    rq->extracted = 1;
    /* a refused signed cookie, on server-status (README 7.13) */
    if (sc.verify && res->cookie_status != GWE_COOKIE_VALID &&
        res->cookie_status != GWE_COOKIE_ABSENT)
        gwelb_status_bump_balancer(
            rq, res->cookie_status == GWE_COOKIE_FORGED    ? GWELB_BC_FORGED
                : res->cookie_status == GWE_COOKIE_EXPIRED ? GWELB_BC_EXPIRED
                                                           : GWELB_BC_LEGACY);
    rq->cookie_route =
        res->cookie_route < 0
            ? NULL
            : gwelb_route_copy(rq->cookie_copy, &routes[res->cookie_route]);
    /* a returning visitor's cookie names the route it requests */
    rq->requested =
        res->route < 0 ? NULL
        : res->route == res->cookie_route
            ? rq->cookie_route
            : gwelb_route_copy(rq->requested_copy, &routes[res->route]);
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
 * its redirect= route (then *redirected is set, when given); `depth` stops
 * redirect cycles.
 */
static proxy_worker *gwelb_route_member(proxy_balancer *b, const char *route,
                                        request_rec *r, int depth,
                                        int *redirected)
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
                    gwelb_route_member(b, w->s->redirect, r, depth + 1, NULL);
                if (rw) {
                    if (redirected)
                        *redirected = 1;
                    return rw;
                }
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
void gwelb_set_env(request_rec *r, gwelb_request *rq, const char *served)
{
    int fresh = !rq->env_written && !r->main;
    const gwelb_balancer_conf *bc = rq->conf;
    const char *requested = rq->requested;
    apr_table_t *e = r->subprocess_env;
    int moved = requested && served && requested != served &&
                strcmp(requested, served);
    int picked = served && (!requested || moved);
    const char *scheme = rq->served ? rq->served->s->scheme : "";
    int ajp = scheme[0] == 'a' && scheme[1] == 'j' && scheme[2] == 'p';
    const char *sticky = !requested ? NULL
                         : rq->res.source == GWE_SOURCE_PARAM
                             ? bc->params[rq->res.param].ptr
                             : bc->cookie_name;

    gwelb_env(e, "GWELB_ROUTE_SOURCE", gwelb_source_names[rq->res.source],
              fresh);
    gwelb_env(e, "GWELB_ROUTE", served && *served ? served : NULL, fresh);
    gwelb_env(e, "GWELB_REQUESTED_ROUTE", requested, fresh);
    gwelb_env(e, "GWELB_ROUTE_CHANGED", moved ? "1" : NULL, fresh);
    gwelb_env(e, "GWELB_FALLBACK",
              served && rq->picked == GWELB_PICK_FALLBACK ? "client-ip" : NULL,
              fresh);
    gwelb_env(e, "BALANCER_ROUTE_CHANGED", picked ? "1" : NULL, fresh);
    if (bc->cookie_name)
        gwelb_env(e, "GWELB_COOKIE_STATUS",
                  gwe_cookie_status_name(rq->res.cookie_status), fresh);
    gwelb_env(e, "BALANCER_SESSION_STICKY", sticky, fresh);
    gwelb_env(e, "BALANCER_SESSION_ROUTE", requested, fresh);
    /* The notes' one reader is mod_proxy_ajp, which passes the route to
     * an AJP member (its jvmRoute); other members are spared the writes. */
    if (ajp || !fresh) {
        gwelb_env(r->notes, "session-sticky", ajp ? sticky : NULL, fresh);
        gwelb_env(r->notes, "session-route", ajp ? requested : NULL, fresh);
    }
    rq->env_written = 1;
    rq->env_due = 0;
}

/*
 * The first scheme handler of every attempt, which always declines: the
 * variables of the member the finder chose are set here, before the
 * member is contacted and after mod_proxy_balancer set BALANCER_NAME,
 * BALANCER_WORKER_NAME and BALANCER_WORKER_ROUTE.  apr_table_setn compares
 * every key with the same first four bytes as the one it sets, so
 * BALANCER_SESSION_* and BALANCER_ROUTE_CHANGED added before those three
 * would cost them a strcasecmp each.
 */
int gwelb_scheme_env(request_rec *r, proxy_worker *worker,
                     proxy_server_conf *conf, char *url, const char *proxyhost,
                     apr_port_t proxyport)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);

    if (rq && rq->env_due)
        gwelb_set_env(r, rq, rq->served_route);
    return DECLINED;
}

static void gwelb_log_decision(request_rec *r, const gwelb_request *rq,
                               const proxy_worker *chosen, const char *why)
{
    if (!APLOGrdebug(r))
        return; /* spare the arguments, not only the formatting */
    ap_log_rerror(
        APLOG_MARK, APLOG_DEBUG, 0, r,
        GWELB_LOGNO(00101) "%s: source=%s cookie=%s requested=%s "
                           "member=%s route=%s%s",
        rq->balancer->s->name, gwelb_source_names[rq->res.source],
        rq->conf->cookie_name ? gwe_cookie_status_name(rq->res.cookie_status)
                              : "-",
        rq->requested ? rq->requested : "-", chosen ? chosen->s->name_ex : "-",
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

int gwelb_pre_request(proxy_worker **worker, proxy_balancer **balancer,
                      request_rec *r, proxy_server_conf *conf, char **url)
{
    proxy_balancer *b = *balancer;
    const gwelb_balancer_conf *bc;
    gwelb_route_keys *keys;
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
    if (!b || !(bc = gwelb_balancer_conf_keys(b, &keys)))
        return DECLINED;
    rq = gwelb_request_of(r, b, bc, keys);
    if (!gwelb_is_wrapped(b))
        gwelb_ensure_wrapped(b, r, conf);
    gwelb_note_stock_sticky(b, r);
    if (!rq->extracted)
        gwelb_extract(r, bc, b, rq);
    /* indirect=on: the member never sees the load balancer's cookie */
    if (bc->cookie.indirect == GWE_ON && !rq->stripped) {
        rq->stripped = 1;
        gwelb_strip_route_cookie(r, bc);
    }
    /* A refusal is answered here, before mod_proxy_balancer would wait
     * out the balancer's timeout= for a member that cannot come
     * (README 7.5). */
    if (rq->requested && gwelb_force(bc, b) &&
        !gwelb_route_member(b, rq->requested, r, 0, NULL)) {
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
proxy_worker *gwelb_find_member(proxy_balancer *b, request_rec *r)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);
    const proxy_balancer_method *inner = gwelb_inner(b);
    const gwelb_balancer_conf *bc;
    gwelb_route_keys *keys;
    proxy_worker *chosen = NULL;
    int by_route = 0, redirected = 0;

    if (!inner || inner->finder == gwelb_find_member)
        return NULL;
    if (!rq || rq->balancer != b) {
        if (!(bc = gwelb_balancer_conf_keys(b, &keys)))
            return inner->finder(b, r);
        rq = gwelb_request_of(r, b, bc, keys);
    }
    bc = rq->conf;
    if (!rq->extracted)
        gwelb_extract(r, bc, b, rq);
    rq->picked = GWELB_PICK_NONE;
    if (rq->requested &&
        (chosen = gwelb_route_member(b, rq->requested, r, 0, &redirected))) {
        gwelb_account_pick(b, inner, chosen, r);
        by_route = !redirected; /* its route is the requested one */
        rq->picked = rq->res.source == GWE_SOURCE_PARAM ? GWELB_PICK_PARAM
                                                        : GWELB_PICK_COOKIE;
    } else if (!rq->requested || !gwelb_force(bc, b)) {
        /* no usable route: the client address, or the lbmethod, picks
         * (README 4.7); a fallback pick counts as the lbmethod's own
         * would (gwelb_fallback_member) */
        if (bc->fallback == GWELB_FALLBACK_CLIENT_IP &&
            (chosen = gwelb_fallback_member(rq, inner, r)))
            rq->picked = GWELB_PICK_FALLBACK;
        else
            rq->picked = (chosen = inner->finder(b, r)) ? GWELB_PICK_LBMETHOD
                                                        : GWELB_PICK_NONE;
    }

    rq->served = chosen;
    /* the member found by route has exactly the requested route; another
     * one's is copied once, so every later reader sees the same bytes
     * whatever balancer-manager does to the shared memory meanwhile */
    if (!chosen)
        rq->served_route = NULL;
    else if (by_route)
        rq->served_route = rq->requested;
    else {
        gwe_slice route = {
            chosen->s->route,
            strnlen(chosen->s->route, sizeof(chosen->s->route))};

        rq->served_route = gwelb_route_copy(rq->served_copy, &route);
    }
    rq->attempts++;
    rq->env_due = 1; /* gwelb_scheme_env, or post_request without one */
    gwelb_log_decision(r, rq, chosen,
                       !chosen ? " (unusable; GWELBStickyForce: 503)"
                       : rq->picked == GWELB_PICK_FALLBACK
                           ? " (picked by GWELBFallback client-ip)"
                           : "");
    if (bc->cookie_name)
        gwelb_cookie_for_attempt(r, rq);
    return chosen;
}

/*
 * After the last attempt (ordered before mod_proxy_balancer's, which
 * answers this RUN_FIRST hook).  When the member answered but
 * ProxyErrorOverride replaces its error page, the page httpd sends keeps
 * only r->err_headers_out: the cookie moves there.  When no member
 * answered, nothing sent and an error status set by mod_proxy, the
 * variables must not name a member (README 7.6).
 */
static void gwelb_settle(request_rec *r, gwelb_request *rq)
{
    int overridden;

    /* no cookie to move, no error to undo: most responses, spared the
     * notes look-up */
    if (!rq->cookie && !ap_is_HTTP_ERROR(r->status))
        return;
    overridden = apr_table_get(r->notes, "proxy-error-override") != NULL;

    if (overridden && rq->cookie) {
        if (rq->cookie_placed)
            gwelb_drop_cookie(r, r->headers_out, rq->cookie);
        apr_table_addn(r->err_headers_out, "Set-Cookie", rq->cookie);
        rq->cookie_placed = 1;
    } else if (!overridden && !r->sent_bodyct && ap_is_HTTP_ERROR(r->status) &&
               r->status != HTTP_NOT_MODIFIED) {
        rq->served = NULL;
        rq->served_route = NULL;
        rq->cookie = NULL;
        gwelb_set_env(r, rq, NULL);
    }
}

/* Ordered before mod_proxy_balancer's, which answers this RUN_FIRST hook.
 * mod_proxy runs it once per request, after the last attempt, also when
 * no attempt got a member: the one place that counts each request once. */
int gwelb_post_request(proxy_worker *worker, proxy_balancer *balancer,
                       request_rec *r, proxy_server_conf *conf)
{
    gwelb_request *rq =
        ap_get_module_config(r->request_config, &gwe_lb_module);

    if (!rq)
        return DECLINED;
    /* no scheme handler ran after the last finder call (no member) */
    if (rq->env_due)
        gwelb_set_env(r, rq, rq->served_route);
    /* once headers went out, the member's response went out as it was */
    if (rq->served && !r->sent_bodyct)
        gwelb_settle(r, rq);
    gwelb_status_count(rq);
    return DECLINED;
}
