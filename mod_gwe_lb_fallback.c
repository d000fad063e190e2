/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * mod_gwe_lb_fallback.c - GWELBFallback client-ip: the member a request
 * without a usable route goes to, by rendezvous hashing of the client
 * address (README 4.7).
 *
 * Which members compete is mod_proxy_balancer's decision, not ours: the
 * walk over the members is ap_proxy_balancer_get_best_worker(), the one
 * byrequests, bytraffic and bybusyness use, so the lowest lbset with a
 * usable member, drained members left out, spares standing in for
 * unusable members, hot standbys only when no other member is usable and
 * the retry of errored members are exactly the lbmethod's.  We only answer
 * its "is this member better than the best so far" with the rendezvous
 * score of sticky/ (gwe_rendezvous_score_of, gwe_rendezvous_beats).
 */
#include "mod_gwe_lb.h"

#include "http_log.h"

APLOG_USE_MODULE(gwe_lb); /* log lines carry the module name */

/* The walk's state: the address, and the score of the best so far. */
typedef struct gwelb_fallback_walk {
    const char *addr;
    size_t addr_len;
    proxy_worker *best;
    gwe_rendezvous_score best_score;
    gwe_slice best_key;
} gwelb_fallback_walk;

/*
 * What a member is hashed by: its route, so the pick does not depend on
 * the order of the members or on their URLs; a member without route= has
 * only its URL to call its own.
 */
static gwe_slice gwelb_member_key(const proxy_worker *w)
{
    gwe_slice k;

    k.ptr = w->s->route;
    k.len = strnlen(w->s->route, sizeof(w->s->route));
    if (!k.len) {
        k.ptr = w->s->name_ex;
        k.len = strnlen(w->s->name_ex, sizeof(w->s->name_ex));
    }
    return k;
}

/* The member's loadfactor (httpd keeps it multiplied by 100; only the
 * ratios matter).  It is at least 1 in httpd; never 0 here either. */
static gwe_rendezvous_score gwelb_member_score(const gwelb_fallback_walk *fw,
                                               const proxy_worker *w,
                                               gwe_slice *key)
{
    *key = gwelb_member_key(w);
    return gwe_rendezvous_score_of(
        key->ptr, key->len, fw->addr, fw->addr_len,
        w->s->lbfactor > 0 ? (unsigned)w->s->lbfactor : 1u);
}

/* proxy_is_best_callback_fn_t: is `current` better than `prev_best`? */
static int gwelb_fallback_is_best(proxy_worker *current,
                                  proxy_worker *prev_best, void *baton)
{
    gwelb_fallback_walk *fw = baton;
    gwe_slice key;
    gwe_rendezvous_score sc = gwelb_member_score(fw, current, &key);

    /* the walk keeps whichever member we said yes to; recompute in case it
     * ever hands us another one */
    if (prev_best && prev_best != fw->best) {
        fw->best = prev_best;
        fw->best_score = gwelb_member_score(fw, prev_best, &fw->best_key);
    }
    if (prev_best &&
        !gwe_rendezvous_beats(&sc, &key, &fw->best_score, &fw->best_key))
        return 0;
    fw->best = current;
    fw->best_score = sc;
    fw->best_key = key;
    return 1;
}

/*
 * The member the client address r->useragent_ip belongs to among the
 * members the lbmethod could pick, or NULL when there is none (or no
 * address).  mod_remoteip, when loaded, has already put the address it
 * trusts there; we parse no forwarding header.  Called with the
 * balancer's lock held, like any finder.
 */
proxy_worker *gwelb_fallback_member(proxy_balancer *b, request_rec *r)
{
    gwelb_fallback_walk fw;

    if (!r->useragent_ip)
        return NULL;
    fw.addr = r->useragent_ip;
    fw.addr_len = strlen(r->useragent_ip);
    fw.best = NULL;
    return ap_proxy_balancer_get_best_worker(b, r, gwelb_fallback_is_best,
                                             &fw);
}
