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
 * score of sticky/ (gwe_rendezvous_score_hashed, gwe_rendezvous_far,
 * gwe_rendezvous_beats_exact).
 *
 * Cost (issue 14): the address is hashed once per pick; each member's
 * route half of the hash is kept per child (gwelb_route_keys) and only
 * checked against the route's bytes, so a member costs a check, a mix
 * and a compare.
 */
#include "mod_gwe_lb.h"

#include "http_log.h"

APLOG_USE_MODULE(gwe_lb); /* log lines carry the module name */

/* The walk's state: the address's half of the hash, and the best so far
 * (its hash, weight and, once computed, draw). */
typedef struct gwelb_fallback_walk {
    uint64_t addr_hash;
    gwelb_route_key *keys; /* this process's route keys; NULL: none */
    unsigned nkeys;
    int credit;   /* count the pick as byrequests counts its own */
    int credited; /* the loadfactors credited so far */
    proxy_worker *best;
    gwe_rendezvous_score best_score;
} gwelb_fallback_walk;

/* The rare paths stay out of the callback, so that the common one keeps
 * its values in registers (issue 14: the pick's instructions). */
#if defined(__GNUC__)
#define GWELB_COLD __attribute__((noinline, cold))
#define GWELB_INLINE inline __attribute__((always_inline))
#else
#define GWELB_COLD
#define GWELB_INLINE inline
#endif

/*
 * What a member is hashed by: its route, so the pick does not depend on
 * the order of the members or on their URLs; a member without route= has
 * only its URL to call its own.
 */
static gwe_slice gwelb_member_slice(const proxy_worker_shared *s)
{
    gwe_slice k;

    k.ptr = s->route;
    k.len = strnlen(s->route, sizeof(s->route));
    if (!k.len) {
        k.ptr = s->name_ex;
        k.len = strnlen(s->name_ex, sizeof(s->name_ex));
    }
    return k;
}

/*
 * The route half of a member's hash when its route key is not ready: its
 * slot first used, or last used by another member; no route (the URL is
 * hashed every time); no slot.  A slot names its member (rk->s) only
 * while its key holds that member's nonempty route, so the common case
 * needs no other check than the key's words (a route emptied since fails
 * it: its first byte is 0 now).
 */
static GWELB_COLD uint64_t gwelb_member_key_slow(const gwelb_fallback_walk *fw,
                                                 const proxy_worker_shared *s)
{
    gwe_slice k;

    if (s->route[0] && (unsigned)s->index < fw->nkeys) {
        gwelb_route_key *rk = &fw->keys[s->index];
        uint64_t h =
            gwe_rendezvous_key_load(&rk->key, s->route, sizeof(s->route));

        if (rk->key.len) {
            rk->s = s;
            return h;
        }
        rk->s = NULL; /* emptied as we read it */
    }
    k = gwelb_member_slice(s);
    return gwe_rendezvous_route_hash(k.ptr, k.len);
}

/* The member's route key when it holds the member's route as it is now,
 * else NULL (a route is hashed again only when its bytes changed). */
static inline const gwelb_route_key *
gwelb_ready_key(const gwelb_fallback_walk *fw, const proxy_worker_shared *s)
{
    const gwelb_route_key *rk;

    if ((unsigned)s->index >= fw->nkeys ||
        (rk = &fw->keys[s->index])->s != s ||
        !gwe_rendezvous_key_holds(&rk->key, s->route))
        return NULL;
    return rk;
}

/*
 * The route half of a member's hash.  A route is hashed again only when
 * its bytes changed (balancer-manager can edit it at any time):
 * gwe_rendezvous_key_of compares it with the copy it hashed, one 8-byte
 * word per 8 bytes of route.
 */
static inline uint64_t gwelb_member_key(const gwelb_fallback_walk *fw,
                                        const proxy_worker_shared *s)
{
    const gwelb_route_key *rk = gwelb_ready_key(fw, s);

    return rk ? rk->key.hash : gwelb_member_key_slow(fw, s);
}

/* The member's loadfactor (httpd keeps it multiplied by 100; only the
 * ratios matter).  It is at least 1 in httpd; never 0 here either. */
static inline unsigned gwelb_member_weight(const proxy_worker_shared *s)
{
    return s->lbfactor > 0 ? (unsigned)s->lbfactor : 1u;
}

/* The exact comparison (unequal weights, near ties, equal scores), and
 * the walk handing us a best we did not pick. */
static int gwelb_beats_exact(gwelb_fallback_walk *fw, proxy_worker *current,
                             proxy_worker *prev_best, gwe_rendezvous_score *sc)
{
    gwe_slice key = gwelb_member_slice(current->s), best_key;

    if (prev_best != fw->best) {
        fw->best = prev_best;
        fw->best_score = gwe_rendezvous_score_hashed(
            gwelb_member_key(fw, prev_best->s), fw->addr_hash,
            gwelb_member_weight(prev_best->s));
    }
    best_key = gwelb_member_slice(prev_best->s);
    return gwe_rendezvous_beats_exact(sc, &key, &fw->best_score, &best_key);
}

/* byrequests' and bybusyness' own callbacks credit every member the walk
 * offers; the winner pays the sum afterwards (gwelb_fallback_member). */
static inline void gwelb_credit(gwelb_fallback_walk *fw,
                                proxy_worker_shared *s)
{
    s->lbstatus += s->lbfactor;
    fw->credited += s->lbfactor;
}

/* The callback for any member and any pair: where the common case below
 * hands over everything else. */
static GWELB_COLD int gwelb_fallback_is_best_slow(proxy_worker *current,
                                                  proxy_worker *prev_best,
                                                  gwelb_fallback_walk *fw)
{
    proxy_worker_shared *s = current->s;
    gwe_rendezvous_score sc = gwe_rendezvous_score_hashed(
        gwelb_member_key(fw, s), fw->addr_hash, gwelb_member_weight(s));

    if (fw->credit)
        gwelb_credit(fw, s);
    if (prev_best && !gwelb_beats_exact(fw, current, prev_best, &sc))
        return 0;
    fw->best = current;
    fw->best_score = sc; /* with its draw, if computed */
    return 1;
}

/*
 * proxy_is_best_callback_fn_t: is `current` better than `prev_best`?
 * Runs once per member the walk offers, so it answers the common case
 * itself without a call (which keeps it free of a stack frame): a member
 * whose route key holds and whose loadfactor is positive, when it is the
 * first or has the best's weight and a hash far from the best's.  Made
 * twice, with and without the credit (a constant, so no test per member).
 */
static GWELB_INLINE int gwelb_is_best(proxy_worker *current,
                                      proxy_worker *prev_best,
                                      gwelb_fallback_walk *fw,
                                      const int credit)
{
    proxy_worker_shared *s = current->s;
    const gwelb_route_key *rk = gwelb_ready_key(fw, s);
    uint64_t h, best;

    if (!rk)
        return gwelb_fallback_is_best_slow(current, prev_best, fw);
    h = gwe_rendezvous_mix(rk->key.hash ^ fw->addr_hash) | 1;
    if (prev_best) {
        /* the best's weight is positive, so an equal one is too */
        if (prev_best != fw->best ||
            (unsigned)s->lbfactor != fw->best_score.weight)
            return gwelb_fallback_is_best_slow(current, prev_best, fw);
        best = fw->best_score.hash;
        if (h < best) {
            if (!gwe_rendezvous_far(best, h))
                return gwelb_fallback_is_best_slow(current, prev_best, fw);
            if (credit)
                gwelb_credit(fw, s);
            return 0;
        }
        if (!gwe_rendezvous_far(h, best))
            return gwelb_fallback_is_best_slow(current, prev_best, fw);
    } else if (s->lbfactor <= 0)
        return gwelb_fallback_is_best_slow(current, prev_best, fw);
    if (credit)
        gwelb_credit(fw, s);
    fw->best = current;
    fw->best_score.hash = h;
    fw->best_score.weight = (unsigned)s->lbfactor;
    fw->best_score.draw = 0;
    return 1;
}

static int gwelb_fallback_is_best_credit(proxy_worker *current,
                                         proxy_worker *prev_best, void *baton)
{
    return gwelb_is_best(current, prev_best, baton, 1);
}

static int gwelb_fallback_is_best(proxy_worker *current,
                                  proxy_worker *prev_best, void *baton)
{
    return gwelb_is_best(current, prev_best, baton, 0);
}

/*
 * The member the client address r->useragent_ip belongs to among the
 * members the lbmethod could pick, or NULL when there is none (or no
 * address).  mod_remoteip, when loaded, has already put the address it
 * trusts there; we parse no forwarding header.  Called with the
 * balancer's lock held, like any finder.
 *
 * The pick counts for the lbmethod's fairness as its own pick would: an
 * lbmethod with an updatelbstatus is told the member; otherwise the
 * members the walk offered are credited their loadfactor and the one
 * picked is debited the sum, in the walk itself, which is what
 * byrequests and bybusyness do with their own picks (bytraffic reads no
 * lbstatus).  A second pass over the members would credit the members
 * of other lbsets, drained members and unneeded hot standbys too.
 */
proxy_worker *gwelb_fallback_member(const gwelb_request *rq,
                                    const proxy_balancer_method *inner,
                                    request_rec *r)
{
    proxy_balancer *b = rq->balancer;
    gwelb_fallback_walk fw;
    proxy_worker *w;

    if (!r->useragent_ip)
        return NULL;
    fw.addr_hash =
        gwe_rendezvous_addr_hash(r->useragent_ip, strlen(r->useragent_ip));
    fw.keys = rq->route_keys ? rq->route_keys->members : NULL;
    fw.nkeys = rq->route_keys ? (unsigned)rq->route_keys->n : 0;
    fw.credit = !inner->updatelbstatus;
    fw.credited = 0;
    fw.best = NULL;
    w = ap_proxy_balancer_get_best_worker(
        b, r,
        fw.credit ? gwelb_fallback_is_best_credit : gwelb_fallback_is_best,
        &fw);
    if (w && fw.credit)
        w->s->lbstatus -= fw.credited;
    else if (w)
        inner->updatelbstatus(b, w, r->server);
    return w;
}
