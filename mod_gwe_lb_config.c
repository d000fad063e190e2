/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb_config.c - the GWELB directives and how their sections merge
 * (README 3).
 */
#include "mod_gwe_lb.h"

#include "apr_strings.h"
#include "http_config.h"
#include "http_log.h"

/* ======================================================================== */
/* Configuration                                                            */
/* ======================================================================== */

APLOG_USE_MODULE(gwe_lb); /* log lines carry the module name */

/* A server's own defaults (dir NULL) get no configuration: a GWELB
 * directive there is refused, and httpd then has nothing of ours to merge
 * into a <Proxy> section on every request through it. */
void *gwelb_create_balancer_conf(apr_pool_t *p, char *dir)
{
    gwelb_balancer_conf *bc;

    if (!dir)
        return NULL;
    bc = apr_pcalloc(p, sizeof(*bc));

    bc->nparams = GWELB_UNSET;
    gwe_cookie_attrs_init(&bc->cookie);
    bc->separator = GWELB_UNSET;
    bc->sticky_force = GWELB_UNSET;
    bc->cookie_from_param = GWELB_UNSET;
    bc->fallback = GWELB_UNSET;
    return bc;
}

static int gwelb_conf_sets_anything(const gwelb_balancer_conf *bc)
{
    return bc->nparams != GWELB_UNSET || bc->cookie_name || bc->nkeys ||
           bc->separator != GWELB_UNSET || bc->sticky_force != GWELB_UNSET ||
           bc->cookie_from_param != GWELB_UNSET || bc->fallback != GWELB_UNSET;
}

/* Inner <Proxy> sections win field by field. */
void *gwelb_merge_balancer_conf(apr_pool_t *p, void *basev, void *addv)
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
        bc->cookie_name_len = base->cookie_name_len;
        bc->cookie = base->cookie;
        bc->cookie_arg = base->cookie_arg;
    }
    if (!add->nkeys) { /* the key list is taken whole, never mixed */
        memcpy(bc->key_files, base->key_files, sizeof(bc->key_files));
        bc->nkeys = base->nkeys;
        bc->keys = base->keys;
    }
    if (add->separator == GWELB_UNSET)
        bc->separator = base->separator;
    if (add->sticky_force == GWELB_UNSET)
        bc->sticky_force = base->sticky_force;
    if (add->cookie_from_param == GWELB_UNSET)
        bc->cookie_from_param = base->cookie_from_param;
    if (add->fallback == GWELB_UNSET)
        bc->fallback = base->fallback;
    return bc;
}

void *gwelb_create_server_conf(apr_pool_t *p, server_rec *s)
{
    gwelb_server_conf *sc = apr_pcalloc(p, sizeof(*sc));

    sc->sections = apr_array_make(p, 2, sizeof(gwelb_section));
    return sc;
}

/* Sections are checked once, where they were written: a virtual host
 * keeps its own list, never the main server's. */
void *gwelb_merge_server_conf(apr_pool_t *p, void *basev, void *addv)
{
    return addv;
}

/* A balancer is ours when it names a route source. */
int gwelb_is_active(const gwelb_balancer_conf *bc)
{
    return bc && (bc->nparams > 0 || bc->cookie_name);
}

char gwelb_separator(const gwelb_balancer_conf *bc)
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
    bc->cookie_name_len = strlen(name);
    bc->cookie_arg = joined;
    return NULL;
}

/* Given 1 to 8 times; the first signs, every one verifies (README 4.8). */
static const char *set_cookie_key(cmd_parms *cmd, void *mconfig,
                                  const char *arg)
{
    gwelb_balancer_conf *bc = mconfig;
    const char *err, *path;
    int i;

    if ((err = gwelb_in_balancer(cmd, bc)))
        return err;
    if (!(path = ap_server_root_relative(cmd->pool, arg)))
        return apr_psprintf(cmd->pool, "GWELBCookieKey: bad path '%s'", arg);
    for (i = 0; i < bc->nkeys; i++)
        if (!strcmp(bc->key_files[i], path))
            return apr_psprintf(cmd->pool,
                                "GWELBCookieKey %s is given twice for %s",
                                path, cmd->path);
    if (bc->nkeys == GWE_SIGNED_KEYS_MAX)
        return apr_psprintf(cmd->pool,
                            "GWELBCookieKey is given more than %d times for "
                            "%s; remove the keys no cookie needs any more",
                            GWE_SIGNED_KEYS_MAX, cmd->path);
    bc->key_files[bc->nkeys++] = path;
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

static const char *const gwelb_fallback_names[] = {"none", "client-ip"};

static const char *set_fallback(cmd_parms *cmd, void *mconfig, const char *arg)
{
    gwelb_balancer_conf *bc = mconfig;
    const char *err = gwelb_in_balancer(cmd, bc);
    int v;

    if (err)
        return err;
    if (!strcasecmp(arg, "none"))
        v = GWELB_FALLBACK_NONE;
    else if (!strcasecmp(arg, "client-ip"))
        v = GWELB_FALLBACK_CLIENT_IP;
    else
        return apr_psprintf(cmd->pool,
                            "GWELBFallback: '%s' is not allowed; use none "
                            "(the lbmethod picks) or client-ip (the client "
                            "address picks)",
                            arg);
    if (bc->fallback != GWELB_UNSET && bc->fallback != v)
        return gwelb_conflict(cmd, gwelb_fallback_names[bc->fallback],
                              gwelb_fallback_names[v]);
    bc->fallback = v;
    return NULL;
}

const command_rec gwelb_cmds[] = {
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
                     "partitioned, maxidle, maxlife, opaque, indirect, "
                     "nocache, issue, legacy."),
    AP_INIT_TAKE1("GWELBCookieKey", set_cookie_key, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "A file of at least 32 random bytes, readable by its owner "
                  "only; given 1 to 8 times: the first key signs the route "
                  "cookie, every key verifies it."),
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
    AP_INIT_TAKE1("GWELBFallback", set_fallback, NULL, RSRC_CONF | ACCESS_CONF,
                  "none (default): a request without a usable route is "
                  "balanced by the lbmethod; client-ip: by rendezvous "
                  "hashing of the client address over the members the "
                  "lbmethod could pick."),
    {NULL}};
