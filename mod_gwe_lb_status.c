/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb_status.c - the counters of every GWELB balancer and its
 * members, and their section on mod_status's server-status page (README
 * 7.13).
 *
 * Where the counters live.  One anonymous shared memory segment (apr_shm)
 * per balancer, made by the parent in post_config before it forks, so
 * every child of every MPM maps the same bytes.  We chose apr_shm over
 * mod_slotmem_shm's "shm" provider because the provider destroys its
 * segments at every restart, graceful too (its file names carry the
 * generation); its "persist" type only copies them to a file and back, so
 * a request an old child finishes after that copy is lost.  Our segments
 * are kept in a registry hung on the process pool, which outlives every
 * restart (the module itself is unloaded and loaded again): a graceful
 * restart hands the new children the very segment the old children are
 * still counting into, and no count is lost.
 *
 * Which segment a balancer gets.  Its key is its name, prefixed with its
 * virtual host when the virtual host defined the balancer itself; a
 * virtual host's inherited copy of a main-server balancer (the same
 * members array, README 7.2) counts into the main server's segment.  A
 * reload that keeps a balancer's name, member names (in slot order) and
 * slot count (members + growth) keeps its segment; one that changes them
 * gets a new segment with each remaining member's counts copied by member
 * name; a balancer added in a reload starts at zero; a removed one's
 * segment is freed.
 *
 * The request path (gwelb_status_count, from post_request) finds the
 * segment in the balancer's configuration and adds with APR atomics into
 * the serving member's slot, found by the worker's own shm index: no lock,
 * no lookup, no allocation, a few instructions per counter.
 */
#include "mod_gwe_lb.h"

#include "apr_atomic.h"
#include "apr_shm.h"
#include "apr_strings.h"
#include "ap_mpm.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "mod_status.h"

APLOG_USE_MODULE(gwe_lb); /* log lines carry the module name */

/* One member's counters; `name` (its worker name when the segment was
 * made) lets a reload find the member's counts again. */
typedef struct gwelb_member_stats {
    volatile apr_uint64_t n[GWELB_MC_COUNT];
    char name[PROXY_WORKER_EXT_NAME_SIZE];
} gwelb_member_stats;

/* A balancer's segment: its own counters, then one slot per member shm
 * slot (b->max_workers, growth included). */
struct gwelb_stats {
    volatile apr_uint64_t n[GWELB_BC_COUNT];
    apr_uint32_t members;
    apr_uint32_t reserved;
    gwelb_member_stats member[];
};

/* The registry of segments, on the process pool (see the top). */
typedef struct gwelb_stats_seg {
    struct gwelb_stats_seg *next;
    const char *key;
    apr_shm_t *shm;
    gwelb_stats *st;
    unsigned generation; /* the last configuration that used it */
} gwelb_stats_seg;

typedef struct gwelb_stats_registry {
    gwelb_stats_seg *segs;
    unsigned generation;
} gwelb_stats_registry;

#define GWELB_STATS_REGISTRY "mod_gwe_lb.c:stats"

/* What server-status shows, in configuration order; built in post_config
 * (pconf), read-only in the children. */
typedef struct gwelb_status_entry {
    gwelb_stats *st;
    proxy_balancer *balancer; /* the first copy seen: its members' names */
    server_rec *s;            /* the server that defined it */
} gwelb_status_entry;

static apr_array_header_t *gwelb_status_list; /* of gwelb_status_entry */

static const char *const gwelb_member_counter_names[GWELB_MC_COUNT] = {
    "Param", "Cookie", "Fallback", "Lbmethod", "Moved", "Issued", "Refreshed"};
static const char *const gwelb_balancer_counter_names[GWELB_BC_COUNT] = {
    "Forged", "Expired", "Legacy", "Unknown"};

/* ======================================================================== */
/* The request path                                                         */
/* ======================================================================== */

static gwelb_member_stats *gwelb_member_slot(gwelb_stats *st,
                                             const proxy_worker *w)
{
    int i = w->s->index;

    return i >= 0 && (apr_uint32_t)i < st->members ? &st->member[i] : NULL;
}

void gwelb_status_bump_member(const gwelb_request *rq, const proxy_worker *w,
                              gwelb_member_counter c)
{
    gwelb_member_stats *m;

    if (rq->conf->stats && w && (m = gwelb_member_slot(rq->conf->stats, w)))
        apr_atomic_inc64(&m->n[c]);
}

void gwelb_status_bump_balancer(const gwelb_request *rq,
                                gwelb_balancer_counter c)
{
    if (rq->conf->stats)
        apr_atomic_inc64(&rq->conf->stats->n[c]);
}

/*
 * Once per request, after its last attempt (post_request): the member that
 * served, by how it was chosen; the requested member when another served;
 * the cookie that went out; a value that named no member.  rq->served is
 * NULL when no member answered (gwelb_post_request clears it).
 */
void gwelb_status_count(const gwelb_request *rq)
{
    static const gwelb_member_counter by_pick[] = {
        [GWELB_PICK_PARAM] = GWELB_MC_PARAM,
        [GWELB_PICK_COOKIE] = GWELB_MC_COOKIE,
        [GWELB_PICK_FALLBACK] = GWELB_MC_FALLBACK,
        [GWELB_PICK_LBMETHOD] = GWELB_MC_LBMETHOD};
    gwelb_stats *st = rq->conf->stats;
    gwelb_member_stats *m;

    if (!st)
        return;
    if (rq->res.unknown)
        apr_atomic_inc64(&st->n[GWELB_BC_UNKNOWN]);
    if (!rq->served || !(m = gwelb_member_slot(st, rq->served)))
        return;
    if (rq->picked != GWELB_PICK_NONE)
        apr_atomic_inc64(&m->n[by_pick[rq->picked]]);
    if (rq->cookie)
        apr_atomic_inc64(
            &m->n[rq->cookie_refresh ? GWELB_MC_REFRESHED : GWELB_MC_ISSUED]);
    /* a member found by its route shares the requested route's string */
    if (rq->requested && rq->served_route &&
        rq->requested != rq->served_route &&
        strcmp(rq->requested, rq->served_route) && rq->res.route >= 0 &&
        rq->res.route < rq->balancer->workers->nelts) {
        proxy_worker *asked = APR_ARRAY_IDX(rq->balancer->workers,
                                            rq->res.route, proxy_worker *);
        if ((m = gwelb_member_slot(st, asked)))
            apr_atomic_inc64(&m->n[GWELB_MC_MOVED]);
    }
}

/* ======================================================================== */
/* Segments (post_config, in the parent)                                    */
/* ======================================================================== */

static gwelb_stats_registry *gwelb_registry(process_rec *proc)
{
    void *reg = NULL;

    apr_pool_userdata_get(&reg, GWELB_STATS_REGISTRY, proc->pool);
    if (!reg) {
        reg = apr_pcalloc(proc->pool, sizeof(gwelb_stats_registry));
        apr_pool_userdata_set(reg, GWELB_STATS_REGISTRY, apr_pool_cleanup_null,
                              proc->pool);
    }
    return reg;
}

static apr_size_t gwelb_stats_size(apr_uint32_t members)
{
    return sizeof(gwelb_stats) + members * sizeof(gwelb_member_stats);
}

static int gwelb_slots(const proxy_balancer *b)
{
    return b->max_workers > b->workers->nelts ? b->max_workers
                                              : b->workers->nelts;
}

/* The segment still fits b: as many slots, each configured member's name
 * in its slot. */
static int gwelb_stats_fit(const gwelb_stats *st, const proxy_balancer *b)
{
    proxy_worker **w = (proxy_worker **)b->workers->elts;
    int i;

    if (st->members != (apr_uint32_t)gwelb_slots(b))
        return 0;
    for (i = 0; i < b->workers->nelts; i++) {
        int k = w[i]->s->index;
        if (k < 0 || (apr_uint32_t)k >= st->members ||
            strcmp(st->member[k].name, w[i]->s->name_ex))
            return 0;
    }
    return 1;
}

/* Names st's slots after b's members and gives each the counts `old`
 * (NULL: none) holds for a member of the same name. */
static void gwelb_stats_fill(gwelb_stats *st, const proxy_balancer *b,
                             gwelb_stats *old)
{
    proxy_worker **w = (proxy_worker **)b->workers->elts;
    apr_uint32_t j;
    int i, c;

    for (i = 0; i < b->workers->nelts; i++) {
        const char *name = w[i]->s->name_ex;
        int k = w[i]->s->index;

        if (k < 0 || (apr_uint32_t)k >= st->members)
            continue;
        apr_cpystrn(st->member[k].name, name, sizeof(st->member[k].name));
        for (j = 0; old && j < old->members; j++)
            if (*old->member[j].name && !strcmp(old->member[j].name, name))
                break;
        for (c = 0; old && j < old->members && c < GWELB_MC_COUNT; c++)
            st->member[k].n[c] = apr_atomic_read64(&old->member[j].n[c]);
    }
    for (c = 0; old && c < GWELB_BC_COUNT; c++)
        st->n[c] = apr_atomic_read64(&old->n[c]);
}

/* A fresh segment for b, with the counts `old` holds for b's members. */
static gwelb_stats_seg *gwelb_stats_make(process_rec *proc, server_rec *s,
                                         const char *key,
                                         const proxy_balancer *b,
                                         gwelb_stats *old)
{
    apr_uint32_t slots = (apr_uint32_t)gwelb_slots(b);
    gwelb_stats_seg *seg = apr_pcalloc(proc->pool, sizeof(*seg));
    apr_status_t rv;

    rv = apr_shm_create(&seg->shm, gwelb_stats_size(slots), NULL, proc->pool);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     GWELB_LOGNO(00201) "%s: no shared memory for the "
                                        "server-status counters; they stay "
                                        "empty",
                     b->s->name);
        return NULL;
    }
    seg->st = apr_shm_baseaddr_get(seg->shm);
    memset(seg->st, 0, gwelb_stats_size(slots));
    seg->st->members = slots;
    seg->key = apr_pstrdup(proc->pool, key);
    gwelb_stats_fill(seg->st, b, old);
    return seg;
}

/* The segment for key, kept, remade to fit b, or new. */
static gwelb_stats *gwelb_stats_for(gwelb_stats_registry *reg,
                                    process_rec *proc, server_rec *s,
                                    const char *key, const proxy_balancer *b)
{
    gwelb_stats_seg **at, *seg;

    for (at = &reg->segs; *at; at = &(*at)->next)
        if (!strcmp((*at)->key, key))
            break;
    if (*at && (*at)->generation == reg->generation)
        return (*at)->st; /* an inherited copy met again */
    if (*at && gwelb_stats_fit((*at)->st, b)) {
        (*at)->generation = reg->generation;
        return (*at)->st;
    }
    if (!(seg = gwelb_stats_make(proc, s, key, b, *at ? (*at)->st : NULL)))
        return NULL;
    seg->generation = reg->generation;
    if (*at) { /* old children keep their own mapping of the old one */
        seg->next = (*at)->next;
        apr_shm_destroy((*at)->shm);
        *at = seg;
    } else
        *at = seg;
    return seg->st;
}

/* Frees the segments of balancers gone from the configuration. */
static void gwelb_stats_sweep(gwelb_stats_registry *reg)
{
    gwelb_stats_seg **at = &reg->segs;

    while (*at) {
        if ((*at)->generation != reg->generation) {
            apr_shm_destroy((*at)->shm);
            *at = (*at)->next;
        } else
            at = &(*at)->next;
    }
}

static proxy_server_conf *gwelb_proxy_conf_of(server_rec *s)
{
    return ap_get_module_config(s->module_config, &proxy_module);
}

/* The main server's balancer that b is a virtual host's copy of, or NULL. */
static proxy_balancer *gwelb_inherited_from(server_rec *main_s, server_rec *s,
                                            const proxy_balancer *b)
{
    proxy_server_conf *mc = gwelb_proxy_conf_of(main_s);
    proxy_balancer *mb = (proxy_balancer *)mc->balancers->elts;
    int i;

    if (s == main_s)
        return NULL;
    for (i = 0; i < mc->balancers->nelts; i++, mb++)
        if (mb->workers == b->workers && !strcmp(mb->s->name, b->s->name))
            return mb;
    return NULL;
}

/* "host:port" of a virtual host, as its heading on the page shows it. */
static const char *gwelb_vhost_id(apr_pool_t *p, server_rec *s)
{
    return apr_psprintf(p, "%s:%u",
                        s->server_hostname ? s->server_hostname : "",
                        s->addrs ? (unsigned)s->addrs->host_port : 0);
}

/* The prefix of the keys of a server's own balancers: "" for the main
 * server, "host:port" for a virtual host, "host:port#2"... for the next
 * virtual hosts of the same name and port, in configuration order. */
static const char *gwelb_key_prefix(apr_hash_t *seen, server_rec *main_s,
                                    server_rec *s, apr_pool_t *p)
{
    const char *id, *vid;
    int n = 1;

    if (s == main_s)
        return "";
    id = vid = gwelb_vhost_id(p, s);
    while (apr_hash_get(seen, vid, APR_HASH_KEY_STRING))
        vid = apr_psprintf(p, "%s#%d", id, ++n);
    apr_hash_set(seen, vid, APR_HASH_KEY_STRING, s);
    return vid;
}

/* The list lives in pconf: gone with it at a restart. */
static apr_status_t gwelb_status_forget(void *unused)
{
    gwelb_status_list = NULL;
    return APR_SUCCESS;
}

/* Binds a segment to each GWELB balancer of server s; lists those it
 * defined itself for the page. */
static void gwelb_status_bind_server(gwelb_stats_registry *reg,
                                     server_rec *main_s, server_rec *s,
                                     const char *prefix, apr_pool_t *ptemp)
{
    proxy_server_conf *pc = gwelb_proxy_conf_of(s);
    proxy_balancer *b = (proxy_balancer *)pc->balancers->elts;
    int i;

    for (i = 0; i < pc->balancers->nelts; i++, b++) {
        proxy_balancer *origin = gwelb_inherited_from(main_s, s, b);
        gwelb_status_entry *e;
        gwelb_stats *st;

        if (!gwelb_balancer_conf_of(b))
            continue;
        st = gwelb_stats_for(
            reg, main_s->process, s,
            apr_pstrcat(ptemp, origin ? "" : prefix, "|", b->s->name, NULL),
            b);
        if (!st)
            continue;
        gwelb_bind_stats(b, st);
        if (origin)
            continue; /* shown with the main server's balancer */
        e = apr_array_push(gwelb_status_list);
        e->st = st;
        e->balancer = b;
        e->s = s;
    }
}

/*
 * Binds a segment to every GWELB balancer (post_config, after
 * mod_proxy_balancer's, which sets max_workers and the members' shm
 * indexes).  Nothing to do in the first of httpd's two start-up passes:
 * mod_proxy_balancer skips it too.
 */
void gwelb_status_post_config(apr_pool_t *pconf, apr_pool_t *ptemp,
                              server_rec *main_s)
{
    apr_hash_t *seen = apr_hash_make(ptemp);
    gwelb_stats_registry *reg;
    server_rec *s;

    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG)
        return;
    reg = gwelb_registry(main_s->process);
    reg->generation++;
    gwelb_status_list = apr_array_make(pconf, 4, sizeof(gwelb_status_entry));
    apr_pool_cleanup_register(pconf, NULL, gwelb_status_forget,
                              apr_pool_cleanup_null);
    for (s = main_s; s; s = s->next)
        gwelb_status_bind_server(
            reg, main_s, s, gwelb_key_prefix(seen, main_s, s, ptemp), ptemp);
    gwelb_stats_sweep(reg);
}

/* ======================================================================== */
/* server-status                                                            */
/* ======================================================================== */

static apr_uint64_t gwelb_read(volatile apr_uint64_t *n)
{
    return apr_atomic_read64(n);
}

static void gwelb_status_auto(request_rec *r)
{
    int i, j, c;

    for (i = 0; i < gwelb_status_list->nelts; i++) {
        gwelb_status_entry *e =
            &APR_ARRAY_IDX(gwelb_status_list, i, gwelb_status_entry);
        proxy_worker **w = (proxy_worker **)e->balancer->workers->elts;

        ap_rprintf(r, "GWELBBalancer[%d]Name: %s\n", i, e->balancer->s->name);
        for (j = 0; j < e->balancer->workers->nelts; j++) {
            gwelb_member_stats *m = gwelb_member_slot(e->st, w[j]);

            ap_rprintf(r, "GWELBBalancer[%d]Member[%d]Route: %s\n", i, j,
                       w[j]->s->route);
            for (c = 0; c < GWELB_MC_COUNT; c++)
                ap_rprintf(r,
                           "GWELBBalancer[%d]Member[%d]%s: %" APR_UINT64_T_FMT
                           "\n",
                           i, j, gwelb_member_counter_names[c],
                           m ? gwelb_read(&m->n[c]) : 0);
        }
        for (c = 0; c < GWELB_BC_COUNT; c++)
            ap_rprintf(r, "GWELBBalancer[%d]%s: %" APR_UINT64_T_FMT "\n", i,
                       gwelb_balancer_counter_names[c],
                       gwelb_read(&e->st->n[c]));
    }
}

/* Counters as table cells, or as "Name N, ..." without tables
 * (server-status?notable); n NULL: zeros (a member without a slot). */
static void gwelb_status_counters(request_rec *r, int table,
                                  const char *const *names, int count,
                                  volatile apr_uint64_t *n)
{
    int c;

    for (c = 0; c < count; c++) {
        apr_uint64_t v = n ? gwelb_read(&n[c]) : 0;

        if (table)
            ap_rprintf(r, "<td>%" APR_UINT64_T_FMT "</td>", v);
        else
            ap_rprintf(r, "%s%s %" APR_UINT64_T_FMT, c ? ", " : "", names[c],
                       v);
    }
}

/* A row of column names, or nothing without tables. */
static void gwelb_status_heads(request_rec *r, int table, const char *first,
                               const char *const *names, int count)
{
    int c;

    if (!table)
        return;
    ap_rprintf(r, "<table border=\"1\">\n<tr>%s", first);
    for (c = 0; c < count; c++)
        ap_rprintf(r, "<th>%s</th>", names[c]);
    ap_rputs("</tr>\n", r);
}

/* One balancer: its heading, a row per member, its own counters. */
static void gwelb_status_html(request_rec *r, const gwelb_status_entry *e,
                              int table)
{
    proxy_worker **w = (proxy_worker **)e->balancer->workers->elts;
    int j;

    ap_rprintf(r, "<h3>%s", ap_escape_html(r->pool, e->balancer->s->name));
    if (e->s->is_virtual)
        ap_rprintf(r, " (virtual host %s)",
                   ap_escape_html(r->pool, gwelb_vhost_id(r->pool, e->s)));
    ap_rputs("</h3>\n", r);
    gwelb_status_heads(r, table, "<th>Member</th><th>Route</th>",
                       gwelb_member_counter_names, GWELB_MC_COUNT);
    for (j = 0; j < e->balancer->workers->nelts; j++) {
        gwelb_member_stats *m = gwelb_member_slot(e->st, w[j]);

        ap_rprintf(r,
                   table ? "<tr><td>%s</td><td>%s</td>" : "<p>%s, route %s: ",
                   ap_escape_html(r->pool, w[j]->s->name_ex),
                   ap_escape_html(r->pool, w[j]->s->route));
        gwelb_status_counters(r, table, gwelb_member_counter_names,
                              GWELB_MC_COUNT, m ? m->n : NULL);
        ap_rputs(table ? "</tr>\n" : "</p>\n", r);
    }
    if (table)
        ap_rputs("</table>\n", r);
    gwelb_status_heads(r, table, "", gwelb_balancer_counter_names,
                       GWELB_BC_COUNT);
    ap_rputs(table ? "<tr>" : "<p>balancer: ", r);
    gwelb_status_counters(r, table, gwelb_balancer_counter_names,
                          GWELB_BC_COUNT, e->st->n);
    ap_rputs(table ? "</tr>\n</table>\n" : "</p>\n", r);
}

static int gwelb_status_hook(request_rec *r, int flags)
{
    int i;

    if (!gwelb_status_list || !gwelb_status_list->nelts)
        return OK;
    /* members balancer-manager added since this child last looked */
    for (i = 0; i < gwelb_status_list->nelts; i++) {
        gwelb_status_entry *e =
            &APR_ARRAY_IDX(gwelb_status_list, i, gwelb_status_entry);
        gwelb_ensure_wrapped(e->balancer, r, gwelb_proxy_conf_of(e->s));
    }
    if (flags & AP_STATUS_SHORT) {
        gwelb_status_auto(r);
        return OK;
    }
    ap_rputs("<hr />\n<h2>mod_gwe_lb routing</h2>\n", r);
    for (i = 0; i < gwelb_status_list->nelts; i++)
        gwelb_status_html(
            r, &APR_ARRAY_IDX(gwelb_status_list, i, gwelb_status_entry),
            !(flags & AP_STATUS_NOTABLE));
    return OK;
}

void gwelb_status_register_hooks(apr_pool_t *p)
{
    APR_OPTIONAL_HOOK(ap, status_hook, gwelb_status_hook, NULL, NULL,
                      APR_HOOK_MIDDLE);
}
